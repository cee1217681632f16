"""Scatter: the values of `src` written, or reduced, into a copy of `x` at places an index gives
along one axis (torch's scatter, scatter_add, scatter_reduce), and index_add.

For scatter, `index` has x's number of dims and is no larger than src in any dim (only src's
part of index's shape is used). Element i of that part goes to x's element at `places[i]`: i
itself, with its coordinate along `axis` replaced by index[i]. Several elements may go to one
place; `reduce` says how they combine with each other and, when `include_self`, with x's value.

Every output element y_j is then a reduction over its group G_j: x_j (when it takes part) and
the src elements sent to j. The gradient of an element e of G_j is g_j * w_e, where
w_e = d y_j / d e is, per reduction,

    sum:        1
    mean:       1 / |G_j|
    amax, amin: [e = y_j] / (number of members of G_j equal to y_j)   (ties share, as in torch)
    prod:       prod(G_j without e) = P_j / e if e != 0, else P_j if e is G_j's only zero, else 0
                (P_j the product of G_j's non-zero members: exact where y_j / e would divide by 0)

and x's elements that do not take part get no gradient (w = 0).
"""
import numpy as np

from ..autograd import Function
from ..device import array_module
from .indexing import open_grid, scatter_add

REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")
_UFUNCS = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum", "amin": "minimum"}


def places(xp, index, axis):
    """The index tuple that sends element i of an index-shaped array to its place in x."""
    grid = open_grid(xp, index.shape)
    grid[axis] = index
    return tuple(grid)


def _within(a, shape):
    """a[:shape[0], :shape[1], ...]: the part of a that an index of `shape` uses."""
    return a[tuple(slice(0, n) for n in shape)]


def _at(xp, ufunc, target, key, values):
    """target[key] = ufunc(target[key], values), repeated keys combining in turn (ufunc.at)."""
    if xp.__name__ == "numpy":
        getattr(np, ufunc).at(target, key, values)
    elif ufunc == "add":
        scatter_add(xp, target, key, values)
    elif ufunc in ("maximum", "minimum"):
        import cupyx
        getattr(cupyx, f"scatter_{ufunc[:3]}")(target, key, values)
    else:  # CuPy has no scatter_mul: the product on the host
        host = target.get()
        np.multiply.at(host, tuple(k.get() if hasattr(k, "get") else k for k in key), values.get())
        target[...] = xp.asarray(host)


def _identity(reduce, dtype):
    """The value a place starts from when x's own value is left out."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    low, high = (-np.inf, np.inf) if dtype.kind in "fV" else (np.iinfo(dtype).min, np.iinfo(dtype).max)
    return low if reduce == "amax" else high


def reduce_into(x, key, src, reduce, include_self):
    """(y, counts): x with the elements of src reduced into it at `key`; counts, for 'mean' only,
    is |G_j| per place (1 where nothing arrives and x is kept)."""
    xp = array_module(x)
    out = x.copy()
    if not include_self:
        out[key] = _identity(reduce, x.dtype)
    _at(xp, _UFUNCS[reduce], out, key, src)
    if reduce != "mean":
        return out, None
    counts = xp.zeros(x.shape, dtype=x.dtype)
    scatter_add(xp, counts, key, xp.ones(src.shape, dtype=x.dtype))
    if include_self:
        counts += 1
    counts[counts == 0] = 1  # (left out but nothing arrived: x is kept)
    if out.dtype.kind in "fV":
        out /= counts
    else:
        out //= counts
    return out, counts


class ScatterReduce(Function):
    """y = x with src reduced into it at index along axis (sum, prod, mean, amax or amin),
    x's own value taking part unless include_self is False; backward as the module docstring
    derives: dL/dx = g * w_x, dL/dsrc = g[places] * w_src."""

    @staticmethod
    def forward(ctx, x, axis, index, src, reduce, include_self=True):
        xp = array_module(x)
        key = places(xp, index, axis)
        part = _within(src, index.shape)
        out, counts = reduce_into(x, key, part, reduce, include_self)
        ctx.key, ctx.reduce, ctx.include_self, ctx.src_shape = key, reduce, include_self, src.shape
        ctx.x, ctx.part, ctx.out, ctx.counts = (x, part, out, counts) if reduce in ("prod", "amax", "amin") \
            else (None, None, None, counts)
        return out

    @staticmethod
    def backward(ctx, g):
        need_x, need_src = ctx.needs_input_grad[0], ctx.needs_input_grad[3]
        xp = array_module(g)
        key = ctx.key
        w_x, w_src = _weights(ctx, xp, g.dtype)
        grad_x = grad_src = None
        if need_x:
            grad_x = g if w_x is None else g * w_x
            if not ctx.include_self:  # x's values at the places written took no part
                grad_x = grad_x.copy() if w_x is None else grad_x
                grad_x[key] = 0
        if need_src:
            picked = g[key] if w_src is None else g[key] * w_src
            grad_src = xp.zeros(ctx.src_shape, dtype=g.dtype)
            _within(grad_src, picked.shape)[...] = picked
        return grad_x, None, None, grad_src, None, None


def _weights(ctx, xp, dtype):
    """(w_x, w_src) of the module docstring; None stands for all ones."""
    reduce, key = ctx.reduce, ctx.key
    if reduce == "sum":
        return None, None
    if reduce == "mean":
        w = 1 / ctx.counts
        return w, w[key]
    x, part, out = ctx.x, ctx.part, ctx.out
    takes_part = xp.ones(x.shape, dtype=bool)
    if not ctx.include_self:
        takes_part[key] = False
    if reduce in ("amax", "amin"):
        x_wins = (x == out) & takes_part
        src_wins = part == out[key]
        winners = x_wins.astype(dtype)
        scatter_add(xp, winners, key, src_wins.astype(dtype))
        return x_wins / winners, src_wins / winners[key]
    x_zero = (x == 0) & takes_part
    src_zero = part == 0
    zeros = x_zero.astype(np.int64)
    scatter_add(xp, zeros, key, src_zero.astype(np.int64))
    nonzero_product = xp.where(takes_part & ~x_zero, x, 1).astype(dtype)
    _at(xp, "multiply", nonzero_product, key, xp.where(src_zero, 1, part).astype(dtype))
    return (_exclusive_product(x, x_zero, zeros, nonzero_product) * takes_part,
            _exclusive_product(part, src_zero, zeros[key], nonzero_product[key]))


def _exclusive_product(values, is_zero, zeros, nonzero_product):
    """The product of each value's group without that value (see the module docstring)."""
    xp = array_module(values)
    safe = xp.where(is_zero, 1, values)
    return xp.where(is_zero, (zeros == 1) * nonzero_product, (zeros == 0) * nonzero_product / safe)


class ScatterAdd(ScatterReduce):
    """y = x with src added in at index along axis: scatter_reduce's sum with x included."""

    @staticmethod
    def forward(ctx, x, axis, index, src):
        return ScatterReduce.forward(ctx, x, axis, index, src, "sum", True)


class Scatter(Function):
    """y = x with src (an array, or one value) written at index along axis; with a legacy
    `reduce` ('add' or 'multiply') combined in instead, which torch does not differentiate.

    dL/dx = g with zeros at the places written; dL/dsrc = g[places] (every element written gets
    its place's gradient, even where a repeated index let another element win, as in torch)."""

    @staticmethod
    def forward(ctx, x, axis, index, src, reduce=None):
        xp = array_module(x)
        key = places(xp, index, axis)
        value = _within(src, index.shape) if getattr(src, "ndim", 0) else src
        if reduce is None:
            out = x.copy()
            out[key] = value
        else:
            value = xp.broadcast_to(xp.asarray(value, dtype=x.dtype), index.shape)
            out, _ = reduce_into(x, key, value, "sum" if reduce == "add" else "prod", True)
        ctx.key, ctx.reduce, ctx.src_shape = key, reduce, getattr(src, "shape", None)
        return out

    @staticmethod
    def backward(ctx, g):
        if ctx.reduce is not None:
            raise RuntimeError("derivative for aten::scatter is not implemented (scatter with reduce=)")
        need_x, need_src = ctx.needs_input_grad[0], ctx.needs_input_grad[3]
        xp = array_module(g)
        grad_x = grad_src = None
        if need_x:
            grad_x = g.copy()
            grad_x[ctx.key] = 0
        if need_src:
            grad_src = xp.zeros(ctx.src_shape, dtype=g.dtype)
            picked = g[ctx.key]
            _within(grad_src, picked.shape)[...] = picked
        return grad_x, None, None, grad_src, None


class IndexAdd(Function):
    """y = x with alpha * source added to the slices of x that index picks along axis
    (y.index_select(axis, index) += alpha * source, repeated indices adding up).

    dL/dx = g;  dL/dsource = alpha * g.index_select(axis, index)."""

    @staticmethod
    def forward(ctx, x, axis, index, source, alpha=1):
        xp = array_module(x)
        key = (slice(None),) * axis + (index,)
        out = x.copy()
        scatter_add(xp, out, key, source * alpha if alpha != 1 else source)
        ctx.key, ctx.alpha = key, alpha
        return out

    @staticmethod
    def backward(ctx, g):
        grad_source = None
        if ctx.needs_input_grad[3]:
            grad_source = g[ctx.key]
            if ctx.alpha != 1:
                grad_source = grad_source * ctx.alpha
        return g, None, None, grad_source, None
