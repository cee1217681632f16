"""Max pooling on the CPU with Numba, float32 (kernels/numpy/max_pool.py states the arguments and torch's
rule: the scan from the first input position, replacing where v > best or v is NaN).

A 1-d input is taken as 2-d with one row. The scan runs for one window position (oh, ow) at a time
over all N C planes at once: for each of the window's entries inside the input, one loop over the
planes reads that entry of every plane (a gather, stride H W, unsigned indices so that Numba adds no
negative-index wraparound) and updates each plane's best value and position with selects, not
branches. That loop vectorizes, and random data costs no mispredicted branches: a loop per window
over its K entries runs a few times slower on the small images of a CNN. The planes are split into
one block per thread when they fill more than one (threads.py); each block's scan is a function
of its own (compiled without `parallel`, which keeps its loops from vectorizing). The backward adds
each g at its index, plane by plane (windows may overlap).
"""
import math

import numpy as np
from numba import njit, prange

from ..shapes import check_float32, check_max_pool_backward, check_max_pool_forward
from .target import FASTMATH
from .threads import use_threads_for


@njit(fastmath=FASTMATH, cache=True)
def _forward_planes(flat, height, width, kernel, stride, padding, dilation, out, start, stop, values, indices):
    """values, indices (planes, OH OW) of planes start to stop of flat, the planes (H W each) one after another."""
    size = height * width
    best, at = np.empty(stop - start, flat.dtype), np.empty(stop - start, np.int64)
    for oh in range(out[0]):
        for ow in range(out[1]):
            seen = False
            for kh in range(kernel[0]):
                ih = oh * stride[0] + kh * dilation[0] - padding[0]
                if ih < 0 or ih >= height:
                    continue
                for kw in range(kernel[1]):
                    iw = ow * stride[1] + kw * dilation[1] - padding[1]
                    if iw < 0 or iw >= width:
                        continue
                    pos = ih * width + iw
                    if not seen:
                        for i in range(stop - start):
                            best[i], at[i] = flat[np.uintp((start + i) * size + pos)], pos
                        seen = True
                        continue
                    for i in range(stop - start):
                        v, b = flat[np.uintp((start + i) * size + pos)], best[i]
                        take = (v > b) | (v != v)
                        best[i] = v if take else b
                        at[i] = pos if take else at[i]
            o = oh * out[1] + ow
            for i in range(stop - start):
                values[start + i, o] = best[i] if seen else -np.inf
                indices[start + i, o] = at[i] if seen else -1


@njit(parallel=True, cache=True)
def _forward(x, height, width, kernel, stride, padding, dilation, out, blocks, values, indices):
    """x (planes, H W) -> values, indices (planes, OH OW), one block of planes per thread."""
    planes = x.shape[0]
    per_block = (planes + blocks - 1) // blocks
    flat = x.reshape(-1)
    for block in prange(blocks):
        _forward_planes(flat, height, width, kernel, stride, padding, dilation, out, block * per_block,
                        min(planes, (block + 1) * per_block), values, indices)


@njit(parallel=True, cache=True)
def _backward(g, indices, dx):
    """dx (planes, H W) += g (planes, OH OW) at indices."""
    for i in prange(g.shape[0]):
        for o in range(g.shape[1]):
            at = indices[i, o]
            if at >= 0:
                dx[i, at] += g[i, o]


def _as_2d(values, first=1):
    """A 1-d geometry's values as a 2-d one's (a first dim of one row); 2-d ones as they are."""
    return (first,) + tuple(values) if len(values) == 1 else tuple(values)


def max_pool_forward(x, kernel, stride, padding, dilation, out):
    check_max_pool_forward("max_pool_forward", x, kernel, stride, padding, dilation, out)
    check_float32("max_pool_forward", x=x)
    sizes = _as_2d(x.shape[2:])
    planes = x.shape[0] * x.shape[1]
    values = np.empty((planes, math.prod(out)), np.float32)
    indices = np.empty((planes, math.prod(out)), np.int64)
    blocks = use_threads_for(x.size)
    _forward(np.ascontiguousarray(x).reshape(planes, -1), sizes[0], sizes[1], _as_2d(kernel), _as_2d(stride),
             _as_2d(padding, 0), _as_2d(dilation), _as_2d(out), blocks, values, indices)
    shape = tuple(x.shape[:2]) + tuple(out)
    return values.reshape(shape), indices.reshape(shape)


def max_pool_backward(g, indices, shape):
    check_max_pool_backward("max_pool_backward", g, indices, shape)
    check_float32("max_pool_backward", g=g)
    planes = shape[0] * shape[1]
    dx = np.zeros((planes, math.prod(shape[2:])), np.float32)
    use_threads_for(g.size)
    _backward(np.ascontiguousarray(g).reshape(planes, -1), np.ascontiguousarray(indices).reshape(planes, -1), dx)
    return dx.reshape(tuple(shape))
