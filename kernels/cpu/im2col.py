"""im2col and col2im on the CPU with Numba, float32 (kernels/numpy/im2col.py states the arguments and the math).

A 1-d input is taken as 2-d with one row, x (N, C, 1, S). Both kernels work in the padded image
(N, C, PH, PW) (padded_sizes: every window inside it), copied from x with zeros around it unless
x is contiguous and needs no padding. There the entries of one row of windows, rows[i, (n, oh, :), :]
(OW C/g prod K contiguous values), lie at fixed offsets from that row's first window,

    table[(ow, c, kh, kw)] = (c PH + kh dh) PW + ow sw + kw dw,

the same for every n, group i and oh (the row starts at i C/g PH PW + oh sh PW in sample n). im2col
gathers each row of windows by the table; col2im scatter-adds it back, onto the bias where there is
no padding, else into zeros that are then cropped and the bias added. The NumPy entry's strided
copy and np.add.at cost about 1.5 ns an element on the small images of a CNN; here one loop runs
over each whole row of windows with unsigned indices (no negative-index wraparound), so LLVM
vectorizes the gather: about 0.3 ns an element. With K = 1, stride 1 and no padding col2im is a
transposition, rows (g, N L, C/g) -> (N, C, L) plus the bias, done as a gather along each output
channel. Parallel over the batch when the rows fill more than one thread (threads.py); each
sample's rows touch only that sample.
"""
import functools

import numpy as np
from numba import njit, prange

from ..numpy.im2col import padded_sizes
from ..shapes import check_col2im, check_float32, check_im2col
from .target import FASTMATH
from .threads import use_threads_for


@functools.lru_cache(maxsize=64)
def _row_table(channels, kernel, stride_w, dilation, out_w, padded):
    """The offsets of one row of windows' entries ((out_w, channels, *kernel) order) in the padded sample."""
    (kh, kw), (dh, dw), (ph, pw) = kernel, dilation, padded
    table = ((np.arange(channels)[None, :, None, None] * ph + np.arange(kh)[None, None, :, None] * dh) * pw
             + np.arange(out_w)[:, None, None, None] * stride_w + np.arange(kw)[None, None, None, :] * dw)
    table = table.reshape(-1).astype(np.uint32 if channels * ph * pw < 2 ** 32 else np.uint64)
    table.flags.writeable = False
    return table


@njit(fastmath=FASTMATH, parallel=True, cache=True)
def _pad(x, padding_h, padding_w, padded):
    """padded (N, C, PH, PW), zeros, gets x (N, C, H, W) from (padding_h, padding_w) on."""
    n_samples, channels, height, width = x.shape
    for n in prange(n_samples):
        for c in range(channels):
            for h in range(height):
                src, dst = x[n, c, h], padded[n, c, padding_h + h, padding_w:]
                for w in range(width):
                    dst[w] = src[w]


@njit(fastmath=FASTMATH, parallel=True, cache=True)
def _gather(padded, table, row_step, rows):
    """rows (g, N OH, T): rows[i, n OH + oh, t] = padded[n, i P + oh row_step + table[t]], P the group's
    padded size (padded (N, g P))."""
    groups, n_samples, width = rows.shape[0], padded.shape[0], table.shape[0]
    group_size, out_h = padded.shape[1] // groups, rows.shape[1] // padded.shape[0]
    for n in prange(n_samples):
        src = padded[n]
        for i in range(groups):
            for oh in range(out_h):
                dst = rows[i, n * out_h + oh]
                start = np.uintp(i * group_size + oh * row_step)
                for t in range(width):
                    dst[t] = src[start + table[t]]


@njit(fastmath=FASTMATH, parallel=True, cache=True)
def _scatter(rows, table, row_step, padded):
    """The adjoint of _gather: padded[n, i P + oh row_step + table[t]] += rows[i, n OH + oh, t]."""
    groups, n_samples, width = rows.shape[0], padded.shape[0], table.shape[0]
    group_size, out_h = padded.shape[1] // groups, rows.shape[1] // padded.shape[0]
    for n in prange(n_samples):
        dst = padded[n]
        for i in range(groups):
            for oh in range(out_h):
                src = rows[i, n * out_h + oh]
                start = np.uintp(i * group_size + oh * row_step)
                for t in range(width):
                    dst[start + table[t]] += src[t]


@njit(fastmath=FASTMATH, parallel=True, cache=True)
def _fill(bias, y):
    """y (N, C, L) = bias (C,) along L."""
    for n in prange(y.shape[0]):
        for c in range(y.shape[1]):
            b, dst = bias[c], y[n, c]
            for l in range(y.shape[2]):
                dst[l] = b


@njit(fastmath=FASTMATH, parallel=True, cache=True)
def _crop(padded, padding_h, padding_w, bias, y):
    """y (N, C, H, W) = padded[:, :, padding_h:, padding_w:] (cut to y's sides) + bias (C,)."""
    n_samples, channels, height, width = y.shape
    for n in prange(n_samples):
        for c in range(channels):
            b = bias[c]
            for h in range(height):
                src, dst = padded[n, c, padding_h + h, padding_w:], y[n, c, h]
                for w in range(width):
                    dst[w] = src[w] + b


@njit(fastmath=FASTMATH, parallel=True, cache=True)
def _channels_first(rows, bias, y):
    """y (N, C, L) with y[n, i C/g + c, l] = rows[i, n L + l, c] + bias[i C/g + c]."""
    n_samples, channels, length = y.shape
    groups = rows.shape[0]
    per_group = channels // groups
    for n in prange(n_samples):
        for i in range(groups):
            block = rows[i, n * length:(n + 1) * length]
            for c in range(per_group):
                b, dst = bias[i * per_group + c], y[n, i * per_group + c]
                for l in range(length):
                    dst[l] = block[l, c] + b


def _as_2d(shape, kernel, stride, padding, dilation, out):
    """A 1-d geometry as a 2-d one with a single row; a 2-d one as it is."""
    if len(shape) == 4:
        return tuple(shape), tuple(kernel), tuple(stride), tuple(padding), tuple(dilation), tuple(out)
    return ((shape[0], shape[1], 1, shape[2]), (1,) + tuple(kernel), (1,) + tuple(stride), (0,) + tuple(padding),
            (1,) + tuple(dilation), (1,) + tuple(out))


def im2col(x, kernel, stride, padding, dilation, groups, out):
    check_im2col("im2col", x, kernel, stride, padding, dilation, groups, out)
    check_float32("im2col", x=x)
    shape, kernel, stride, padding, dilation, out = _as_2d(x.shape, kernel, stride, padding, dilation, out)
    x = x.reshape(shape)
    n, c = shape[:2]
    padded = padded_sizes(shape[2:], kernel, stride, padding, dilation, out)
    table = _row_table(c // groups, kernel, stride[1], dilation, out[1], padded)
    rows = np.empty((groups, n * out[0], table.shape[0]), np.float32)
    use_threads_for(rows.size)
    if padded == shape[2:] and x.flags.c_contiguous:
        source = x
    else:
        source = np.zeros((n, c) + padded, np.float32)
        _pad(x, padding[0], padding[1], source)
    _gather(source.reshape(n, -1), table, stride[0] * padded[1], rows)
    return rows.reshape(groups, n * out[0] * out[1], -1)


def col2im(rows, shape, kernel, stride, padding, dilation, out, bias=None):
    check_col2im("col2im", rows, shape, kernel, stride, padding, dilation, out, bias)
    check_float32("col2im", rows=rows, bias=bias)
    final = tuple(shape)
    shape, kernel, stride, padding, dilation, out = _as_2d(shape, kernel, stride, padding, dilation, out)
    n, c = shape[:2]
    groups = rows.shape[0]
    bias = np.zeros(c, np.float32) if bias is None else bias
    y = np.empty(shape, np.float32)
    use_threads_for(rows.size)
    if kernel == (1, 1) and stride == (1, 1) and padding == (0, 0) and out == shape[2:]:
        _channels_first(np.ascontiguousarray(rows), bias, y.reshape(n, c, -1))
        return y.reshape(final)
    padded = padded_sizes(shape[2:], kernel, stride, padding, dilation, out)
    table = _row_table(c // groups, kernel, stride[1], dilation, out[1], padded)
    if padded == shape[2:]:
        image = y
        _fill(bias, y.reshape(n, c, -1))
    else:
        image = np.zeros((n, c) + padded, np.float32)
    _scatter(np.ascontiguousarray(rows).reshape(groups, n * out[0], -1), table, stride[0] * padded[1],
             image.reshape(n, -1))
    if image is not y:
        _crop(image, padding[0], padding[1], bias, y)
    return y.reshape(final)
