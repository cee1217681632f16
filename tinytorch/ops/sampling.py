"""Selection and sampling on raw arrays: the TakeAlong Function (what sort and topk return as
values), the sort order behind them, multinomial draws and one-hot encodings. The Tensor methods
(`topk`, `sort`, `multinomial`) and `one_hot` wrap these (tensor_shape.py, functions.py)."""
import numpy as np

from ..autograd import Function
from ..device import array_module


class TakeAlong(Function):
    """y = x picked at `index` along `axis` (indices unique per slice, as from a sort);
    dL/dx puts g back at those places."""

    @staticmethod
    def forward(ctx, x, index, axis):
        ctx.shape, ctx.index, ctx.axis = x.shape, index, axis
        return array_module(x).take_along_axis(x, index, axis=axis)

    @staticmethod
    def backward(ctx, g):
        xp = array_module(g)
        out = xp.zeros(ctx.shape, dtype=g.dtype)
        xp.put_along_axis(out, ctx.index, g, axis=ctx.axis)
        return out, None, None


def sorted_indices(a, k, axis, descending):
    """int64 indices of the first k entries of each slice along `axis` in sorted order
    (stable: ties keep their order, as torch's stable sort)."""
    xp = array_module(a)
    key = -a if descending and a.dtype.kind != "b" else (~a if descending else a)
    order = xp.argsort(key, axis=axis, kind="stable")
    return xp.take(order, xp.arange(k), axis=axis).astype(np.int64)


def multinomial_indices(p, num_samples, replacement, generator):
    """Draw category indices from each row of non-negative weights p, shape (C,) or (N, C) (rows
    need not sum to 1), with `generator` (a tinytorch.random.Generator).

    With replacement: invert the cumulative distribution at uniform draws. Without: the
    exponential race, argsort of E_i / w_i with E_i ~ Exp(1), picks in order of arrival; when a
    row has fewer positive weights than num_samples, its zero-weight classes fill the rest
    (torch 2.x does the same rather than raising).
    """
    if p.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {tuple(p.shape)}")
    xp = array_module(p)
    rows = p.reshape(1, -1) if p.ndim == 1 else p
    if (rows < 0).any() or not xp.isfinite(rows).all():
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    totals = rows.sum(axis=1, keepdims=True, dtype=np.float64)
    if (totals <= 0).any():
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError(f"multinomial: cannot sample n_sample ({num_samples}) > prob_dist.size(-1) "
                           f"({rows.shape[1]}) samples without replacement")
    if replacement:
        cdf = xp.cumsum(rows, axis=1, dtype=np.float64) / totals
        u = generator.uniform((rows.shape[0], num_samples), np.float64)
        idx = xp.stack([xp.searchsorted(c, uu, side="right") for c, uu in zip(cdf, u)])
        idx = xp.minimum(idx, rows.shape[1] - 1)
    else:
        e = -xp.log1p(-generator.uniform(rows.shape, np.float64))
        with np.errstate(divide="ignore"):
            keys = xp.where(rows > 0, e / rows, xp.inf)  # zero weights come last, as in torch
        idx = xp.argsort(keys, axis=1, kind="stable")[:, :num_samples]
    idx = idx.astype(np.int64)
    return idx[0] if p.ndim == 1 else idx


def one_hot_array(a, num_classes=-1):
    """int64 one-hot encoding of the integer array a, with a new last axis of size num_classes
    (max + 1 when -1)."""
    if a.dtype.kind not in "iu":
        raise RuntimeError(f"one_hot is only applicable to index tensor (got dtype {a.dtype})")
    xp = array_module(a)
    if num_classes == -1:
        num_classes = int(a.max()) + 1 if a.size else 0
    if a.size and (a.min() < 0 or a.max() >= num_classes):
        raise RuntimeError(f"one_hot: class values must be in [0, {num_classes}), got values in "
                           f"[{int(a.min())}, {int(a.max())}]")
    return (a[..., None] == xp.arange(num_classes)).astype(np.int64)
