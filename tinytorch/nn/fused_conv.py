"""Convolutions (1-d and 2-d, transposed or not) by im2col: one Function each, next to their naive twins.

Shapes, with d spatial dims (d = 1 or 2), g groups, K the kernel's sides, s stride, dl dilation:
x (N, C, *S), weight (O, C/g, *K), y (N, O, *L). The input is zero-padded by (lo, hi) per dim to
P = S + lo + hi, and output position l of dim i reads the padded input at l s + k dl for
k < K: L = floor((P - dl (K - 1) - 1) / s) + 1.

im2col: the windows of the padded input are a strided view (N, C, *L, *K) (`windows`, no copy);
copied into rows they are, per group, a matrix X (M, C/g prod K) with M = N prod L. With the
weight as W (O/g, C/g prod K) per group and G = dL/dy as rows (M, O/g):

    forward  Y = X W^T,    dW = G^T X,    dX = G W  then col2im.

col2im is the adjoint of taking windows: each window entry is added back to the input position
it was read from, and the padding is cropped off. `fold` does it for the rows in one scatter-add
at their cached flat positions in the padded input (`window_places`: a window's first entry
plus the entry's offset); `fold_windows`, for a (N, C, *L, *K) array, by one strided slice per
kernel offset (prod K adds). Every product is the registry's kernel "matmul", one per group.

The transposed convolution with weight (C, O/g, *K) is the adjoint of the convolution from O to C
channels with that weight: its forward is the convolution's input gradient (Y = col2im(X W)
with x's rows X (M, C/g)), its input gradient the convolution's forward (dX = im2col(G) W^T),
and its weight gradient dW = X^T im2col(G).
"""
import functools
import math
from collections import namedtuple

import numpy as np

from .. import backends
from ..autograd import Function
from ..device import array_module
from ..ops.indexing import scatter_add
from .fused_pad import crop_array, pad_array, pad_naive

Geometry = namedtuple("Geometry", "stride padding dilation groups")  # per-dim tuples; padding (lo, hi) pairs


def as_tuple(value, d):
    """An int (or a 1-sequence) repeated d times, or a d-sequence, as a tuple of ints."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    return tuple(int(v) for v in (values * d if len(values) == 1 else values))


def same_padding(kernel, dilation):
    """'same' padding: dl (K - 1) in all per dim, the odd one on the high side (as torch)."""
    return tuple((dl * (k - 1) // 2, dl * (k - 1) - dl * (k - 1) // 2) for k, dl in zip(kernel, dilation))


def conv_geometry(kernel, stride, padding, dilation, groups):
    """The Geometry of a convolution of kernel sides `kernel` from torch's arguments (ints or
    tuples; padding also 'valid' or 'same')."""
    d = len(kernel)
    dilation = as_tuple(dilation, d)
    if padding == "valid":
        pairs = ((0, 0),) * d
    elif padding == "same":
        pairs = same_padding(kernel, dilation)
    else:
        pairs = tuple((p, p) for p in as_tuple(padding, d))
    return Geometry(as_tuple(stride, d), pairs, dilation, int(groups))


def out_sizes(sizes, kernel, geometry):
    return tuple((n + lo + hi - dl * (k - 1) - 1) // s + 1
                 for n, k, s, (lo, hi), dl in zip(sizes, kernel, geometry.stride, geometry.padding, geometry.dilation))


def transposed_out_sizes(sizes, kernel, geometry, output_padding):
    return tuple((n - 1) * s - lo - hi + dl * (k - 1) + 1 + op for n, k, s, (lo, hi), dl, op in
                 zip(sizes, kernel, geometry.stride, geometry.padding, geometry.dilation, output_padding))


# ---- windows and their adjoint ------------------------------------------------------------------

def windows(padded, kernel, stride, dilation, out):
    """The view (N, C, *out, *kernel) of padded (N, C, *P): [n, c, *l, *k] = padded[n, c, *(l s + k dl)]."""
    step = padded.strides[2:]
    strides = (padded.strides[:2] + tuple(a * s for a, s in zip(step, stride))
               + tuple(a * dl for a, dl in zip(step, dilation)))
    return array_module(padded).lib.stride_tricks.as_strided(padded, padded.shape[:2] + tuple(out) + tuple(kernel),
                                                             strides)


def fold_windows(win, padded_shape, stride, dilation):
    """The adjoint of `windows`: an array of padded_shape where each entry of win (N, C, *L, *K)
    is added at the position it would be read from (col2im)."""
    d = len(stride)
    out_len, kernel = win.shape[2:2 + d], win.shape[2 + d:]
    out = array_module(win).zeros(padded_shape, dtype=win.dtype)
    for k in np.ndindex(*kernel):
        at = tuple(slice(kk * dl, kk * dl + s * (n - 1) + 1, s) for kk, dl, s, n in zip(k, dilation, stride, out_len))
        out[(slice(None), slice(None)) + at] += win[(Ellipsis,) + k]
    return out


def unfold(x, kernel, geometry, out):
    """im2col: x (N, C, *S) -> per-group rows (g, N prod out, C/g prod K) of its padded windows."""
    win = windows(pad_array(x, geometry.padding), kernel, geometry.stride, geometry.dilation, out)
    return group_rows(win, geometry.groups, len(kernel))


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
def fold_places(n, c, padded, kernel, geometry, out):
    """The flat position in a C-ordered (n, c, *padded) array that each entry of unfold's rows
    (g, N prod out, C/g prod K) was read from, in the rows' order. Read-only."""
    d, groups = len(kernel), geometry.groups
    starts, offsets = window_places(n * c, padded, geometry.stride, kernel, geometry.dilation, out)
    places = starts.reshape((n, groups, c // groups) + tuple(out))[..., None] + offsets
    places = np.ascontiguousarray(places.transpose((1, 0) + tuple(range(3, 3 + d)) + (2, 3 + d))).reshape(-1)
    places.flags.writeable = False
    return places


def fold(cols, shape, kernel, geometry, out):
    """col2im, the adjoint of `unfold`: rows (g, N prod out, C/g prod K) -> an array of x's shape,
    each entry scatter-added at the padded position it was read from (fold_places), then cropped."""
    xp = array_module(cols)
    padded = tuple(m + lo + hi for m, (lo, hi) in zip(shape[2:], geometry.padding))
    flat = xp.zeros(math.prod(shape[:2]) * math.prod(padded), dtype=cols.dtype)
    scatter_add(xp, flat, xp.asarray(fold_places(shape[0], shape[1], padded, tuple(kernel), geometry, tuple(out))),
                cols.reshape(-1))
    return crop_array(flat.reshape(tuple(shape[:2]) + padded), geometry.padding)


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


def per_group(a, b):
    """The matrix products a[i] @ b[i] over the groups, by the registry's matmul kernel."""
    products = [backends.kernel("matmul", a)(a[i], b[i]) for i in range(a.shape[0])]
    return products[0][None] if len(products) == 1 else array_module(a).stack(products)


def _bias_grad(g):
    return g.sum(axis=(0,) + tuple(range(2, g.ndim)))


def _add_bias(y, b):
    if b is not None:
        y += b.reshape((-1,) + (1,) * (y.ndim - 2))
    return y


# ---- the Functions -------------------------------------------------------------------------------

class Conv(Function):
    """y = conv(x, weight) + bias for x (N, C, *S), weight (O, C/g, *K), bias (O,) or None
    (the module doc: Y = X W^T per group; dX = col2im(G W), dW = G^T X, db = sum of g)."""

    @staticmethod
    def forward(ctx, x, w, b, geometry):
        kernel = w.shape[2:]
        out = out_sizes(x.shape[2:], kernel, geometry)
        cols = unfold(x, kernel, geometry, out)
        wg = w.reshape(geometry.groups, w.shape[0] // geometry.groups, -1)
        ctx.cols, ctx.wg = (cols if ctx.needs_input_grad[1] else None), wg
        ctx.shapes, ctx.geometry = (x.shape, w.shape, out), geometry
        return _add_bias(channels_first(per_group(cols, wg.transpose(0, 2, 1)), x.shape[0], out), b)

    @staticmethod
    def backward(ctx, g):
        x_shape, w_shape, out = ctx.shapes
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        g_rows = group_rows(g, ctx.geometry.groups, len(out))
        dx = fold(per_group(g_rows, ctx.wg), x_shape, w_shape[2:], ctx.geometry, out) if need_x else None
        dw = per_group(g_rows.transpose(0, 2, 1), ctx.cols).reshape(w_shape) if need_w else None
        return dx, dw, _bias_grad(g) if need_b else None, None


class ConvTranspose(Function):
    """y = conv_transpose(x, weight) + bias for x (N, C, *S), weight (C, O/g, *K), bias (O,) or
    None: the adjoint of Conv (the module doc: Y = col2im(X W); dX = im2col(G) W^T, dW = X^T im2col(G))."""

    @staticmethod
    def forward(ctx, x, w, b, geometry, output_padding):
        kernel, groups = w.shape[2:], geometry.groups
        shape = (x.shape[0], w.shape[1] * groups) + transposed_out_sizes(x.shape[2:], kernel, geometry, output_padding)
        rows = group_rows(x, groups, len(kernel))
        wg = w.reshape(groups, w.shape[0] // groups, -1)
        ctx.rows, ctx.wg = (rows if ctx.needs_input_grad[1] else None), wg
        ctx.shapes, ctx.geometry = (x.shape, w.shape), geometry
        return _add_bias(fold(per_group(rows, wg), shape, kernel, geometry, x.shape[2:]), b)

    @staticmethod
    def backward(ctx, g):
        x_shape, w_shape = ctx.shapes
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        cols = unfold(g, w_shape[2:], ctx.geometry, x_shape[2:])
        dx = channels_first(per_group(cols, ctx.wg.transpose(0, 2, 1)), x_shape[0], x_shape[2:]) if need_x else None
        dw = per_group(ctx.rows.transpose(0, 2, 1), cols).reshape(w_shape) if need_w else None
        return dx, dw, _bias_grad(g) if need_b else None, None, None


# ---- naive twins (batched input, from Tensor primitives) ----------------------------------------

def conv_naive(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Pad, take windows with Tensor.unfold (one dim at a time, dilation by slicing), then one
    batched product with the weight per group."""
    kernel = tuple(weight.shape[2:])
    d, geometry = len(kernel), conv_geometry(kernel, stride, padding, dilation, groups)
    x = pad_naive(input, geometry.padding)
    for i, (k, s, dl) in enumerate(zip(kernel, geometry.stride, geometry.dilation)):
        x = x.unfold(2 + i, dl * (k - 1) + 1, s)
    x = x[(Ellipsis,) + tuple(slice(None, None, dl) for dl in geometry.dilation)]
    n, c, out = x.shape[0], x.shape[1], tuple(x.shape[2:2 + d])
    cols = x.reshape((n, groups, c // groups) + x.shape[2:])
    cols = cols.permute((0, 1) + tuple(range(3, 3 + d)) + (2,) + tuple(range(3 + d, 3 + 2 * d)))
    cols = cols.reshape(n, groups, math.prod(out), -1)
    y = cols @ weight.reshape(groups, weight.shape[0] // groups, -1).transpose(1, 2)   # (N, g, L, O/g)
    y = y.transpose(2, 3).reshape((n, weight.shape[0]) + out)
    return y if bias is None else y + bias.reshape((-1,) + (1,) * d)


def conv_transpose_naive(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The textbook form: spread the input apart by stride - 1 zeros, pad it by dl (K - 1) - padding
    (+ output_padding on the high side; negative pads crop), and convolve with the kernel flipped
    and its channel axes swapped per group."""
    kernel = tuple(weight.shape[2:])
    d, geometry = len(kernel), conv_geometry(kernel, stride, padding, dilation, groups)
    x = input
    for i, s in enumerate(geometry.stride):
        if s > 1:
            axis, n = 2 + i, x.shape[2 + i]
            spread = np.zeros((s,) + (1,) * (d - 1 - i))
            spread[0] = 1
            x = (x.unsqueeze(axis + 1) * x.new_tensor(spread)).reshape(x.shape[:axis] + (n * s,) + x.shape[axis + 1:])
            x = x[(slice(None),) * axis + (slice(0, (n - 1) * s + 1),)]
    pairs = [(dl * (k - 1) - lo, dl * (k - 1) - hi + op) for k, dl, (lo, hi), op in
             zip(kernel, geometry.dilation, geometry.padding, as_tuple(output_padding, d))]
    c_in = weight.shape[0]
    w = weight.reshape((groups, c_in // groups) + tuple(weight.shape[1:])).transpose(1, 2)
    w = w.reshape((weight.shape[1] * groups, c_in // groups) + kernel).flip(tuple(range(2, 2 + d)))
    return conv_naive(pad_naive(x, pairs), w, bias, 1, 0, geometry.dilation, groups)
