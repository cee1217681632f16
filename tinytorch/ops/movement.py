"""Shape and layout Functions: reshape, transpose, permute, expand, cat, stack, split, roll, tril.

Their backward passes only move the gradient back to where each input element went.
"""
import numpy as np

from ..autograd import Function
from ..device import array_module
from ..versions import storage


class Reshape(Function):
    """y = x seen with a new shape (a view when the layout allows); dL/dx = g reshaped back.
    `op` names the node as torch names it (View, Squeeze0, Unsqueeze0, ...)."""

    view = True

    @staticmethod
    def forward(ctx, x, shape, op="View"):
        out = x.reshape(shape)
        ctx.shape, ctx.op = x.shape, op if op != "View" or storage(out) is storage(x) else "UnsafeView"
        return out

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape), None, None


class Permute(Function):
    """y = x with axes reordered by `dims`; the gradient is permuted by the inverse order."""

    view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.inverse = tuple(sorted(range(len(dims)), key=dims.__getitem__))
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        return g.transpose(ctx.inverse), None


class Transpose(Function):
    """y = x with axes d0 and d1 swapped; its own inverse (`op`: "T" for t())."""

    view = True

    @staticmethod
    def forward(ctx, x, d0, d1, op="Transpose"):
        ctx.d0, ctx.d1, ctx.op = d0, d1, op
        return x.swapaxes(d0, d1)

    @staticmethod
    def backward(ctx, g):
        return g.swapaxes(ctx.d0, ctx.d1), None, None, None


class Expand(Function):
    """y = x broadcast to `shape` (no copy); the engine sums the gradient back over the copies."""

    view = True

    @staticmethod
    def forward(ctx, x, shape):
        return array_module(x).broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        return g, None


class Cat(Function):
    """y = concatenation of the inputs along `axis`; each input gets its slice of g."""

    @staticmethod
    def forward(ctx, axis, *xs):
        ctx.axis = axis
        ctx.sizes = [x.shape[axis] for x in xs]
        return array_module(xs[0]).concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx, g):
        out, start = [None], 0
        index = [slice(None)] * g.ndim
        for size, need in zip(ctx.sizes, ctx.needs_input_grad[1:]):
            index[ctx.axis] = slice(start, start + size)
            out.append(g[tuple(index)] if need else None)
            start += size
        return tuple(out)


class Stack(Function):
    """y = the inputs stacked along a new axis; input i gets g's i-th entry along that axis.

    Stacking n arrays of shape (..., s_k, ...) at an axis k they have is concatenating them along
    k, (..., n s_k, ...), and reading that axis as (n, s_k): entry i s_k + j is x_i's entry j. The
    concatenation is one C call, where NumPy's stack reshapes every input first (3x slower for
    32 short windows)."""

    @staticmethod
    def forward(ctx, axis, *xs):
        ctx.axis = axis
        xp = array_module(xs[0])
        shape = xs[0].shape
        if axis == len(shape):
            return xp.stack(xs, axis=axis)
        return xp.concatenate(xs, axis=axis).reshape(shape[:axis] + (len(xs),) + shape[axis:])

    @staticmethod
    def backward(ctx, g):
        xp = array_module(g)
        return (None,) + tuple(xp.take(g, i, axis=ctx.axis) if need else None
                               for i, need in enumerate(ctx.needs_input_grad[1:]))


class Split(Function):
    """Views of x cut along `axis` at `sizes` (with `squeeze`, pieces of size 1 without that
    axis: unbind); the gradient puts the pieces' gradients back together (zeros for a piece
    that received none), laid out in memory like x: when x is a transposed view (the heads of
    a fused qkv projection), the gradient is then the same transposed view of a contiguous
    array, and the ops before can take it back without a copy.

    When the pieces' gradients already are those views of one array (attention hands back dq,
    dk and dv so, see fused_attention), that array is the gradient: no copy at all.
    """

    view = True

    @staticmethod
    def forward(ctx, x, sizes, axis, squeeze=False, op="Split"):
        ctx.axis, ctx.sizes, ctx.squeeze, ctx.memory_order, ctx.op = axis, sizes, squeeze, memory_order(x), op
        place = place_in_base(x)
        ctx.layout = place and (place[0].shape, place[1], x.shape, x.strides)
        if squeeze:  # unbind: the pieces are x[..., i, ...] along axis
            lead = (slice(None),) * axis
            return tuple([x[lead + (i, Ellipsis)] for i in range(len(sizes))])
        return tuple(_pieces(x, sizes, axis))

    @staticmethod
    def backward(ctx, *grads):
        if ctx.squeeze:
            grads = [None if g is None else array_module(g).expand_dims(g, ctx.axis) for g in grads]
        joined = _joined_without_copy(ctx, grads)
        if joined is not None:
            return joined, None, None, None, None
        template = next(g for g in grads if g is not None)
        shape = list(template.shape)
        shape[ctx.axis] = sum(ctx.sizes)
        dx = empty_in_memory_order(shape, ctx.memory_order, template.dtype, array_module(template))
        for piece, g in zip(_pieces(dx, ctx.sizes, ctx.axis), grads):
            piece[...] = 0 if g is None else g
        return dx, None, None, None, None


def _pieces(x, sizes, axis):
    index, start = [slice(None)] * x.ndim, 0
    for size in sizes:
        index[axis] = slice(start, start + size)
        yield x[tuple(index)]
        start += size


def _joined_without_copy(ctx, grads):
    """The gradient of Split's input as a view of the array the pieces' gradients are views
    of, when they are exactly the pieces of that view (same places, shapes and strides)."""
    if ctx.layout is None or any(g is None for g in grads):
        return None
    base_shape, offset, shape, strides = ctx.layout
    whole = grads[0].base
    if not (isinstance(whole, np.ndarray) and whole.shape == base_shape and whole.flags.c_contiguous):
        return None
    dx = np.ndarray(shape, whole.dtype, buffer=whole, offset=offset, strides=strides)
    for piece, g in zip(_pieces(dx, ctx.sizes, ctx.axis), grads):
        if piece.shape != g.shape or _address(piece) != _address(g) or _steps(piece) != _steps(g):
            return None
    return dx


def _steps(a):
    """a's strides along its axes longer than 1 (the others' strides are arbitrary)."""
    return [stride for stride, n in zip(a.strides, a.shape) if n > 1]


def place_in_base(a):
    """(base, byte offset of a in it) when a is a NumPy view of a C-contiguous NumPy array, else None."""
    base = getattr(a, "base", None)
    if not (isinstance(a, np.ndarray) and isinstance(base, np.ndarray) and base.flags.c_contiguous):
        return None
    return base, _address(a) - _address(base)


def same_view_in(whole, a, offset):
    """The view of `whole` (shaped like a's base) that a is of its base: a's shape and strides at `offset`."""
    return np.ndarray(a.shape, whole.dtype, buffer=whole, offset=offset, strides=a.strides)


def _address(a):
    return a.__array_interface__["data"][0]


def memory_order(a):
    """a's axes from the largest stride to the smallest (ties in axis order): the order in
    which its elements lie in memory."""
    return tuple(sorted(range(a.ndim), key=lambda i: -abs(a.strides[i])))


def empty_in_memory_order(shape, order, dtype, xp):
    """An uninitialized array of `shape` whose axes lie in memory in `order` (see memory_order):
    a contiguous array, seen through a transpose."""
    a = xp.empty([shape[i] for i in order], dtype)
    return a.transpose(sorted(range(len(order)), key=order.__getitem__))


class Roll(Function):
    """y = x rolled by `shifts` along `dims`; the gradient rolls back by -shifts."""

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return array_module(x).roll(x, shifts, axis=dims)

    @staticmethod
    def backward(ctx, g):
        neg = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return array_module(g).roll(g, neg, axis=ctx.dims), None, None


class Flip(Function):
    """y = x reversed along `dims` (a copy, as torch's flip); its own inverse."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return array_module(x).flip(x, dims).copy()

    @staticmethod
    def backward(ctx, g):
        return array_module(g).flip(g, ctx.dims), None


class Tri(Function):
    """y = tril(x, k) or triu(x, k): a fixed 0/1 mask, so dL/dx = the same mask applied to g."""

    @staticmethod
    def forward(ctx, x, k, lower):
        ctx.k, ctx.lower = k, lower
        return _tri(x, k, lower)

    @staticmethod
    def backward(ctx, g):
        return _tri(g, ctx.k, ctx.lower), None, None


def _tri(x, k, lower):
    xp = array_module(x)
    return xp.tril(x, k) if lower else xp.triu(x, k)


class Repeat(Function):
    """y = x tiled `reps` times per axis (torch's repeat); the gradient sums the tiles."""

    @staticmethod
    def forward(ctx, x, reps):
        xp = array_module(x)
        x = x.reshape((1,) * (len(reps) - x.ndim) + x.shape)
        ctx.shape = x.shape
        ctx.reps = reps
        return xp.tile(x, reps)

    @staticmethod
    def backward(ctx, g):
        split = []
        for r, s in zip(ctx.reps, ctx.shape):
            split += [r, s]
        g = g.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return g, None
