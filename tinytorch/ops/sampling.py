"""Selection and sampling on raw arrays: the TakeAlong Function (what sort and topk return as
values), the sort order behind them, multinomial draws and one-hot encodings. The Tensor methods
(`topk`, `sort`, `multinomial`) and `one_hot` wrap these (tensor_shape.py, functions.py)."""
import numpy as np

from ..autograd import Function
from ..device import array_module


class TakeAlong(Function):
    """y = x picked at `index` along `axis` (indices unique per slice, as from a sort);
    dL/dx puts g back at those places. `op` names the node as torch does (Topk, Sort)."""

    @staticmethod
    def forward(ctx, x, index, axis, op="Gather"):
        ctx.shape, ctx.index, ctx.axis, ctx.op = x.shape, index, axis, op
        return array_module(x).take_along_axis(x, index, axis=axis)

    @staticmethod
    def backward(ctx, g):
        xp = array_module(g)
        out = xp.zeros(ctx.shape, dtype=g.dtype)
        xp.put_along_axis(out, ctx.index, g, axis=ctx.axis)
        return out, None, None


def sorted_indices(a, k, axis, descending):
    """int64 indices of the first k entries of each slice along `axis` in sorted order, as torch's
    stable sort: NaN above everything (last ascending, first descending), ties in index order.

    Descending is the ascending order of the slice reversed, read backwards: that keeps ties in
    index order and NaNs first, and needs no negation (which would overflow the smallest integer
    and wrap unsigned ones)."""
    xp = array_module(a)
    if not descending:
        order = xp.argsort(a, axis=axis, kind="stable")
    else:
        reverse = (slice(None),) * axis + (slice(None, None, -1),)  # a view; np.flip costs microseconds more
        order = (a.shape[axis] - 1) - xp.argsort(a[reverse], axis=axis, kind="stable")[reverse]
    return xp.take(order, xp.arange(k), axis=axis).astype(np.int64)


def multinomial_indices(p, num_samples, replacement, generator):
    """Draw category indices from each row of non-negative weights p, shape (C,) or (N, C) (rows
    need not sum to 1), with `generator` (a tinytorch Generator), as torch's CPU multinomial does.

    Without replacement, or for a single sample: the exponential race. q = p / E with
    E ~ Exp(1) drawn for every weight (`exponential_` over p's shape and dtype, row after row);
    the sample is argmax q, or the num_samples largest q in decreasing order (topk). Zero weights
    give q = 0 and come last.

    With replacement and several samples: for each row the cumulative sums of the weights in
    p's dtype (float for half), divided by their total, the last set to 1; then for each sample a
    double uniform u and the first category whose cumulative value is >= u.
    """
    if p.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {tuple(p.shape)}")
    if p.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {p.dtype}")
    xp = array_module(p)
    rows = p.reshape(1, -1) if p.ndim == 1 else p
    if (rows < 0).any() or not xp.isfinite(rows).all():
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    if (rows.sum(axis=1, dtype=np.float64) <= 0).any():
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError(f"multinomial: cannot sample n_sample ({num_samples}) > prob_dist.size(-1) "
                           f"({rows.shape[1]}) samples without replacement")
    if not replacement or num_samples == 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            q = rows / generator.exponential(rows.shape, rows.dtype)
        if num_samples == 1:
            idx = xp.argmax(q, axis=1)[:, None]
        else:
            idx = xp.argsort(-q, axis=1, kind="stable")[:, :num_samples]
    else:
        acc = np.float32 if rows.dtype == np.float16 else rows.dtype
        cdf = xp.cumsum(rows.astype(acc), axis=1)
        cdf = cdf / cdf[:, -1:]
        cdf[:, -1] = 1
        u = generator.uniform((rows.shape[0], num_samples), np.float64)
        idx = xp.stack([xp.searchsorted(c.astype(np.float64), uu, side="left") for c, uu in zip(cdf, u)])
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
