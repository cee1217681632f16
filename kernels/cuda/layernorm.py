"""Layer normalization over the last axis, forward and backward, on the GPU with Numba-CUDA.

Versions (each validated against kernels.reference before it is timed):
  forward v1   one thread per row: mean, variance, output in three loops
  forward v2   one warp per row: shifted sums s1 = sum(x - k), s2 = sum((x - k)^2) with
               k = x[row, 0] in one pass, reduced by warp shuffles, then the output pass
  backward v1  one thread per row for dx; a second kernel, one thread per column, sums
               dw = sum(dout * xhat) and db = sum(dout) over the rows
  backward v2  one block per chunk of rows: per row, the two row sums by a block reduction
               (warp shuffles, then shared memory), dx written, and dw, db accumulated into
               the block's partial row in global memory; a second pass sums the partials
Launchers take CuPy arrays (or NumPy arrays under NUMBA_ENABLE_CUDASIM=1) and a block size.
`layernorm_forward` and `layernorm_backward` are v2.
"""
import math

from numba import cuda, float32

from ..shapes import check_layernorm_backward, check_layernorm_forward
from .launch import array_module, as_rows, cdiv, check_block_size, launch
from .reductions import WARP, block_sum, warp_sum

MAX_PARTIALS = 128  # blocks (partial rows of dw, db) in backward v2


@cuda.jit(fastmath=True, cache=True)
def _forward_v1(x, w, b, eps, out, mean, rstd):
    row = cuda.grid(1)
    if row >= x.shape[0]:
        return
    C, n = x.shape[1], float32(x.shape[1])
    m = float32(0)
    for j in range(C):
        m += x[row, j]
    m /= n
    v = float32(0)
    for j in range(C):
        v += (x[row, j] - m) * (x[row, j] - m)
    r = float32(1) / math.sqrt(v / n + eps)
    for j in range(C):
        out[row, j] = (x[row, j] - m) * r * w[j] + b[j]
    mean[row] = m
    rstd[row] = r


@cuda.jit(fastmath=True, cache=True)
def _forward_v2(x, w, b, eps, out, mean, rstd):
    row = cuda.blockIdx.x * (cuda.blockDim.x // WARP) + cuda.threadIdx.x // WARP
    lane = cuda.threadIdx.x % WARP
    if row >= x.shape[0]:
        return
    C, n = x.shape[1], float32(x.shape[1])
    shift = x[row, 0]
    s1, s2 = float32(0), float32(0)
    for j in range(lane, C, WARP):
        d = x[row, j] - shift
        s1 += d
        s2 += d * d
    s1, s2 = warp_sum(s1), warp_sum(s2)
    m = shift + s1 / n
    r = float32(1) / math.sqrt(max((s2 - s1 * s1 / n) / n, float32(0)) + eps)
    for j in range(lane, C, WARP):
        out[row, j] = (x[row, j] - m) * r * w[j] + b[j]
    if lane == 0:
        mean[row] = m
        rstd[row] = r


@cuda.jit(fastmath=True, cache=True)
def _backward_dx_v1(dout, x, w, mean, rstd, dx):
    row = cuda.grid(1)
    if row >= x.shape[0]:
        return
    C, n = x.shape[1], float32(x.shape[1])
    m, r = mean[row], rstd[row]
    g_sum, gx_sum = float32(0), float32(0)
    for j in range(C):
        g = dout[row, j] * w[j]
        g_sum += g
        gx_sum += g * (x[row, j] - m) * r
    for j in range(C):
        xhat = (x[row, j] - m) * r
        dx[row, j] = r * (dout[row, j] * w[j] - g_sum / n - xhat * gx_sum / n)


@cuda.jit(fastmath=True, cache=True)
def _backward_dwdb_v1(dout, x, mean, rstd, dw, db):
    col = cuda.grid(1)
    if col >= x.shape[1]:
        return
    dw_sum, db_sum = float32(0), float32(0)
    for row in range(x.shape[0]):
        dw_sum += dout[row, col] * (x[row, col] - mean[row]) * rstd[row]
        db_sum += dout[row, col]
    dw[col] = dw_sum
    db[col] = db_sum


@cuda.jit(fastmath=True, cache=True)
def _backward_v2(dout, x, w, mean, rstd, dx, dw_parts, db_parts):
    scratch = cuda.shared.array(WARP, float32)
    part, t, threads = cuda.blockIdx.x, cuda.threadIdx.x, cuda.blockDim.x
    rows, C = x.shape
    n, parts = float32(C), cuda.gridDim.x
    for row in range(rows * part // parts, rows * (part + 1) // parts):
        m, r = mean[row], rstd[row]
        g_sum, gx_sum = float32(0), float32(0)
        for j in range(t, C, threads):
            g = dout[row, j] * w[j]
            g_sum += g
            gx_sum += g * (x[row, j] - m)
        g_mean = block_sum(g_sum, scratch) / n
        gx_mean = block_sum(gx_sum, scratch) * r / n
        for j in range(t, C, threads):
            xhat = (x[row, j] - m) * r
            dx[row, j] = r * (dout[row, j] * w[j] - g_mean - xhat * gx_mean)
            dw_parts[part, j] += dout[row, j] * xhat
            db_parts[part, j] += dout[row, j]


@cuda.jit(fastmath=True, cache=True)
def _sum_partials(dw_parts, db_parts, dw, db):
    col = cuda.grid(1)
    if col >= dw.shape[0]:
        return
    dw_sum, db_sum = float32(0), float32(0)
    for part in range(dw_parts.shape[0]):
        dw_sum += dw_parts[part, col]
        db_sum += db_parts[part, col]
    dw[col] = dw_sum
    db[col] = db_sum


def _forward(kernel, rows_per_block, x, w, b, eps, block_size):
    check_layernorm_forward("layernorm_forward", x, w, b)
    check_block_size("layernorm_forward", block_size)
    xp = array_module(x)
    rows = as_rows(xp, x)
    out = xp.empty_like(rows)
    mean = xp.empty(rows.shape[0], x.dtype)
    rstd = xp.empty(rows.shape[0], x.dtype)
    if rows.shape[0]:
        launch(kernel, cdiv(rows.shape[0], rows_per_block), block_size,
               rows, xp.ascontiguousarray(w), xp.ascontiguousarray(b), x.dtype.type(eps), out, mean, rstd)
    return out.reshape(x.shape), mean.reshape(x.shape[:-1]), rstd.reshape(x.shape[:-1])


def _backward_arrays(dout, x, w, mean, rstd, block_size, largest=1024):
    check_layernorm_backward("layernorm_backward", dout, x, w, mean, rstd)
    check_block_size("layernorm_backward", block_size, largest=largest)
    xp = array_module(x)
    flat = (as_rows(xp, dout), as_rows(xp, x), xp.ascontiguousarray(w),
            xp.ascontiguousarray(mean).reshape(-1), xp.ascontiguousarray(rstd).reshape(-1))
    return xp, flat, xp.empty(x.shape, x.dtype)


def layernorm_forward_v1(x, w, b, eps=1e-5, block_size=256):
    """(out, mean, rstd) of layer norm over the last axis; x (..., C), w, b (C,): thread per row."""
    return _forward(_forward_v1, block_size, x, w, b, eps, block_size)


def layernorm_forward_v2(x, w, b, eps=1e-5, block_size=256):
    """(out, mean, rstd) of layer norm: one warp per row, one-pass shifted statistics."""
    return _forward(_forward_v2, block_size // WARP, x, w, b, eps, block_size)


def layernorm_backward_v1(dout, x, w, mean, rstd, block_size=256):
    """(dx, dw, db) of layer norm: a thread per row for dx, a thread per column for dw and db."""
    xp, (dout2, x2, w, mean, rstd), dx = _backward_arrays(dout, x, w, mean, rstd, block_size)
    rows, C = x2.shape
    dw, db = xp.zeros(C, x.dtype), xp.zeros(C, x.dtype)
    if rows:
        launch(_backward_dx_v1, cdiv(rows, block_size), block_size, dout2, x2, w, mean, rstd, dx.reshape(rows, C))
        launch(_backward_dwdb_v1, cdiv(C, block_size), block_size, dout2, x2, mean, rstd, dw, db)
    return dx, dw, db


def layernorm_backward_v2(dout, x, w, mean, rstd, block_size=256):
    """(dx, dw, db) of layer norm: a block per chunk of rows, dw and db from per-block partials.
    At most 512 threads per block: at 1024 its registers per thread exceed the multiprocessor's
    (CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES, seen on an H200)."""
    xp, (dout2, x2, w, mean, rstd), dx = _backward_arrays(dout, x, w, mean, rstd, block_size, largest=512)
    rows, C = x2.shape
    parts = max(1, min(rows, MAX_PARTIALS))
    dw_parts, db_parts = xp.zeros((parts, C), x.dtype), xp.zeros((parts, C), x.dtype)
    dw, db = xp.empty(C, x.dtype), xp.empty(C, x.dtype)
    if rows:
        launch(_backward_v2, parts, block_size, dout2, x2, w, mean, rstd, dx.reshape(rows, C), dw_parts, db_parts)
    launch(_sum_partials, cdiv(C, block_size), block_size, dw_parts, db_parts, dw, db)
    return dx, dw, db


layernorm_forward = layernorm_forward_v2
layernorm_backward = layernorm_backward_v2
