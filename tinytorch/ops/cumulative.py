"""Cumulative products and running extremes along an axis: cumprod, cummax, cummin.
(cumsum sits with the reductions.)"""
from ..autograd import Function
from ..device import array_module
from .indexing import scatter_add
from .scatter import places


def _reverse_cumsum(a, axis):
    xp = array_module(a)
    return xp.flip(xp.flip(a, axis).cumsum(axis=axis), axis)


class Cumprod(Function):
    """y_j = prod_{i<=j} x_i along axis.

    dL/dx_i = sum_{j>=i} g_j prod_{k<=j, k!=i} x_k. Before the first zero of x (call it x_z):
    that is sum_{j>=i} g_j y_j / x_i, a reversed cumulative sum divided by x_i. At x_z itself
    it is sum_{j>=z} g_j y'_j, y' the cumulative product of x with x_z set to 1. After x_z
    every term holds the factor x_z = 0, so the gradient is 0. (No division by zero anywhere.)
    """

    @staticmethod
    def forward(ctx, x, axis):
        out = x.cumprod(axis=axis)
        ctx.x, ctx.out, ctx.axis = x, out, axis
        return out

    @staticmethod
    def backward(ctx, g):
        xp = array_module(g)
        x, y, axis = ctx.x, ctx.out, ctx.axis
        is_zero = x == 0
        if not is_zero.any():
            return _reverse_cumsum(g * y, axis) / x, None
        zeros_so_far = is_zero.cumsum(axis=axis)
        before, first_zero = zeros_so_far == 0, is_zero & (zeros_so_far == 1)
        before_zero = _reverse_cumsum(g * y, axis) / xp.where(before, x, 1)
        at_zero = _reverse_cumsum(g * xp.where(first_zero, 1, x).cumprod(axis=axis), axis)
        return xp.where(before, before_zero, xp.where(first_zero, at_zero, 0)), None


class Cummax(Function):
    """(values, indices): values_j = max_{i<=j} x_i along axis, indices_j the place of that
    maximum (the latest one among ties; a NaN, once met, is the maximum from there on).

    values_j is the element x_{indices_j}, so dL/dx_i = sum of g_j over the j with indices_j = i:
    g scatter-added at the indices."""

    @staticmethod
    def forward(ctx, x, axis, is_max=True):
        xp = array_module(x)
        values = (xp.maximum if is_max else xp.minimum).accumulate(x, axis=axis)
        positions = xp.arange(x.shape[axis]).reshape((-1,) + (1,) * (x.ndim - axis - 1))
        taken = (x == values) | xp.isnan(x) if x.dtype.kind in "fV" else x == values
        indices = xp.maximum.accumulate(xp.where(taken, positions, 0), axis=axis)
        ctx.shape, ctx.axis, ctx.indices = x.shape, axis, indices
        return values, indices

    @staticmethod
    def backward(ctx, g, g_indices=None):
        xp = array_module(g)
        out = xp.zeros(ctx.shape, dtype=g.dtype)
        scatter_add(xp, out, places(xp, ctx.indices, ctx.axis), g)
        return out, None, None


class Cummin(Cummax):
    """(values, indices) of the running minimum: Cummax's forward and backward with min."""

    @staticmethod
    def forward(ctx, x, axis):
        return Cummax.forward(ctx, x, axis, False)
