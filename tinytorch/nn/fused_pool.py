"""Poolings (max, average, adaptive average; 1-d and 2-d): one Function each, next to their naive twins.

Max and average pooling read the same windows as a convolution (output l of a spatial dim reads
the padded input at l s + k dl, k < K) and reduce each window to one value:

    max:      y = the window's max,         dx = g added at the max's input position;
    average:  y = sum(window) / divisor,    dx = col2im(g / divisor broadcast over the window).

The max is the registry's kernels "max_pool_forward" and "max_pool_backward"
(kernels/numpy/max_pool.py): torch's scan, which keeps the first of equal maxima and the last NaN,
and gives the positions as torch's indices, flat over the input's spatial dims.

The windows are those of the input padded by `padding` on both sides and, with ceil_mode, on the
high side as far as the last window reaches; a window that starts in the high padding is dropped
(so every undilated window holds at least one input position). The average's padding is zeros; its
divisor is, per output position, the number of window positions inside the input, or with
count_include_pad those inside the input plus its `padding` (not the ceil_mode extra).

Adaptive average pooling to L positions averages input positions floor(l S / L) to
ceil((l + 1) S / L) - 1: along each dim a matrix A (L, S), so y = x A^T per dim and dx = g A.
"""
import math
from collections import namedtuple

import numpy as np

from .. import backends
from ..autograd import Function
from ..device import array_module
from ..kernels.numpy.im2col import windows
from .fused_conv import as_tuple
from .fused_pad import crop_array, pad_array, pad_naive

PoolGeometry = namedtuple("PoolGeometry", "kernel stride padding dilation out")  # padding: (lo, hi) pairs


def pool_geometry(sizes, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """The PoolGeometry of a pooling over spatial sizes `sizes` from torch's arguments (stride
    None or empty: the kernel size)."""
    d = len(sizes)
    kernel = as_tuple(kernel_size, d)
    stride = kernel if stride is None or stride == [] or stride == () else as_tuple(stride, d)
    padding, dilation = as_tuple(padding, d), as_tuple(dilation, d)
    out, pairs = [], []
    for n, k, s, p, dl in zip(sizes, kernel, stride, padding, dilation):
        span = n + 2 * p - dl * (k - 1) - 1
        m = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (m - 1) * s >= n + p:
            m -= 1
        out.append(m)
        pairs.append((p, max(p, (m - 1) * s + dl * (k - 1) + 1 - n - p)))
    return PoolGeometry(kernel, stride, tuple(pairs), dilation, tuple(out))


def avg_divisor(sizes, geometry, count_include_pad, divisor_override=None):
    """The average's divisor per output position, an array of shape geometry.out."""
    if divisor_override:
        return np.full(geometry.out, float(divisor_override))
    counts = []
    for n, k, s, (p, _), m in zip(sizes, geometry.kernel, geometry.stride, geometry.padding, geometry.out):
        start = np.arange(m) * s - p
        end = np.minimum(start + k, n + p)
        counts.append(end - start if count_include_pad else np.minimum(end, n) - np.maximum(start, 0))
    return math.prod(np.ix_(*counts)).astype(np.float64)


def window_positions(sizes, geometry):
    """The flat input position (over the spatial dims) each window entry reads: (*out, prod kernel)."""
    axes = [np.arange(m)[:, None] * s + np.arange(k)[None, :] * dl - p for n, k, s, (p, _), dl, m in
            zip(sizes, geometry.kernel, geometry.stride, geometry.padding, geometry.dilation, geometry.out)]
    d = len(sizes)
    grids = [a.reshape(tuple(a.shape[0] if j == i else 1 for j in range(d)) +
                       tuple(a.shape[1] if j == i else 1 for j in range(d))) for i, a in enumerate(axes)]
    flat = np.ravel_multi_index(tuple(np.broadcast_arrays(*grids)), sizes, mode="clip")
    return flat.reshape(geometry.out + (-1,))


def _windows(x, geometry, fill):
    return windows(pad_array(x, geometry.padding, fill), geometry.kernel, geometry.stride, geometry.dilation,
                   geometry.out)


def fold_windows(win, padded_shape, stride, dilation):
    """The adjoint of `windows`: an array of padded_shape where each entry of win (N, C, *L, *K)
    is added at the position it would be read from (col2im), by one strided slice per kernel offset."""
    d = len(stride)
    out_len, kernel = win.shape[2:2 + d], win.shape[2 + d:]
    out = array_module(win).zeros(padded_shape, dtype=win.dtype)
    for k in np.ndindex(*kernel):
        at = tuple(slice(kk * dl, kk * dl + s * (n - 1) + 1, s) for kk, dl, s, n in zip(k, dilation, stride, out_len))
        out[(slice(None), slice(None)) + at] += win[(Ellipsis,) + k]
    return out


def _unwindow(win, x_shape, geometry):
    """col2im of window-shaped gradients back to an array of x's shape."""
    padded = tuple(x_shape[:2]) + tuple(n + lo + hi for n, (lo, hi) in zip(x_shape[2:], geometry.padding))
    return crop_array(fold_windows(win, padded, geometry.stride, geometry.dilation), geometry.padding)


class MaxPool(Function):
    """y, the max of each window of x (N, C, *S), and with `with_indices` (y, indices), its flat
    input position as well, by the registry's kernels "max_pool_forward" and "max_pool_backward"
    (the module doc). The indices get no gradient."""

    @staticmethod
    def forward(ctx, x, geometry, with_indices):
        padding = tuple(lo for lo, _ in geometry.padding)
        values, indices = backends.kernel("max_pool_forward", x)(x, geometry.kernel, geometry.stride, padding,
                                                                 geometry.dilation, geometry.out)
        ctx.indices, ctx.shape = indices, x.shape
        return (values, indices) if with_indices else values

    @staticmethod
    def backward(ctx, g, *_):
        return backends.kernel("max_pool_backward", g)(g, ctx.indices, ctx.shape), None, None


class AvgPool(Function):
    """The sum of each window of x (N, C, *S) over its divisor (a NumPy array of the output's
    spatial shape); dx = col2im(g / divisor), as the module doc says."""

    @staticmethod
    def forward(ctx, x, geometry, divisor):
        d, divisor = len(geometry.kernel), array_module(x).asarray(divisor, dtype=x.dtype)
        ctx.shape, ctx.geometry, ctx.divisor = x.shape, geometry, divisor
        return _windows(x, geometry, 0.0).sum(axis=tuple(range(-d, 0))) / divisor

    @staticmethod
    def backward(ctx, g):
        d = len(ctx.geometry.kernel)
        scaled = (g / ctx.divisor)[(Ellipsis,) + (None,) * d]
        win = array_module(g).broadcast_to(scaled, g.shape + ctx.geometry.kernel)
        return _unwindow(win, ctx.shape, ctx.geometry), None, None


def adaptive_out(sizes, output_size):
    """torch's output_size (an int, or a tuple whose None entries keep the input's size) as a tuple."""
    sizes = tuple(sizes)
    wanted = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * len(sizes)
    return tuple(n if m is None else int(m) for n, m in zip(sizes, wanted))


def adaptive_matrices(sizes, out, dtype):
    """Per spatial dim, the averaging matrix A (L, S) of adaptive pooling from S to L positions."""
    mats = []
    for n, m in zip(sizes, out):
        a = np.zeros((m, n), dtype=dtype)
        for i in range(m):
            start, end = i * n // m, -(-(i + 1) * n // m)
            a[i, start:end] = 1.0 / (end - start)
        mats.append(a)
    return tuple(mats)


def _along_spatial(a, mats):
    """a (N, C, *S) with each spatial axis i mapped by rows @ mats[i]."""
    xp = array_module(a)
    for axis, m in enumerate(mats, start=2):
        moved = xp.moveaxis(a, axis, -1)
        rows = xp.ascontiguousarray(moved).reshape(-1, m.shape[0])
        a = xp.moveaxis(backends.kernel("matmul", rows)(rows, m).reshape(moved.shape[:-1] + (m.shape[1],)), -1, axis)
    return xp.ascontiguousarray(a)


class AdaptiveAvgPool(Function):
    """y = x A^T along each spatial dim, dx = g A (the module doc), matrices A from adaptive_matrices."""

    @staticmethod
    def forward(ctx, x, mats):
        xp = array_module(x)
        ctx.mats = tuple(xp.asarray(m, dtype=x.dtype) for m in mats)
        return _along_spatial(x, tuple(m.T for m in ctx.mats))

    @staticmethod
    def backward(ctx, g):
        return _along_spatial(g, ctx.mats), None


# ---- naive twins (batched input, from Tensor primitives) ----------------------------------------

def _windows_naive(x, geometry, fill):
    """(N, C, *out, prod K) windows of x by Tensor.unfold, one dim at a time."""
    x = pad_naive(x, geometry.padding, value=fill)
    for i, (k, s, dl) in enumerate(zip(geometry.kernel, geometry.stride, geometry.dilation)):
        x = x.unfold(2 + i, dl * (k - 1) + 1, s)
    x = x[(Ellipsis,) + tuple(slice(None, None, dl) for dl in geometry.dilation)]
    return x.reshape(tuple(x.shape[:2 + len(geometry.out)]) + (-1,))


def max_pool_naive(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    geometry = pool_geometry(tuple(input.shape[2:]), kernel_size, stride, padding, dilation, ceil_mode)
    values, arg = _windows_naive(input, geometry, float("-inf")).max(-1)
    if not return_indices:
        return values
    positions = window_positions(tuple(input.shape[2:]), geometry)
    flat = np.take_along_axis(np.broadcast_to(positions, arg.shape + positions.shape[-1:]),
                              arg.numpy(force=True)[..., None], axis=-1)[..., 0]
    return values, arg.new_tensor(flat)


def avg_pool_naive(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                   divisor_override=None):
    geometry = pool_geometry(tuple(input.shape[2:]), kernel_size, stride, padding, 1, ceil_mode)
    divisor = avg_divisor(tuple(input.shape[2:]), geometry, count_include_pad, divisor_override)
    return _windows_naive(input, geometry, 0.0).sum(-1) / input.new_tensor(divisor)


def adaptive_avg_pool_naive(input, output_size):
    """Each spatial axis, moved last, times the averaging matrix's transpose."""
    sizes = tuple(input.shape[2:])
    x = input
    for axis, a in enumerate(adaptive_matrices(sizes, adaptive_out(sizes, output_size), np.float64), start=2):
        x = (x.transpose(axis, -1) @ x.new_tensor(a.T)).transpose(axis, -1)
    return x
