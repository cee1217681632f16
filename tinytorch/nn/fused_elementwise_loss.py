"""Fused elementwise losses: binary cross-entropy (on probabilities and on logits), the smooth-L1
family (L1, smooth L1, Huber) and KL divergence, each one Function with a hand-derived backward
next to its `*_naive` twin built from Tensor primitives.

Every Function returns reduce_loss(loss, reduction, n) of its per-element losses; the backward
starts from loss_grad_per_element, the adjoint of that reduction (n = the element count, or
the batch size for kl_div's 'batchmean').
"""
import numpy as np

from ..autograd import Function
from ..device import array_module
from .fused_common import loss_grad_per_element, reduce_loss

LOG_FLOOR = -100.0  # torch clamps the logs of binary_cross_entropy here, so 0 * log 0 = 0, not nan
BCE_EPS = 1e-12     # and keeps its gradient's denominator x (1 - x) at least this


class BinaryCrossEntropy(Function):
    """Probabilities x in [0, 1], targets t and a weight w (broadcast to x's shape):

        loss = -w (t max(log x, -100) + (1 - t) max(log(1 - x), -100)).

    Backward (inside the clamps): d loss / dx = w (-t / x + (1 - t) / (1 - x)) = w (x - t) / (x (1 - x)),
    with the denominator kept >= 1e-12 as torch keeps it, and d loss / dt = w (log(1 - x) - log x)
    = -w logit(x). torch gives the weight no gradient.
    """

    @staticmethod
    def forward(ctx, x, t, w, reduction):
        xp = array_module(x)
        for name, a in (("input", x), ("target", t)):
            if ((a < 0) | (a > 1)).any():
                raise RuntimeError(f"binary_cross_entropy: all elements of {name} should be between 0 and 1")
        with np.errstate(divide="ignore"):  # log 0 = -inf, then clamped
            log_x = xp.maximum(xp.log(x), LOG_FLOOR)
            log_1mx = xp.maximum(xp.log1p(-x), LOG_FLOOR)
        loss = -(t * log_x + (1 - t) * log_1mx)
        if w is not None:
            loss *= w
        ctx.x, ctx.t, ctx.w, ctx.reduction = x, t, w, reduction
        return reduce_loss(loss, reduction, x.size)

    @staticmethod
    def backward(ctx, g):
        xp = array_module(g)
        x, t, w = ctx.x, ctx.t, ctx.w
        gi = loss_grad_per_element(g, ctx.reduction, x.size)
        if w is not None:
            gi = gi * w
        dx = gi * (x - t) / xp.maximum(x * (1 - x), BCE_EPS)
        dt = None
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore"):  # +-inf at x = 0 or 1, as torch's
                dt = gi * (xp.log1p(-x) - xp.log(x))
        return dx, dt, None, None


class BinaryCrossEntropyWithLogits(Function):
    """Logits x, targets t, a weight w and a positive-class weight p (both broadcast to x's shape):

        loss = w ((1 - t) x + l s),   s = softplus(-x) = max(-x, 0) + log(1 + e^{-|x|}),   l = 1 + (p - 1) t,

    which is -w (p t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))) since log sigmoid(x) = -s and
    log(1 - sigmoid(x)) = -x - s; neither exponent is ever positive. Backward, with
    ds/dx = -sigmoid(-x) = -e^{-x - s} (again no overflow):

        d loss / dx = w ((1 - t) - l sigmoid(-x)),   d loss / dt = w (-x + (p - 1) s).

    Only s is kept from the forward. torch gives w and p no gradient.
    """

    @staticmethod
    def forward(ctx, x, t, w, p, reduction):
        xp = array_module(x)
        s = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
        loss = (1 - t) * x + (s if p is None else (1 + (p - 1) * t) * s)
        if w is not None:
            loss *= w
        ctx.x, ctx.t, ctx.w, ctx.p, ctx.s, ctx.reduction = x, t, w, p, s, reduction
        return reduce_loss(loss, reduction, x.size)

    @staticmethod
    def backward(ctx, g):
        xp = array_module(g)
        x, t, w, p, s = ctx.x, ctx.t, ctx.w, ctx.p, ctx.s
        gi = loss_grad_per_element(g, ctx.reduction, x.size)
        if w is not None:
            gi = gi * w
        sig_neg = xp.exp(-x - s)
        dx = gi * ((1 - t) - (sig_neg if p is None else (1 + (p - 1) * t) * sig_neg))
        dt = None
        if ctx.needs_input_grad[1]:
            dt = gi * (-x if p is None else (p - 1) * s - x)
        return dx, dt, None, None, None


class SmoothL1Loss(Function):
    """d = x - y (broadcast), and with beta >= 0 and a scale k:

        loss = k d^2 / (2 beta)   where |d| < beta,   k (|d| - beta / 2) elsewhere.

    k = 1 is torch's smooth_l1_loss; k = beta = delta is huber_loss (k/beta = 1 exactly); beta = 0
    is l1_loss (|d| < 0 never holds). The pieces meet with equal values and slopes at |d| = beta.
    Backward: d loss / dd = k d / beta where |d| < beta, k sign(d) elsewhere (0 at d = 0, as
    torch's l1_loss); d loss / dx = d loss / dd = -d loss / dy.
    """

    @staticmethod
    def forward(ctx, x, y, beta, scale, reduction):
        xp = array_module(x)
        d = x - y
        a = xp.abs(d)
        linear = scale * (a - beta / 2)
        loss = xp.where(a < beta, d * d * (scale / (2 * beta)), linear) if beta > 0 else linear
        ctx.d, ctx.beta, ctx.scale, ctx.reduction = d, beta, scale, reduction
        return reduce_loss(loss, reduction, d.size)

    @staticmethod
    def backward(ctx, g):
        xp = array_module(g)
        d, beta, k = ctx.d, ctx.beta, ctx.scale
        slope = k * xp.sign(d)
        if beta > 0:
            slope = xp.where(xp.abs(d) < beta, d * (k / beta), slope)
        dx = slope * loss_grad_per_element(g, ctx.reduction, d.size)
        return dx, (-dx if ctx.needs_input_grad[1] else None), None, None, None


class KLDiv(Function):
    """Pointwise KL divergence of log-probabilities x from a target t (broadcast together):

        loss = t (log t - x)   (0 where t = 0),   or with log_target: loss = e^t (t - x).

    The reduction divides a 'mean' by `denominator` (the element count, or the batch size for
    kl_div's 'batchmean'). Backward: d loss / dx = -t (-e^t); d loss / dt = log t + 1 - x
    (e^t (t - x + 1)), NaN at t = 0 as torch's: its t log t is xlogy(t, t), whose derivative in
    the second t is t / t.
    """

    @staticmethod
    def forward(ctx, x, t, log_target, reduction, denominator):
        xp = array_module(x)
        if log_target:
            loss = xp.exp(t) * (t - x)
        else:
            with_log = t * xp.log(xp.where(t == 0, 1, t))  # t log t, and 0 at t = 0
            loss = with_log - t * x
        ctx.x, ctx.t, ctx.log_target, ctx.reduction, ctx.denominator = x, t, log_target, reduction, denominator
        ctx.shape = loss.shape
        return reduce_loss(loss, reduction, denominator)

    @staticmethod
    def backward(ctx, g):
        xp = array_module(g)
        x, t = ctx.x, ctx.t
        gi = loss_grad_per_element(g, ctx.reduction, ctx.denominator)
        p = xp.exp(t) if ctx.log_target else t
        dx = None
        if ctx.needs_input_grad[0]:                 # in the broadcast shape, which -t alone may lack
            dx = xp.multiply(gi, -p, out=xp.empty(ctx.shape, x.dtype))
        dt = None
        if ctx.needs_input_grad[1]:
            dt = gi * (p * (t - x + 1) if ctx.log_target else xp.log(t) + t / t - x)
        return dx, dt, None, None, None


# ---- naive twins ----

def binary_cross_entropy_naive(input, target, weight=None, reduction="mean"):
    loss = -(target * input.log().clamp(min=LOG_FLOOR) + (1 - target) * (1 - input).log().clamp(min=LOG_FLOOR))
    if weight is not None:
        loss = loss * weight
    return reduce_loss(loss, reduction, loss.numel())


def binary_cross_entropy_with_logits_naive(input, target, weight=None, reduction="mean", pos_weight=None):
    softplus_neg = (-input).clamp(min=0) + (-input.abs()).exp().log1p()
    positive = softplus_neg if pos_weight is None else (1 + (pos_weight - 1) * target) * softplus_neg
    loss = (1 - target) * input + positive
    if weight is not None:
        loss = loss * weight
    return reduce_loss(loss, reduction, loss.numel())


def smooth_l1_loss_naive(input, target, reduction="mean", beta=1.0):
    d = input - target
    a = d.abs()
    loss = a - beta / 2 if beta == 0 else (d * d * (0.5 / beta)).where(a < beta, a - beta / 2)
    return reduce_loss(loss, reduction, loss.numel())


def huber_loss_naive(input, target, reduction="mean", delta=1.0, weight=None):
    d = input - target
    a = d.abs()
    loss = (d * d * 0.5).where(a < delta, (a - delta / 2) * delta)
    if weight is not None:
        loss = loss * weight
    return reduce_loss(loss, reduction, loss.numel())


def l1_loss_naive(input, target, reduction="mean", weight=None):
    loss = (input - target).abs()
    if weight is None:
        return reduce_loss(loss, reduction, loss.numel())
    return reduce_loss(loss * weight, reduction, weight.sum())


def kl_div_naive(input, target, reduction="mean", log_target=False):
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = target * target.where(target != 0, 1.0).log() - target * input
    if reduction != "batchmean":
        return reduce_loss(loss, reduction, loss.numel())
    return reduce_loss(loss, "mean", input.shape[0] if input.ndim else 1)  # a 0-d input's batch: the sum
