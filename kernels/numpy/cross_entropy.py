"""Softmax cross-entropy against class indices, forward and backward, in NumPy (or CuPy) over row blocks.

For logits x (N, C) and targets t (N,), per row, with a shift m >= max_j x_ij (arrays.exp_rows)
and l = log sum_j e^{x_ij - m}: loss_i = (m - x_{i t_i}) + l and d loss_i / d x_ij =
e^{(x_ij - m) - l} - [j = t_i]. A row whose target is `ignore_index` has loss 0 and gradient 0.
Only m and l are kept for the backward, which recomputes the probabilities row block by row block
straight into the gradient.

    cross_entropy_forward(x, target, ignore_index)  -> (loss (N,), (m, l), rows counted)
    cross_entropy_backward(x, target, ignore_index, (m, l), coef)  -> dx (N, C); coef: the incoming
                                                      gradient per row (N,), or one for all rows
"""
from .arrays import array_module, exp_rows, row_blocks


def check_cross_entropy(op, x, target):
    if x.ndim != 2 or target.shape != (x.shape[0],) or x.dtype.kind not in "fV" or target.dtype.kind not in "iu":
        raise ValueError(f"{op}: needs float logits (N, C) and integer targets (N,), got {x.shape} {x.dtype} "
                         f"and {target.shape} {target.dtype}")


def cross_entropy_forward(x, target, ignore_index):
    """A target outside [0, C) other than ignore_index raises IndexError, as torch does."""
    check_cross_entropy("cross_entropy_forward", x, target)
    xp = array_module(x)
    n, n_classes = x.shape
    valid = target != ignore_index
    bad = valid & ((target < 0) | (target >= n_classes))
    if bad.any():
        raise IndexError(f"cross_entropy: Target {int(target[bad][0])} is out of bounds (expected 0 <= target < "
                         f"{n_classes} or ignore_index={ignore_index})")
    shift, total = xp.empty(n, x.dtype), xp.empty(n, x.dtype)
    for rows, (e,) in row_blocks(n, n_classes, xp, x.dtype, 1):
        shift[rows], total[rows] = exp_rows(x[rows], e)
    log_total = xp.log(total)
    picked = x[xp.arange(n), xp.where(valid, target, 0)]
    loss = xp.where(valid, (shift - picked) + log_total, x.dtype.type(0))
    return loss, (shift, log_total), int(valid.sum())


def cross_entropy_backward(x, target, ignore_index, stats, coef):
    """dx (N, C) = coef_i (softmax(x_i) - onehot(t_i)) for the rows not ignored, 0 for the others."""
    check_cross_entropy("cross_entropy_backward", x, target)
    xp = array_module(x)
    n, n_classes = x.shape
    shift, log_total = stats
    valid = target != ignore_index
    c = xp.where(valid, xp.broadcast_to(xp.asarray(coef, x.dtype), (n,)), x.dtype.type(0))
    dx = xp.empty(x.shape, x.dtype)
    for rows, _ in row_blocks(n, n_classes, xp):
        out = dx[rows]
        xp.subtract(x[rows], shift[rows, None], out=out)
        out -= log_total[rows, None]
        xp.exp(out, out=out)
        out *= c[rows, None]
    kept = xp.flatnonzero(valid)
    dx[kept, target[kept]] -= c[kept]
    return dx
