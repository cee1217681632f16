"""im2col and col2im in NumPy (or CuPy): a convolution's windows as the rows of one matrix per group,
and the adjoint that adds such rows back into an image.

With d = 1 or 2 spatial dims, g groups, and per dim K the kernel's side, s the stride, p the padding
on the low side, dl the dilation and L the number of windows, window l reads input position
l s + k dl - p for k < K (zero where that falls outside the input, as in a padded input):

    im2col(x (N, C, *S), kernel, stride, padding, dilation, groups, out=L)
        -> rows (g, N prod L, C/g prod K),  rows[i, (n, l), (c, k)] = x[n, i C/g + c, l s + k dl - p]
    col2im(rows (g, N prod L, C/g prod K), shape=(N, C, *S), kernel, stride, padding, dilation, out=L, bias=None)
        -> y (N, C, *S),  y = bias[c] + the sum of the rows entries im2col reads from each position

(n, l) and (c, k) are C-ordered flat indices. The high side needs no padding argument: L says how
far the windows reach. With K = 1, stride 1 and no padding the two are transpositions between
channels first (N, C, *L) and per-group rows (g, N prod L, C/g): a convolution's Y = X W^T per
group becomes (N, O, *L) + bias by col2im, and its gradient (N, O, *L) becomes rows by im2col.

im2col zero-pads x as far as the windows reach (`padded_sizes`), takes the strided view of its
windows (N, C, *L, *K) (`windows`, no copy) and copies it into rows. col2im adds every entry at
its flat position in the padded image in one scatter-add (np.add.at, cupyx.scatter_add on CuPy;
the positions, `fold_places`, are computed once per geometry), then crops the padding. The
transpositions are one transposing copy each way.
"""
import functools
import math

import numpy as np

from ..shapes import check_col2im, check_im2col
from .arrays import array_module


def padded_sizes(sizes, kernel, stride, padding, dilation, out):
    """Per dim, the padded side P = max(S + p, (L - 1) s + dl (K - 1) + 1) that holds every window."""
    return tuple(max(n + p, (m - 1) * s + dl * (k - 1) + 1)
                 for n, k, s, p, dl, m in zip(sizes, kernel, stride, padding, dilation, out))


def windows(padded, kernel, stride, dilation, out):
    """The view (N, C, *out, *kernel) of padded (N, C, *P): [n, c, *l, *k] = padded[n, c, *(l s + k dl)]."""
    step = padded.strides[2:]
    strides = (padded.strides[:2] + tuple(a * s for a, s in zip(step, stride))
               + tuple(a * dl for a, dl in zip(step, dilation)))
    return array_module(padded).lib.stride_tricks.as_strided(padded, padded.shape[:2] + tuple(out) + tuple(kernel),
                                                             strides)


def padded_with(x, padding, padded, value=0.0):
    """x (N, C, *S) inside an array of shape (N, C, *padded) filled with value, from position `padding`
    on; x itself when nothing is added."""
    if tuple(padded) == tuple(x.shape[2:]):
        return x
    out = array_module(x).full(tuple(x.shape[:2]) + tuple(padded), value, dtype=x.dtype)
    out[(Ellipsis,) + tuple(slice(p, p + n) for p, n in zip(padding, x.shape[2:]))] = x
    return out


def group_rows(a, groups, d):
    """(N, C, *L, *tail) -> rows (g, N prod L, C/g prod tail), a copy: each group's channels last."""
    n, c, lengths, tail = a.shape[0], a.shape[1], a.shape[2:2 + d], a.shape[2 + d:]
    a = a.reshape((n, groups, c // groups) + a.shape[2:])
    a = a.transpose((1, 0) + tuple(range(3, 3 + d)) + (2,) + tuple(range(3 + d, 3 + d + len(tail))))
    return array_module(a).ascontiguousarray(a).reshape(groups, n * math.prod(lengths), -1)


def channels_first(rows, n, out):
    """The inverse of group_rows for rows (g, N prod out, C/g): -> (N, C, *out), contiguous."""
    groups, d = rows.shape[0], len(out)
    a = rows.reshape((groups, n) + tuple(out) + (rows.shape[2],))
    a = a.transpose((1, 0, 2 + d) + tuple(range(2, 2 + d)))
    return array_module(a).ascontiguousarray(a).reshape((n, groups * rows.shape[2]) + tuple(out))


@functools.lru_cache(maxsize=64)
def window_places(lead, padded, stride, kernel, dilation, out):
    """(starts, offsets): the flat position, in a C-ordered array of shape (lead, *padded), of each
    window's first entry, (lead prod out,) in (lead, *out) order; and each window entry's distance
    from it, sum_i k_i dl_i step_i (int32, increasing), (prod kernel,) in kernel order. Read-only."""
    steps = [math.prod(padded[i + 1:]) for i in range(len(padded))]
    starts = np.arange(lead).reshape((-1,) + (1,) * len(out)) * math.prod(padded)
    offsets = np.zeros((1,) * len(kernel), dtype=np.int32)
    for i, (m, s, k, dl, step) in enumerate(zip(out, stride, kernel, dilation, steps)):
        shape = tuple(-1 if j == i else 1 for j in range(len(out)))
        starts = starts + (np.arange(m) * (s * step)).reshape(shape)
        offsets = offsets + (np.arange(k, dtype=np.int32) * (dl * step)).reshape(shape)
    starts, offsets = starts.reshape(-1), offsets.reshape(-1)
    starts.flags.writeable = offsets.flags.writeable = False
    return starts, offsets


@functools.lru_cache(maxsize=64)
def fold_places(n, c, groups, padded, kernel, stride, dilation, out):
    """The flat position in a C-ordered (n, c, *padded) array that each entry of im2col's rows
    (g, N prod out, C/g prod K) was read from, in the rows' order. Read-only."""
    d = len(kernel)
    starts, offsets = window_places(n * c, padded, stride, kernel, dilation, out)
    places = starts.reshape((n, groups, c // groups) + tuple(out))[..., None] + offsets
    places = np.ascontiguousarray(places.transpose((1, 0) + tuple(range(3, 3 + d)) + (2, 3 + d))).reshape(-1)
    places.flags.writeable = False
    return places


def scatter_add(xp, target, index, values):
    """target[index] += values, adding up repeated indices."""
    if xp is np:
        np.add.at(target, index, values)
    else:
        import cupyx
        cupyx.scatter_add(target, index, values)


def _transposition(kernel, stride, padding, out, sizes):
    """Whether the windows are the positions themselves (K = 1, stride 1, no padding, L = S)."""
    return math.prod(kernel) == 1 and set(stride) == {1} and not any(padding) and tuple(out) == tuple(sizes)


def im2col(x, kernel, stride, padding, dilation, groups, out):
    check_im2col("im2col", x, kernel, stride, padding, dilation, groups, out)
    if _transposition(kernel, stride, padding, out, x.shape[2:]):
        return group_rows(x, groups, len(kernel))
    padded = padded_sizes(x.shape[2:], kernel, stride, padding, dilation, out)
    win = windows(padded_with(x, padding, padded), kernel, stride, dilation, out)
    return group_rows(win, groups, len(kernel))


def col2im(rows, shape, kernel, stride, padding, dilation, out, bias=None):
    check_col2im("col2im", rows, shape, kernel, stride, padding, dilation, out, bias)
    xp, d, (n, c) = array_module(rows), len(kernel), tuple(shape[:2])
    if _transposition(kernel, stride, padding, out, shape[2:]):
        y = channels_first(rows, n, out)
    else:
        padded = padded_sizes(shape[2:], kernel, stride, padding, dilation, out)
        flat = xp.zeros(n * c * math.prod(padded), dtype=rows.dtype)
        places = fold_places(n, c, rows.shape[0], padded, tuple(kernel), tuple(stride), tuple(dilation), tuple(out))
        scatter_add(xp, flat, xp.asarray(places), rows.reshape(-1))
        y = flat.reshape((n, c) + padded)[(Ellipsis,) + tuple(slice(p, p + m) for p, m in zip(padding, shape[2:]))]
    if bias is not None:
        y += bias.reshape((-1,) + (1,) * d)
    return y
