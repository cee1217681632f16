"""Reductions: sum, mean, var, max/min (with and without dim), prod, logsumexp, cumsum.

`axis` is None (all axes) or a tuple of non-negative axes; the backward re-inserts the reduced
axes (when keepdim is False) and broadcasts the gradient back over them. As in torch, the mean
and variance of nothing are nan, and a logsumexp over nothing is -inf, without NumPy's warnings.
"""
import math

from ..autograd import Function
from ..device import array_module
from .quiet import quiet


def _expand(g, shape, axis, keepdim):
    """Give g back the reduced axes (as size 1) so it broadcasts against the input's shape."""
    if keepdim or axis is None and g.ndim == len(shape):
        return g
    if axis is None:
        return g.reshape((1,) * len(shape))
    return insert_axes(g, axis)


def insert_axes(a, axes):
    """a with a new axis of size 1 at each of `axes` (sorted, non-negative): expand_dims, cheaper."""
    shape = list(a.shape)
    for ax in (axes,) if isinstance(axes, int) else sorted(axes):
        shape.insert(ax, 1)
    return a.reshape(shape)


def _count(shape, axis):
    n = 1
    for i in range(len(shape)) if axis is None else axis:
        n *= shape[i]
    return n


@quiet
def _quiet_divide(a, b):
    return a / b


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
        if not x.size:  # NumPy warns "Mean of empty slice"; torch's 0/0 is nan
            return _quiet_divide(x.sum(axis=axis, keepdims=keepdim), _count(x.shape, axis))
        return x.mean(axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        n = _count(ctx.shape, ctx.axis)
        g = _expand(g, ctx.shape, ctx.axis, ctx.keepdim) / n
        return array_module(g).broadcast_to(g, ctx.shape), None, None


class Var(Function):
    """y = sum_i (x_i - m)^2 / max(n - c, 0), m the mean, c the correction (1 = unbiased).

    dy/dx_i = 2 (x_i - m) / (n - c): the terms through m cancel because sum_i (x_i - m) = 0.
    With no degrees of freedom left (n - c <= 0) torch's forward gives inf or nan (0/0), and its
    backward over every dim gives nan where x_i = m and inf elsewhere; so do these.
    """

    @staticmethod
    @quiet
    def forward(ctx, x, axis, correction, keepdim):
        n = _count(x.shape, axis)
        d = x - (x.mean(axis=axis, keepdims=True) if n else x.sum(axis=axis, keepdims=True))
        ctx.d, ctx.axis, ctx.keepdim, ctx.dof = d, axis, keepdim, n - correction
        return (d * d).sum(axis=axis, keepdims=keepdim) / max(ctx.dof, 0)

    @staticmethod
    def backward(ctx, g):
        g = _expand(g, ctx.d.shape, ctx.axis, ctx.keepdim)
        if ctx.dof <= 0 and ctx.axis is None:
            return g * array_module(g).where(ctx.d == 0, math.nan, math.inf), None, None, None
        return g * ctx.d * (2.0 / ctx.dof if ctx.dof else math.inf), None, None, None


class MaxAll(Function):
    """y = max(x) over everything (or min); the gradient is shared evenly among the tied maxima."""

    @staticmethod
    def forward(ctx, x, is_max):
        out = x.max() if is_max else x.min()
        ctx.mask, ctx.is_max = x == out, is_max
        return out

    @staticmethod
    def backward(ctx, g):
        mask = ctx.mask
        return g * mask / mask.sum(), None


class MaxDim(Function):
    """(values, indices) = max(x, dim) (or min): the gradient goes to the arg-max only (torch).

    The backward scatters g into zeros at the arg-max positions: with the axis moved last and
    the other axes flattened to rows, row r's entry sits at flat position r * size + idx[r].
    """

    @staticmethod
    def forward(ctx, x, axis, keepdim, is_max):
        idx = x.argmax(axis=axis, keepdims=keepdim) if is_max else x.argmin(axis=axis, keepdims=keepdim)
        values = x.max(axis=axis, keepdims=keepdim) if is_max else x.min(axis=axis, keepdims=keepdim)
        ctx.shape, ctx.axis, ctx.idx, ctx.is_max = x.shape, axis, idx, is_max
        return values, idx

    @staticmethod
    def backward(ctx, g, g_idx=None):
        xp = array_module(g)
        shape, axis, size = ctx.shape, ctx.axis, ctx.shape[ctx.axis]
        moved = shape[:axis] + shape[axis + 1:] + (size,)
        out = xp.zeros(moved, dtype=g.dtype)
        flat = ctx.idx.reshape(-1) + xp.arange(0, out.size, size)
        out.reshape(-1)[flat] = g.reshape(-1)
        return (out if axis == len(shape) - 1 else xp.moveaxis(out, -1, axis)), None, None, None


class Prod(Function):
    """y = prod_i x_i along `axis` (everything when None);  dy/dx_i = prod_{j != i} x_j.

    That product is (prefix product before i) * (suffix product after i), both exclusive
    cumulative products, so a zero in x gets the exact gradient where y / x_i would divide by 0.
    """

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        ctx.x, ctx.axis, ctx.keepdim = x, axis, keepdim
        return x.prod(axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        x, axis = ctx.x, ctx.axis
        xp = array_module(g)
        flat = x.reshape(-1) if axis is None else x
        ax = 0 if axis is None else axis
        one_shape = list(flat.shape)
        one_shape[ax] = 1
        one = xp.ones(one_shape, dtype=x.dtype)
        prefix = xp.cumprod(xp.concatenate([one, flat], axis=ax), axis=ax)
        suffix = xp.flip(xp.cumprod(xp.flip(xp.concatenate([flat, one], axis=ax), ax), axis=ax), ax)
        n = flat.shape[ax]
        others = _take(prefix, ax, 0, n) * _take(suffix, ax, 1, n + 1)
        g = g.reshape(()) if axis is None else _expand(g, x.shape, (axis,), ctx.keepdim)
        return (g * others).reshape(x.shape), None, None


def _take(a, axis, start, stop):
    key = [slice(None)] * a.ndim
    key[axis] = slice(start, stop)
    return a[tuple(key)]


class LogSumExp(Function):
    """y = log sum_i e^{x_i}, computed as m + log sum e^{x_i - m};  dy/dx_i = e^{x_i - y} (softmax)."""

    @staticmethod
    @quiet
    def forward(ctx, x, axis, keepdim):
        xp = array_module(x)
        m = x.max(axis=axis, keepdims=True) if x.size else x.sum(axis=axis, keepdims=True)  # nothing: m = 0
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
