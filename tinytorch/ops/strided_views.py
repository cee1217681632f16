"""Views made by strides alone: sliding windows (unfold) and diagonals. Each output is a view of
its input's memory, as in torch; each backward adds the gradient back at the places read."""
from ..autograd import Function
from ..device import array_module


def _strided(a, shape, strides):
    return array_module(a).lib.stride_tricks.as_strided(a, shape, strides)


def windows(a, axis, size, step):
    """a's windows of `size` along axis, every `step`: a new axis of the windows' positions in
    place of axis, and their elements along a new last axis."""
    count = (a.shape[axis] - size) // step + 1
    shape = a.shape[:axis] + (count,) + a.shape[axis + 1:] + (size,)
    strides = a.strides[:axis] + (a.strides[axis] * step,) + a.strides[axis + 1:] + (a.strides[axis],)
    return _strided(a, shape, strides)


class Unfold(Function):
    """y = the windows of x of `size` along axis, every `step` (Tensor.unfold).

    y[..., w, ..., k] = x[..., w * step + k, ...], so dL/dx_i sums g over every (w, k) with
    w * step + k = i: for each offset k, g[..., k] added to x's positions k, k + step, ...
    """

    view = True

    @staticmethod
    def forward(ctx, x, axis, size, step):
        ctx.shape, ctx.axis, ctx.size, ctx.step = x.shape, axis, size, step
        return windows(x, axis, size, step)

    @staticmethod
    def backward(ctx, g):
        out = array_module(g).zeros(ctx.shape, dtype=g.dtype)
        axis, step = ctx.axis, ctx.step
        count = g.shape[axis]
        for k in range(ctx.size):
            out[(slice(None),) * axis + (slice(k, k + step * (count - 1) + 1, step),)] += g[..., k]
        return out, None, None, None


def diagonal_view(a, offset, axis1, axis2):
    """The diagonal of a's (axis1, axis2) planes at `offset` (above the main one when positive):
    the other axes in order, then the diagonal's."""
    n1, n2 = a.shape[axis1], a.shape[axis2]
    start1, start2 = max(-offset, 0), max(offset, 0)
    length = max(min(n1 - start1, n2 - start2), 0)
    if length:
        key = [slice(None)] * a.ndim
        key[axis1], key[axis2] = slice(start1, None), slice(start2, None)
        a = a[tuple(key)]
    rest = [d for d in range(a.ndim) if d not in (axis1, axis2)]
    return _strided(a, tuple(a.shape[d] for d in rest) + (length,),
                    tuple(a.strides[d] for d in rest) + (a.strides[axis1] + a.strides[axis2],))


class Diagonal(Function):
    """y = x's diagonal in the (axis1, axis2) planes at `offset`; dL/dx = zeros with g on that
    diagonal."""

    view = True

    @staticmethod
    def forward(ctx, x, offset, axis1, axis2):
        ctx.shape, ctx.offset, ctx.axis1, ctx.axis2 = x.shape, offset, axis1, axis2
        return diagonal_view(x, offset, axis1, axis2)

    @staticmethod
    def backward(ctx, g):
        out = array_module(g).zeros(ctx.shape, dtype=g.dtype)
        diagonal_view(out, ctx.offset, ctx.axis1, ctx.axis2)[...] = g
        return out, None, None, None
