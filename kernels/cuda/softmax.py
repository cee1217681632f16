"""Softmax along the last axis, forward and backward, on the GPU with Numba-CUDA.

Versions (each validated against kernels.reference before it is timed):
  forward v1   one thread per row: max, sum of exp, divide
  forward v2   one block per row: threads stride over the columns, max and sum reduced by a
               shared-memory tree (block_size a power of two)
  forward v3   one warp per row: each lane keeps an online (max, sum) pair over its columns,
               the warp merges the pairs with shuffles, then writes exp(x - max) / sum
  backward v1  one thread per row: dx = out * (dout - sum(dout * out))
  backward v2  one warp per row: the dot product by warp shuffles
Launchers take CuPy arrays (or NumPy arrays under NUMBA_ENABLE_CUDASIM=1) and a block size.
`softmax_forward` is v3 and `softmax_backward` is v2.
"""
import math

from numba import cuda, float32

from ..shapes import check_softmax_backward, check_softmax_forward
from .launch import array_module, as_rows, cdiv, check_block_size, launch
from .reductions import WARP, block_tree_reduce, online_add, warp_online_merge, warp_sum

MAX_BLOCK = 1024


@cuda.jit(fastmath=True, cache=True)
def _forward_v1(x, out):
    row = cuda.grid(1)
    if row >= x.shape[0]:
        return
    m = x[row, 0]
    for j in range(x.shape[1]):
        m = max(m, x[row, j])
    s = float32(0)
    for j in range(x.shape[1]):
        e = math.exp(x[row, j] - m)
        out[row, j] = e
        s += e
    for j in range(x.shape[1]):
        out[row, j] /= s


@cuda.jit(fastmath=True, cache=True)
def _forward_v2(x, out):
    scratch = cuda.shared.array(MAX_BLOCK, float32)
    row, t, n = cuda.blockIdx.x, cuda.threadIdx.x, cuda.blockDim.x
    m = float32(-math.inf)
    for j in range(t, x.shape[1], n):
        m = max(m, x[row, j])
    m = block_tree_reduce(m, scratch, True)
    s = float32(0)
    for j in range(t, x.shape[1], n):
        e = math.exp(x[row, j] - m)
        out[row, j] = e
        s += e
    s = block_tree_reduce(s, scratch, False)
    for j in range(t, x.shape[1], n):
        out[row, j] /= s


@cuda.jit(fastmath=True, cache=True)
def _forward_v3(x, out):
    row = cuda.blockIdx.x * (cuda.blockDim.x // WARP) + cuda.threadIdx.x // WARP
    lane = cuda.threadIdx.x % WARP
    if row >= x.shape[0]:
        return
    m, s = float32(-math.inf), float32(0)
    for j in range(lane, x.shape[1], WARP):
        m, s = online_add(m, s, x[row, j])
    m, s = warp_online_merge(m, s)
    inv = float32(1) / s
    for j in range(lane, x.shape[1], WARP):
        out[row, j] = math.exp(x[row, j] - m) * inv


@cuda.jit(fastmath=True, cache=True)
def _backward_v1(dout, out, dx):
    row = cuda.grid(1)
    if row >= out.shape[0]:
        return
    dot = float32(0)
    for j in range(out.shape[1]):
        dot += dout[row, j] * out[row, j]
    for j in range(out.shape[1]):
        dx[row, j] = out[row, j] * (dout[row, j] - dot)


@cuda.jit(fastmath=True, cache=True)
def _backward_v2(dout, out, dx):
    row = cuda.blockIdx.x * (cuda.blockDim.x // WARP) + cuda.threadIdx.x // WARP
    lane = cuda.threadIdx.x % WARP
    if row >= out.shape[0]:
        return
    dot = float32(0)
    for j in range(lane, out.shape[1], WARP):
        dot += dout[row, j] * out[row, j]
    dot = warp_sum(dot)
    for j in range(lane, out.shape[1], WARP):
        dx[row, j] = out[row, j] * (dout[row, j] - dot)


def _launch(kernel, grid_for, block_size, *arrays):
    rows = arrays[0].shape[0]
    if rows:
        launch(kernel, grid_for(rows, block_size), block_size, *arrays)


def _thread_per_row(rows, block_size):
    return cdiv(rows, block_size)


def _block_per_row(rows, block_size):
    return rows


def _warp_per_row(rows, block_size):
    return cdiv(rows, block_size // WARP)


def _forward(kernel, grid_for, x, block_size, power_of_two=False):
    check_softmax_forward("softmax_forward", x)
    check_block_size("softmax_forward", block_size, power_of_two)
    xp = array_module(x)
    rows = as_rows(xp, x)
    out = xp.empty_like(rows)
    _launch(kernel, grid_for, block_size, rows, out)
    return out.reshape(x.shape)


def _backward(kernel, grid_for, dout, out, block_size):
    check_softmax_backward("softmax_backward", dout, out)
    check_block_size("softmax_backward", block_size)
    xp = array_module(out)
    dx = xp.empty(out.shape, out.dtype)
    _launch(kernel, grid_for, block_size, as_rows(xp, dout), as_rows(xp, out), dx.reshape(-1, out.shape[-1]))
    return dx


def softmax_forward_v1(x, block_size=256):
    """softmax(x) along the last axis, x (..., C) -> (..., C): one thread per row."""
    return _forward(_forward_v1, _thread_per_row, x, block_size)


def softmax_forward_v2(x, block_size=256):
    """softmax(x) along the last axis: one block per row, shared-memory tree reductions."""
    return _forward(_forward_v2, _block_per_row, x, block_size, power_of_two=True)


def softmax_forward_v3(x, block_size=256):
    """softmax(x) along the last axis: one warp per row, online max/sum merged by shuffles."""
    return _forward(_forward_v3, _warp_per_row, x, block_size)


def softmax_backward_v1(dout, out, block_size=256):
    """dx = out * (dout - sum(dout * out)) along the last axis: one thread per row."""
    return _backward(_backward_v1, _thread_per_row, dout, out, block_size)


def softmax_backward_v2(dout, out, block_size=256):
    """Softmax backward: one warp per row, the dot product by warp shuffles."""
    return _backward(_backward_v2, _warp_per_row, dout, out, block_size)


softmax_forward = softmax_forward_v3
softmax_backward = softmax_backward_v2
