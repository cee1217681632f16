"""Convolutions (1-d and 2-d, transposed or not) by im2col: one Function each, next to their naive twins.

Shapes, with d spatial dims (d = 1 or 2), g groups, K the kernel's sides, s stride, dl dilation:
x (N, C, *S), weight (O, C/g, *K), y (N, O, *L). The input is zero-padded by (lo, hi) per dim to
P = S + lo + hi, and output position l of dim i reads the padded input at l s + k dl for
k < K: L = floor((P - dl (K - 1) - 1) / s) + 1.

im2col (the registry's kernel "im2col", kernels/numpy/im2col.py) copies the windows of the padded
input into rows: per group a matrix X (M, C/g prod K) with M = N prod L. With the weight as
W (O/g, C/g prod K) per group and G = dL/dy as rows (M, O/g):

    forward  Y = X W^T,    dW = G^T X,    dX = G W  then col2im,    db = 1^T G.

col2im (the kernel "col2im") is the adjoint of im2col: each window entry is added back to the input
position it was read from, and the padding is cropped off. With K = 1 they are the transpositions
between channels first (N, O, *L) and rows (g, M, O/g) (`to_rows`; `from_rows`, which adds the bias
as well). Every product is the registry's kernel "matmul", one per group.

The transposed convolution with weight (C, O/g, *K) is the adjoint of the convolution from O to C
channels with that weight: its forward is the convolution's input gradient (Y = col2im(X W)
with x's rows X (M, C/g), plus the bias), its input gradient the convolution's forward (dX = im2col(G) W^T),
and its weight gradient dW = X^T im2col(G).
"""
import math
from collections import namedtuple

import numpy as np

from .. import backends
from ..autograd import Function
from ..device import array_module
from .fused_pad import pad_naive

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


# ---- the kernels' arguments ---------------------------------------------------------------------

def unfold(x, kernel, geometry, out):
    """im2col: x (N, C, *S) -> per-group rows (g, N prod out, C/g prod K) of its padded windows."""
    return backends.kernel("im2col", x)(x, tuple(kernel), geometry.stride, _low(geometry), geometry.dilation,
                                        geometry.groups, tuple(out))


def fold(rows, shape, kernel, geometry, out, bias=None):
    """col2im, the adjoint of `unfold`: rows (g, N prod out, C/g prod K) -> an array of shape
    (N, C, *S), plus bias (C,) unless None."""
    return backends.kernel("col2im", rows)(rows, tuple(shape), tuple(kernel), geometry.stride, _low(geometry),
                                           geometry.dilation, tuple(out), bias)


def to_rows(a, groups):
    """(N, C, *L) -> rows (g, N prod L, C/g): im2col with K = 1."""
    d = a.ndim - 2
    return backends.kernel("im2col", a)(a, (1,) * d, (1,) * d, (0,) * d, (1,) * d, groups, tuple(a.shape[2:]))


def from_rows(rows, shape, bias=None):
    """The inverse of to_rows: rows (g, N prod L, C/g) -> (N, C, *L) of `shape`, plus bias (C,) unless None."""
    d = len(shape) - 2
    return backends.kernel("col2im", rows)(rows, tuple(shape), (1,) * d, (1,) * d, (0,) * d, (1,) * d,
                                           tuple(shape[2:]), bias)


def _low(geometry):
    return tuple(lo for lo, _ in geometry.padding)


def per_group(a, b):
    """The matrix products a[i] @ b[i] over the groups, by the registry's kernel "matmul"."""
    products = [backends.kernel("matmul", a)(a[i], b[i]) for i in range(a.shape[0])]
    return products[0][None] if len(products) == 1 else array_module(a).stack(products)


def _bias_grad_from_rows(g_rows):
    """db = the sum of g over N and the positions, from g's rows (g, M, O/g): ones (M,) @ rows per group."""
    ones = array_module(g_rows).ones((g_rows.shape[0], 1, g_rows.shape[1]), dtype=g_rows.dtype)
    return per_group(ones, g_rows).reshape(-1)


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
        return from_rows(per_group(cols, wg.transpose(0, 2, 1)), (x.shape[0], w.shape[0]) + out, b)

    @staticmethod
    def backward(ctx, g):
        x_shape, w_shape, out = ctx.shapes
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        g_rows = to_rows(g, ctx.geometry.groups)
        dx = fold(per_group(g_rows, ctx.wg), x_shape, w_shape[2:], ctx.geometry, out) if need_x else None
        dw = per_group(g_rows.transpose(0, 2, 1), ctx.cols).reshape(w_shape) if need_w else None
        return dx, dw, _bias_grad_from_rows(g_rows) if need_b else None, None


class ConvTranspose(Function):
    """y = conv_transpose(x, weight) + bias for x (N, C, *S), weight (C, O/g, *K), bias (O,) or
    None: the adjoint of Conv (the module doc: Y = col2im(X W); dX = im2col(G) W^T, dW = X^T im2col(G))."""

    @staticmethod
    def forward(ctx, x, w, b, geometry, output_padding):
        kernel, groups = w.shape[2:], geometry.groups
        shape = (x.shape[0], w.shape[1] * groups) + transposed_out_sizes(x.shape[2:], kernel, geometry, output_padding)
        rows = to_rows(x, groups)
        wg = w.reshape(groups, w.shape[0] // groups, -1)
        ctx.rows, ctx.wg = (rows if ctx.needs_input_grad[1] else None), wg
        ctx.shapes, ctx.geometry = (x.shape, w.shape), geometry
        return fold(per_group(rows, wg), shape, kernel, geometry, x.shape[2:], b)

    @staticmethod
    def backward(ctx, g):
        x_shape, w_shape = ctx.shapes
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        cols = unfold(g, w_shape[2:], ctx.geometry, x_shape[2:])
        dx = from_rows(per_group(cols, ctx.wg.transpose(0, 2, 1)), x_shape) if need_x else None
        dw = per_group(ctx.rows.transpose(0, 2, 1), cols).reshape(w_shape) if need_w else None
        db = g.sum(axis=(0,) + tuple(range(2, g.ndim))) if need_b else None
        return dx, dw, db, None, None


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
