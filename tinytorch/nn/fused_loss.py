"""Fused losses: cross_entropy (softmax + negative log-likelihood in one Function), nll_loss and
mse_loss, each next to its `*_naive` twin built from Tensor primitives."""
import numpy as np

from .. import backends
from ..autograd import Function
from ..device import array_module
from ..kernels.numpy.arrays import exp_rows, fits_in_cache, row_blocks, row_sums
from ..ops.errors import shapes_error
from .fused_activation import log_softmax_naive
from .fused_common import loss_grad_per_element, reduce_loss
from .fused_cross_entropy_probs import cross_entropy_probs_naive, holds_probabilities


def classes_last(op, input, target):
    """Logits (N, C), (N, C, d1, ...) or (C,) and targets (N,), (N, d1, ...) or () as
    (rows, C) logits and (rows,) targets, plus the shape a per-element loss takes."""
    if input.ndim == 0:
        raise shapes_error(op, input.shape, target.shape, why="are invalid: input needs a class dimension")
    expected = input.shape[:1] + input.shape[2:] if input.ndim > 1 else ()
    if tuple(target.shape) != tuple(expected):
        raise shapes_error(op, input.shape, target.shape,
                           why=f"do not match (input, target): expected a target of shape {tuple(expected)}")
    if input.ndim == 2:
        return input, target, tuple(expected)
    if input.ndim == 1:
        return input.unsqueeze(0), target.reshape(1), ()
    if input.ndim > 2:
        input = input.permute(0, *range(2, input.ndim), 1)
    return input.reshape(-1, input.shape[-1]), target.reshape(-1), tuple(expected)


def class_targets(op, target, n_classes, ignore_index, weight, dtype):
    """Checked class indices: (safe, valid, w_t) with safe = target where valid else 0,
    valid = [target != ignore_index] (bool) and w_t = weight[safe] * valid in `dtype`."""
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected class indices of an integer dtype as target, got {target.dtype}")
    xp = array_module(target)
    valid = target != ignore_index
    bad = valid & ((target < 0) | (target >= n_classes))
    if bad.any():
        raise IndexError(f"{op}: Target {int(target[bad][0])} is out of bounds (expected 0 <= target < {n_classes} "
                         f"or ignore_index={ignore_index})")
    safe = xp.where(valid, target, 0)
    w_t = valid.astype(dtype) if weight is None else weight[safe] * valid
    return safe, valid, w_t


class CrossEntropy(Function):
    """Softmax cross-entropy of logits x (N, C) against class indices t (N,).

    Row-wise, z = x - m and l = log sum_c e^z, with a shift m >= max_c x (kernels/numpy/arrays.exp_rows),
    so log p_ic = z_ic - l_i never overflows.
    With class weights w (all 1 by default), W = sum_c w_c, label smoothing eps and
    valid_i = [t_i != ignore_index], torch's loss is loss_i = -sum_c q_ic log p_ic with

        q_ic = a_i [c = t_i] + b_i w_c,   a_i = valid_i (1 - eps) w_{t_i},   b_i = valid_i eps / C,
        loss_i = a_i (l_i - z_{i t_i}) + b_i (W l_i - sum_c w_c z_ic).

    'sum' adds the loss_i; 'mean' divides the sum by D = sum_i valid_i w_{t_i}.
    Backward: d log p_ic / d x_ik = [c = k] - p_ik, so with s_i = sum_c q_ic = a_i + b_i W,

        d loss_i / d x_ik = s_i p_ik - q_ik,

    which is lecture 5's dlogits = (softmax - onehot) / N in the plain mean case. Without class
    weights or label smoothing (a = valid_i, b = 0), the kernels cross_entropy_forward and
    cross_entropy_backward run, keeping only m and l per row. Otherwise the code here: logits that
    fit in cache keep e^{x - m} from the forward; larger ones keep only m and e^l per row, and
    p = e^{x - m} / e^l is recomputed in row blocks, straight into the gradient array.
    """

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction, label_smoothing):
        ctx.plain = weight is None and not label_smoothing and target.dtype.kind in "iu"
        ctx.reduction = reduction
        if ctx.plain:
            loss, ctx.stats, counted = backends.kernel("cross_entropy_forward", x)(x, target, ignore_index)
            ctx.x, ctx.target, ctx.ignore_index, ctx.denominator = x, target, ignore_index, x.dtype.type(counted)
            return reduce_loss(loss, reduction, ctx.denominator)
        xp = array_module(x)
        n, n_classes = x.shape
        safe, valid, w_t = class_targets("cross_entropy", target, n_classes, ignore_index, weight, x.dtype)
        m, total = xp.empty(n, x.dtype), xp.empty(n, x.dtype)
        smooth = xp.empty(n, x.dtype) if label_smoothing else None
        kept = xp.empty(x.shape, x.dtype) if fits_in_cache(x.size) else None
        for rows, scratch in row_blocks(n, n_classes, xp, x.dtype, 0 if kept is not None else 1):
            e = scratch[0] if kept is None else kept[rows]
            m[rows], total[rows] = exp_rows(x[rows], e)
            if label_smoothing:
                z = x[rows] - m[rows, None]
                smooth[rows] = row_sums(z) if weight is None else z @ weight
        l = xp.log(total)
        z_t = xp.where(valid, x[xp.arange(n), safe] - m, 0)
        a = w_t * (1 - label_smoothing)
        loss = a * (l - z_t)
        b = total_w = None
        if label_smoothing:
            b = valid.astype(x.dtype) * (label_smoothing / n_classes)
            total_w = n_classes if weight is None else weight.sum()
            loss += b * (total_w * l - smooth)
        ctx.x, ctx.e, ctx.m, ctx.total, ctx.safe, ctx.a, ctx.b = x, kept, m, total, safe, a, b
        ctx.weight, ctx.total_w, ctx.reduction, ctx.denominator = weight, total_w, reduction, w_t.sum()
        return reduce_loss(loss, reduction, ctx.denominator)

    @staticmethod
    def backward(ctx, g):
        gi = loss_grad_per_element(g, ctx.reduction, ctx.denominator)
        if ctx.plain:
            dx = backends.kernel("cross_entropy_backward", ctx.x)(ctx.x, ctx.target, ctx.ignore_index, ctx.stats, gi)
            return dx, None, None, None, None, None
        x, m, a, b = ctx.x, ctx.m, ctx.a, ctx.b
        xp = array_module(x)
        n, n_classes = x.shape
        p_coef = gi * (a if b is None else a + b * ctx.total_w) / ctx.total
        smooth_coef = None if b is None else (gi * b)[:, None]
        w_row = 1 if ctx.weight is None else ctx.weight
        grad = xp.empty(x.shape, x.dtype)
        for rows, _ in row_blocks(n, n_classes, xp):
            out = grad[rows]
            if ctx.e is None:                     # recompute e^{x - m}
                xp.subtract(x[rows], m[rows, None], out=out)
                xp.exp(out, out=out)
            xp.multiply(out if ctx.e is None else ctx.e[rows], p_coef[rows, None], out=out)  # s_i p_ic
            if smooth_coef is not None:
                out -= smooth_coef[rows] * w_row
        grad[xp.arange(n), ctx.safe] -= gi * a
        return grad, None, None, None, None, None


class NLLLoss(Function):
    """loss_i = -w_{t_i} x_{i t_i} for log-probabilities x (N, C) ('mean' divides by sum_i w_{t_i});
    d loss_i / d x_ik = -w_{t_i} [k = t_i]: the gradient is the incoming one scattered to the targets."""

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction):
        xp = array_module(x)
        n, n_classes = x.shape
        safe, valid, w_t = class_targets("nll_loss", target, n_classes, ignore_index, weight, x.dtype)
        loss = -w_t * xp.where(valid, x[xp.arange(n), safe], 0)
        ctx.shape, ctx.safe, ctx.w_t, ctx.reduction, ctx.denominator = x.shape, safe, w_t, reduction, w_t.sum()
        return reduce_loss(loss, reduction, ctx.denominator)

    @staticmethod
    def backward(ctx, g):
        xp = array_module(g)
        gi = loss_grad_per_element(g, ctx.reduction, ctx.denominator)
        grad = xp.zeros(ctx.shape, g.dtype)
        grad[xp.arange(ctx.shape[0]), ctx.safe] = -gi * ctx.w_t
        return grad, None, None, None, None


class MSELoss(Function):
    """loss = reduce((x - y)^2) (x, y broadcast together; 'mean' divides by the element count);
    d loss / dx = 2 (x - y) g (/ n), d loss / dy = -d loss / dx."""

    @staticmethod
    def forward(ctx, x, y, reduction):
        d = x - y
        ctx.d, ctx.reduction = d, reduction
        return reduce_loss(d * d, reduction, d.size)

    @staticmethod
    def backward(ctx, g):
        dx = ctx.d * (2 * loss_grad_per_element(g, ctx.reduction, ctx.d.size))
        return dx, (-dx if ctx.needs_input_grad[1] else None), None


# ---- naive twins ----

def _reduce_naive(loss, reduction, denominator):
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.sum() / denominator


def cross_entropy_naive(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """log_softmax, then each row's log-probability at its target (lecture 4), with torch's
    weights, ignore_index and label smoothing spelled out in Tensor ops; a floating target of the
    input's shape holds class probabilities (cross_entropy_probs_naive)."""
    if holds_probabilities(input, target):
        return cross_entropy_probs_naive(input, target, weight, reduction, label_smoothing)
    x, t, out_shape = classes_last("cross_entropy", input, target)
    n, n_classes = x.shape
    logp = log_softmax_naive(x, 1)
    valid = t != ignore_index
    safe = t.where(valid, 0)
    w = x.new_ones(n_classes) if weight is None else weight
    w_t = w[safe] * valid
    loss = -logp[t.new_tensor(np.arange(n)), safe] * w_t * (1 - label_smoothing)
    if label_smoothing:
        loss = loss - (logp * w).sum(1) * valid * (label_smoothing / n_classes)
    return _reduce_naive(loss.reshape(out_shape), reduction, w_t.sum())


def nll_loss_naive(input, target, weight=None, ignore_index=-100, reduction="mean"):
    x, t, out_shape = classes_last("nll_loss", input, target)
    valid = t != ignore_index
    safe = t.where(valid, 0)
    w = x.new_ones(x.shape[1]) if weight is None else weight
    w_t = w[safe] * valid
    loss = -x[t.new_tensor(np.arange(x.shape[0])), safe] * w_t
    return _reduce_naive(loss.reshape(out_shape), reduction, w_t.sum())


def mse_loss_naive(input, target, reduction="mean", weight=None):
    d = input - target
    loss = d * d if weight is None else d * d * weight
    denominator = d.numel() if weight is None else weight.sum()
    return _reduce_naive(loss, reduction, denominator)
