"""Layer normalization over the last axis, forward and backward, on the CPU with Numba.

Versions (each validated against kernels.reference before it is timed):
  forward v1   the oracle's passes per row (mean, then variance, then output); serial
  forward v2   fused: one pass for both statistics, as shifted sums s1 = sum(x - k) and
               s2 = sum((x - k)^2) with k = x[0] (no cancellation when |mean| >> std), one
               pass for the output; vectorized; rows split across threads
  backward v1  the oracle's formulas row by row, dw and db summed in a second loop; serial
  backward v2  fused: one pass for the two row sums that also accumulates dw, db into one
               partial row per chunk of rows (mean and rstd are known from the forward pass), one
               pass writing dx; the partial rows are summed at the end; rows in parallel
`layernorm_forward` is v2 and `layernorm_backward` is v2.
"""
import numpy as np
from numba import njit, prange

from ..shapes import check_layernorm_backward, check_layernorm_forward
from .rows import as_rows, chunk_bounds, part_count
from .target import FASTMATH
from .threads import use_threads_for


@njit(cache=True)
def _forward_rows_v1(x, w, b, eps, out, mean, rstd):
    C = x.shape[1]
    for i in range(x.shape[0]):
        m = 0.0
        for j in range(C):
            m += x[i, j]
        m /= C
        v = 0.0
        for j in range(C):
            v += (x[i, j] - m) ** 2
        r = 1 / np.sqrt(v / C + eps)
        for j in range(C):
            out[i, j] = (x[i, j] - m) * r * w[j] + b[j]
        mean[i] = m
        rstd[i] = r


@njit(fastmath=FASTMATH, parallel=True, cache=True)
def _forward_rows_v2(x, w, b, eps, out, mean, rstd):
    C = x.shape[1]
    zero, n = x.dtype.type(0), x.dtype.type(C)
    for i in prange(x.shape[0]):
        shift = x[i, 0]
        s1, s2 = zero, zero
        for j in range(C):
            d = x[i, j] - shift
            s1 += d
            s2 += d * d
        m = shift + s1 / n
        var = max((s2 - s1 * s1 / n) / n, zero)
        r = x.dtype.type(1) / np.sqrt(var + x.dtype.type(eps))
        for j in range(C):
            out[i, j] = (x[i, j] - m) * r * w[j] + b[j]
        mean[i] = m
        rstd[i] = r


@njit(cache=True)
def _backward_rows_v1(dout, x, w, mean, rstd, dx, dw, db):
    rows, C = x.shape
    for i in range(rows):
        g_mean, gx_mean = 0.0, 0.0
        for j in range(C):
            xhat = (x[i, j] - mean[i]) * rstd[i]
            g_mean += dout[i, j] * w[j] / C
            gx_mean += dout[i, j] * w[j] * xhat / C
        for j in range(C):
            xhat = (x[i, j] - mean[i]) * rstd[i]
            dx[i, j] = rstd[i] * (dout[i, j] * w[j] - g_mean - xhat * gx_mean)
    for j in range(C):
        dw[j] = 0
        db[j] = 0
        for i in range(rows):
            dw[j] += dout[i, j] * (x[i, j] - mean[i]) * rstd[i]
            db[j] += dout[i, j]


@njit(fastmath=FASTMATH, parallel=True, cache=True)
def _backward_rows_v2(dout, x, w, mean, rstd, dx, dw_parts, db_parts):
    rows, C = x.shape
    parts = dw_parts.shape[0]
    zero, n = x.dtype.type(0), x.dtype.type(C)
    for part in prange(parts):
        dw, db = dw_parts[part], db_parts[part]
        dw[:] = zero
        db[:] = zero
        start, stop = chunk_bounds(rows, parts, part)
        for i in range(start, stop):
            x_row, dout_row, dx_row = x[i], dout[i], dx[i]  # row views: LLVM vectorizes these loops better
            m, r = mean[i], rstd[i]
            g_sum, gx_sum = zero, zero
            for j in range(C):
                xhat = (x_row[j] - m) * r
                g = dout_row[j] * w[j]
                g_sum += g
                gx_sum += g * xhat
                dw[j] += dout_row[j] * xhat
                db[j] += dout_row[j]
            g_mean, gx_mean = g_sum / n, gx_sum / n
            for j in range(C):
                dx_row[j] = r * (dout_row[j] * w[j] - g_mean - (x_row[j] - m) * r * gx_mean)


def _forward(rows_kernel, x, w, b, eps):
    check_layernorm_forward("layernorm_forward", x, w, b)
    rows = as_rows(x)
    out = np.empty_like(rows)
    mean = np.empty(rows.shape[0], x.dtype)
    rstd = np.empty(rows.shape[0], x.dtype)
    use_threads_for(rows.size)
    rows_kernel(rows, np.ascontiguousarray(w), np.ascontiguousarray(b), eps, out, mean, rstd)
    return out.reshape(x.shape), mean.reshape(x.shape[:-1]), rstd.reshape(x.shape[:-1])


def _backward_arrays(dout, x, w, mean, rstd):
    check_layernorm_backward("layernorm_backward", dout, x, w, mean, rstd)
    C = x.shape[-1]
    return (as_rows(dout), as_rows(x), np.ascontiguousarray(w),
            np.ascontiguousarray(mean).reshape(-1), np.ascontiguousarray(rstd).reshape(-1),
            np.empty(x.shape, x.dtype), C)


def layernorm_forward_v1(x, w, b, eps=1e-5):
    """(out, mean, rstd) of layer norm over the last axis; x (..., C), w, b (C,): naive serial."""
    return _forward(_forward_rows_v1, x, w, b, eps)


def layernorm_forward_v2(x, w, b, eps=1e-5):
    """(out, mean, rstd) of layer norm: one-pass shifted statistics, rows in parallel."""
    return _forward(_forward_rows_v2, x, w, b, eps)


def layernorm_backward_v1(dout, x, w, mean, rstd):
    """(dx, dw, db) of layer norm over the last axis: naive serial."""
    dout2, x2, w, mean, rstd, dx, C = _backward_arrays(dout, x, w, mean, rstd)
    dw, db = np.empty(C, x.dtype), np.empty(C, x.dtype)
    _backward_rows_v1(dout2, x2, w, mean, rstd, dx.reshape(-1, C), dw, db)
    return dx, dw, db


def layernorm_backward_v2(dout, x, w, mean, rstd):
    """(dx, dw, db) of layer norm: fused row passes, dw/db as partial rows per chunk of rows."""
    dout2, x2, w, mean, rstd, dx, C = _backward_arrays(dout, x, w, mean, rstd)
    use_threads_for(x2.size)
    parts = part_count(x2.shape[0])
    dw_parts, db_parts = np.empty((parts, C), x.dtype), np.empty((parts, C), x.dtype)
    _backward_rows_v2(dout2, x2, w, mean, rstd, dx.reshape(-1, C), dw_parts, db_parts)
    return dx, dw_parts.sum(axis=0), db_parts.sum(axis=0)


layernorm_forward = layernorm_forward_v2
layernorm_backward = layernorm_backward_v2
