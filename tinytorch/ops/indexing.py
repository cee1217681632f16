"""Indexing: x[key] with ints, slices, None, Ellipsis, integer arrays and boolean masks; gather.

The gradient of a gather-like read is a scatter-add: every place an element was read from
receives the gradient of each read, so repeated indices accumulate.
"""
from .. import backends
from ..autograd import Function
from ..device import array_module


def scatter_add(xp, target, index, values):
    """target[index] += values, accumulating over repeated indices (NumPy's ufunc.at)."""
    if xp.__name__ == "numpy":
        xp.add.at(target, index, values)
    else:
        import cupyx
        cupyx.scatter_add(target, index, values)


def open_grid(xp, shape):
    """NumPy's indices(shape, sparse=True) for numpy and cupy: one arange per dim, shaped to
    broadcast against the others (length n_i along dim i, 1 elsewhere)."""
    return [xp.arange(n).reshape((1,) * i + (n,) + (1,) * (len(shape) - i - 1)) for i, n in enumerate(shape)]


def is_basic(key):
    """True when key uses only ints, slices, None and Ellipsis: x[key] is then a view."""
    return all(k is None or k is Ellipsis or isinstance(k, (int, slice)) for k in key)


def indexed(x, key):
    """x[key], where a basic key that picks one element gives a 0-d view (torch's) rather than
    NumPy's scalar copy."""
    out = x[key]
    if not isinstance(out, type(x)) and is_basic(key):
        out = x[key + (Ellipsis,)]
    return out


class GetItem(Function):
    """y = x[key] (a view for a basic key);  dL/dx = zeros with g scattered (added) back to the
    places that were read."""

    view = True

    @staticmethod
    def forward(ctx, x, key):
        ctx.shape, ctx.dtype, ctx.key = x.shape, x.dtype, key
        return indexed(x, key)

    @staticmethod
    def backward(ctx, g):
        xp = array_module(g)
        key = ctx.key
        if len(key) == 1 and getattr(key[0], "dtype", None) is not None and key[0].dtype.kind in "iu" \
                and g.dtype.kind in "fV":  # x[idx], an embedding lookup: the embedding's scatter-add kernel
            n = ctx.shape[0]
            rows = key[0].reshape(-1) % n
            found = backends.kernel("embedding_backward", g)(rows, g.reshape(rows.size, -1), n)
            return found.reshape(ctx.shape), None
        out = xp.zeros(ctx.shape, dtype=g.dtype)
        if is_basic(key):
            out[key] = g
        else:
            scatter_add(xp, out, key, g)
        return out, None


class Gather(Function):
    """y[i][j] = x[i][index[i][j]] along `axis` (torch.gather; index may be smaller than x in the
    other dims); dL/dx scatter-adds g at index."""

    @staticmethod
    def forward(ctx, x, axis, index):
        ctx.shape, ctx.axis, ctx.index = x.shape, axis, index
        inside = tuple(slice(None) if i == axis else slice(0, n) for i, n in enumerate(index.shape))
        return array_module(x).take_along_axis(x[inside], index, axis=axis)

    @staticmethod
    def backward(ctx, g):
        xp = array_module(g)
        out = xp.zeros(ctx.shape, dtype=g.dtype)
        full = open_grid(xp, ctx.index.shape)
        full[ctx.axis] = ctx.index
        scatter_add(xp, out, tuple(full), g)
        return out, None, None


class IndexSelect(Function):
    """y = x.index_select(axis, index): whole slices picked by an index vector."""

    @staticmethod
    def forward(ctx, x, axis, index):
        ctx.shape, ctx.axis, ctx.index = x.shape, axis, index
        return array_module(x).take(x, index, axis=axis)

    @staticmethod
    def backward(ctx, g):
        xp = array_module(g)
        out = xp.zeros(ctx.shape, dtype=g.dtype)
        key = (slice(None),) * ctx.axis + (ctx.index,)
        scatter_add(xp, out, key, g)
        return out, None, None


class IndexPut(Function):
    """y = x with y[key] = values (or += values, accumulating over repeated indices, with
    `accumulate`): torch's index_put, which `x[key] = values` is.

    dL/dx = g, with zeros at key unless accumulating (those elements were overwritten);
    dL/dvalues = g[key] (the engine sums it back to values' shape if they were broadcast)."""

    @staticmethod
    def forward(ctx, x, key, values, accumulate=False):
        ctx.key, ctx.accumulate = key, accumulate
        out = x.copy()
        if accumulate:
            xp = array_module(x)
            scatter_add(xp, out, key, xp.broadcast_to(xp.asarray(values, dtype=x.dtype), out[key].shape))
        else:
            out[key] = values
        return out

    @staticmethod
    def backward(ctx, g):
        need_x, _, need_values = ctx.needs_input_grad[:3]
        grad_values = g[ctx.key] if need_values else None
        grad_x = None
        if need_x:
            grad_x = g
            if not ctx.accumulate:
                grad_x = g.copy()
                grad_x[ctx.key] = 0
        return grad_x, None, grad_values, None
