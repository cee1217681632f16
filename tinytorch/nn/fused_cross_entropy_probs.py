"""Softmax cross-entropy against class probabilities: F.cross_entropy's form for a floating
target of the input's shape (soft labels, mixup, distillation), next to its naive twin."""
from ..autograd import Function
from ..device import array_module
from ..kernels.numpy.arrays import exp_rows, row_sums
from ..ops.errors import shapes_error
from .fused_activation import log_softmax_naive
from .fused_common import loss_grad_per_element, reduce_loss


def holds_probabilities(input, target):
    """torch's rule: a target of the input's shape and a floating dtype holds class probabilities
    (any other is class indices)."""
    return target.dtype.is_floating_point and tuple(target.shape) == tuple(input.shape)


def probabilities_last(op, input, target):
    """Logits (N, C, d1, ...) or (C,) and probabilities of that shape as (rows, C) pairs (the
    class axis moved last, in the same order for both), plus the shape of the per-row loss."""
    if input.ndim == 0:
        raise shapes_error(op, input.shape, target.shape, why="are invalid: input needs a class dimension")
    if input.ndim == 1:
        return input.unsqueeze(0), target.unsqueeze(0), ()
    out_shape = (input.shape[0],) + tuple(input.shape[2:])
    if input.ndim > 2:
        order = (0, *range(2, input.ndim), 1)
        input, target = input.permute(*order), target.permute(*order)
    n_classes = input.shape[-1]
    return input.reshape(-1, n_classes), target.reshape(-1, n_classes), out_shape


class CrossEntropyProbs(Function):
    """Cross-entropy of logits x (N, C) against class probabilities t (N, C), with class
    weights w (all 1 by default) and label smoothing eps, as torch combines them:

        q_ic = (1 - eps) t_ic + eps / C,   loss_i = -sum_c w_c q_ic log p_ic,   p_i = softmax(x_i).

    'mean' divides the sum by N (the weights do not enter the denominator here, unlike the
    class-index form). log p = x - m - log sum_c e^{x - m} (exp_rows picks the shift m) is kept
    for the backward. With s_i = sum_c w_c q_ic and d log p_ic / d x_ik = [c = k] - p_ik:

        d loss_i / d x_ik = s_i p_ik - w_k q_ik,   d loss_i / d t_ik = -(1 - eps) w_k log p_ik.
    """

    @staticmethod
    def forward(ctx, x, t, weight, reduction, label_smoothing):
        xp = array_module(x)
        log_p = xp.empty(x.shape, x.dtype)
        m, total = exp_rows(x, log_p)                                   # log_p holds e^{x - m} first
        xp.subtract(x, (m + xp.log(total))[:, None], out=log_p)
        wq = CrossEntropyProbs.weighted_targets(t, weight, label_smoothing)
        loss = -row_sums(wq * log_p)
        ctx.log_p, ctx.t, ctx.weight, ctx.reduction, ctx.label_smoothing = log_p, t, weight, reduction, label_smoothing
        return reduce_loss(loss, reduction, x.shape[0])

    @staticmethod
    def backward(ctx, g):
        xp = array_module(g)
        log_p, weight, eps = ctx.log_p, ctx.weight, ctx.label_smoothing
        gi = loss_grad_per_element(g, ctx.reduction, log_p.shape[0])
        gi = gi[:, None] if ctx.reduction == "none" else gi
        wq = CrossEntropyProbs.weighted_targets(ctx.t, weight, eps)
        dx = gi * (row_sums(wq)[:, None] * xp.exp(log_p) - wq)
        dt = None
        if ctx.needs_input_grad[1]:
            dt = gi * (-(1 - eps)) * (log_p if weight is None else weight * log_p)
        return dx, dt, None, None, None

    @staticmethod
    def weighted_targets(t, weight, label_smoothing):
        """w_c q_ic: the smoothed targets, times the class weights."""
        q = t * (1 - label_smoothing) + label_smoothing / t.shape[1] if label_smoothing else t
        return q if weight is None else q * weight


def cross_entropy_probs_naive(input, target, weight=None, reduction="mean", label_smoothing=0.0):
    """-sum_c w_c q_ic log_softmax(x)_ic with q the smoothed targets, in Tensor ops."""
    x, t, out_shape = probabilities_last("cross_entropy", input, target)
    q = t * (1 - label_smoothing) + label_smoothing / x.shape[1] if label_smoothing else t
    wq = q if weight is None else q * weight
    loss = -(wq * log_softmax_naive(x, 1)).sum(1)
    return reduce_loss(loss.reshape(out_shape), reduction, x.shape[0])
