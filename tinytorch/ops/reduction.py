"""Reductions: sum, mean, var, max/min (with and without dim), logsumexp, cumsum.

`axis` is None (all axes) or a tuple of non-negative axes; the backward re-inserts the reduced
axes (when keepdim is False) and broadcasts the gradient back over them.
"""
from ..autograd import Function
from ..device import array_module


def _expand(g, shape, axis, keepdim):
    """Give g back the reduced axes (as size 1) so it broadcasts against the input's shape."""
    if keepdim or axis is None and g.ndim == len(shape):
        return g
    if axis is None:
        return g.reshape((1,) * len(shape))
    return array_module(g).expand_dims(g, axis)


def _count(shape, axis):
    n = 1
    for i in range(len(shape)) if axis is None else axis:
        n *= shape[i]
    return n


class Sum(Function):
    """y = sum_i x_i over axis;  dy/dx_i = 1, so the gradient is g broadcast back."""

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        ctx.shape, ctx.axis, ctx.keepdim = x.shape, axis, keepdim
        return x.sum(axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        return array_module(g).broadcast_to(_expand(g, ctx.shape, ctx.axis, ctx.keepdim), ctx.shape), None, None


class Mean(Function):
    """y = (1/n) sum_i x_i;  dy/dx_i = 1/n."""

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        ctx.shape, ctx.axis, ctx.keepdim = x.shape, axis, keepdim
        return x.mean(axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        n = _count(ctx.shape, ctx.axis)
        g = _expand(g, ctx.shape, ctx.axis, ctx.keepdim) / n
        return array_module(g).broadcast_to(g, ctx.shape), None, None


class Var(Function):
    """y = sum_i (x_i - m)^2 / (n - c), m the mean, c the correction (1 = unbiased).

    dy/dx_i = 2 (x_i - m) / (n - c): the terms through m cancel because sum_i (x_i - m) = 0.
    """

    @staticmethod
    def forward(ctx, x, axis, correction, keepdim):
        m = x.mean(axis=axis, keepdims=True)
        d = x - m
        n = _count(x.shape, axis)
        ctx.d, ctx.axis, ctx.keepdim, ctx.denom = d, axis, keepdim, max(n - correction, 0)
        return (d * d).sum(axis=axis, keepdims=keepdim) / ctx.denom

    @staticmethod
    def backward(ctx, g):
        g = _expand(g, ctx.d.shape, ctx.axis, ctx.keepdim)
        return g * ctx.d * (2.0 / ctx.denom), None, None, None


class MaxAll(Function):
    """y = max(x) over everything (or min); the gradient is shared evenly among the tied maxima."""

    @staticmethod
    def forward(ctx, x, is_max):
        out = x.max() if is_max else x.min()
        ctx.mask = x == out
        return out

    @staticmethod
    def backward(ctx, g):
        mask = ctx.mask
        return g * mask / mask.sum(), None


class MaxDim(Function):
    """(values, indices) = max(x, dim) (or min): the gradient goes to the arg-max only (torch)."""

    @staticmethod
    def forward(ctx, x, axis, keepdim, is_max):
        xp = array_module(x)
        idx = x.argmax(axis=axis) if is_max else x.argmin(axis=axis)
        idx_k = xp.expand_dims(idx, axis)
        values = xp.take_along_axis(x, idx_k, axis=axis)
        ctx.shape, ctx.axis, ctx.idx_k = x.shape, axis, idx_k
        if not keepdim:
            return values.squeeze(axis), idx
        return values, idx_k

    @staticmethod
    def backward(ctx, g, g_idx=None):
        xp = array_module(g)
        out = xp.zeros(ctx.shape, dtype=g.dtype)
        if g.ndim != len(ctx.shape):
            g = xp.expand_dims(g, ctx.axis)
        xp.put_along_axis(out, ctx.idx_k, g, axis=ctx.axis)
        return out, None, None, None


class LogSumExp(Function):
    """y = log sum_i e^{x_i}, computed as m + log sum e^{x_i - m};  dy/dx_i = e^{x_i - y} (softmax)."""

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        xp = array_module(x)
        m = x.max(axis=axis, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        out = xp.log(xp.exp(x - m).sum(axis=axis, keepdims=True)) + m
        ctx.x, ctx.out, ctx.axis = x, out, axis
        return out if keepdim else out.squeeze(axis)

    @staticmethod
    def backward(ctx, g):
        xp = array_module(g)
        g = _expand(g, ctx.x.shape, ctx.axis, g.ndim == ctx.x.ndim)
        return g * xp.exp(ctx.x - ctx.out), None, None


class CumSum(Function):
    """y_j = sum_{i<=j} x_i;  dL/dx_i = sum_{j>=i} g_j, a reversed cumulative sum."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return x.cumsum(axis=axis)

    @staticmethod
    def backward(ctx, g):
        xp = array_module(g)
        rev = xp.flip(g, ctx.axis)
        return xp.flip(rev.cumsum(axis=ctx.axis), ctx.axis), None
