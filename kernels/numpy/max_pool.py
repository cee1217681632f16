"""Max pooling in NumPy (or CuPy): each window's max and the input position it came from, and the
gradient sent back there.

With d = 1 or 2 spatial dims and per dim K, s, p (the low side's padding), dl and L as for im2col
(kernels/numpy/im2col.py), window l holds the input positions l s + k dl - p, k < K, that lie
inside the input:

    max_pool_forward(x (N, C, *S), kernel, stride, padding, dilation, out=L)
        -> values (N, C, *L), indices (N, C, *L) int64: each window's max and its flat position in (*S)
    max_pool_backward(g (N, C, *L), indices, shape=(N, C, *S))
        -> dx (N, C, *S), each g added at its window's index

The max is torch's CPU kernel's scan: over the window's input positions in order, from best = -inf
at the first of them, replacing where v > best or v is NaN (ties keep the first, the last NaN
wins; a window of -inf keeps its first position). A window with no input position (a dilated
window can step over a short input) gives -inf at index -1, and sends no gradient back.

Here the scan runs over the prod K window entries j, each a contiguous row of all N C prod L
windows' values, from one copy of the windows of x padded with -inf: a padded entry never replaces
(-inf > best is false, and it is not NaN), so the scan needs no mask. An entry inside the input is
at flat position start_o + offset_j, which grows with j over a window's entries inside the input
(they come in the input's C order), so the scan keeps 1 + the offset,
from 1 + that of the window's first entry inside the input (0 if none), and a replacement is
at = max(at, [v > best or v is NaN] (1 + offset_j)). The offsets, the starts and each window's first
entry are computed once per geometry (`window_entries`).
"""
import functools
import math

import numpy as np

from ..shapes import check_max_pool_backward, check_max_pool_forward
from .arrays import array_module
from .im2col import padded_sizes, padded_with, scatter_add, windows


@functools.lru_cache(maxsize=64)
def window_entries(sizes, kernel, stride, padding, dilation, out):
    """(offsets, bases, first, empty), read-only, int64 (first int32): window entry j's flat input position
    is bases[o] + 1 + offsets[j] (for the entries inside the input); offsets (prod K,) in kernel order;
    bases (prod L,); first (prod L,) = 1 + the offset of the window's first entry inside
    the input, 0 where none is; and whether some window has none."""
    steps = [math.prod(sizes[i + 1:]) for i in range(len(sizes))]
    offsets, starts, inside = np.zeros(1, np.int64), np.zeros(1, np.int64), np.ones((1, 1), bool)
    for n, k, s, p, dl, m, step in zip(sizes, kernel, stride, padding, dilation, out, steps):
        at = np.arange(k)[:, None] * dl + np.arange(m)[None, :] * s - p
        offsets = (offsets[:, None] + np.arange(k) * dl * step).reshape(-1)
        starts = (starts[:, None] + (np.arange(m) * s - p) * step).reshape(-1)
        inside = (inside[:, None, :, None] & ((at >= 0) & (at < n))[None, :, None, :]).reshape(len(offsets), -1)
    found = inside.any(axis=0)
    first = np.where(found, 1 + offsets[inside.argmax(axis=0)], 0).astype(np.int32)
    bases = starts - 1
    for a in (offsets, bases, first):
        a.flags.writeable = False
    return offsets, bases, first, not found.all()


def max_pool_forward(x, kernel, stride, padding, dilation, out):
    check_max_pool_forward("max_pool_forward", x, kernel, stride, padding, dilation, out)
    xp, d, sizes = array_module(x), len(kernel), tuple(x.shape[2:])
    padded = padded_with(x, padding, padded_sizes(sizes, kernel, stride, padding, dilation, out), -np.inf)
    win = windows(padded, kernel, stride, dilation, out)
    rows = xp.ascontiguousarray(win.transpose(tuple(range(2 + d, 2 + 2 * d)) + tuple(range(2 + d))))
    rows = rows.reshape(math.prod(kernel), x.shape[0] * x.shape[1], math.prod(out))
    offsets, bases, first, empty = window_entries(sizes, tuple(kernel), tuple(stride), tuple(padding),
                                                   tuple(dilation), tuple(out))
    best = xp.full(rows.shape[1:], -np.inf, dtype=x.dtype)
    at = xp.empty(rows.shape[1:], dtype=np.int32)
    at[...] = xp.asarray(first)
    for v, offset in zip(rows, offsets.tolist()):
        xp.maximum(at, ((v > best) | (v != v)) * np.int32(offset + 1), out=at)
        xp.maximum(best, v, out=best)
    index = at + xp.asarray(bases)
    if empty:
        index[at == 0] = -1
    shape = tuple(x.shape[:2]) + tuple(out)
    return best.reshape(shape), index.reshape(shape)


@functools.lru_cache(maxsize=64)
def _row_places(rows, size):
    """(rows, 1): the flat position of each row's input position 0 in an array (rows, 1 + size). Read-only."""
    places = (np.arange(rows) * (1 + size) + 1).reshape(-1, 1)
    places.flags.writeable = False
    return places


def max_pool_backward(g, indices, shape):
    check_max_pool_backward("max_pool_backward", g, indices, shape)
    xp = array_module(g)
    rows, size = shape[0] * shape[1], math.prod(shape[2:])
    dx = xp.zeros((rows, 1 + size), dtype=g.dtype)  # column 0 takes the windows without an input position
    place = indices.reshape(rows, -1) + xp.asarray(_row_places(rows, size))
    scatter_add(xp, dx.reshape(-1), place.reshape(-1), g.reshape(-1))
    return dx[:, 1:].reshape(tuple(shape))
