"""Group normalization: one Function (hand-derived backward) next to its naive twin.

x (N, C, *) has its C channels split into G groups of C/G consecutive channels. Each sample's
group — its C/G channels and all their positions, n = C/G * prod(*) values — is standardized
on its own, then every channel gets its own scale and shift:

    mu, var = mean and biased variance over the group,  rstd = 1 / sqrt(var + eps),
    xhat = (x - mu) rstd,  y = xhat * w[c] + b[c].

Backward. With gh = dL/dxhat = g * w[c], the group is a layer-norm row (fused_norm's
derivation, with the n values of the group as the row):

    dL/dx_i = rstd (gh_i - mean(gh) - xhat_i mean(gh * xhat))   (means over the group),

and, summing over the samples and positions of channel c,

    dw[c] = sum g * xhat,  db[c] = sum g.

The standardization of the (N * G, n) rows is the layer-norm kernels' own (layernorm_forward
and layernorm_backward, with unit weight and zero bias); the per-channel affine is applied
around them. GroupNorm with G = C is instance normalization; with G = 1 it is layer norm over
(C, *) with per-channel, not per-element, weights.
"""
from .. import backends
from ..autograd import Function
from ..device import array_module
from .fused_norm import _channels, _standardize_naive, _sum_over


class GroupNorm(Function):
    """y = xhat * w + b, xhat standardized per (sample, group); w, b: (C,) or None."""

    @staticmethod
    def forward(ctx, x, w, b, groups, eps):
        xp = array_module(x)
        rows = x.reshape(x.shape[0] * groups, -1)
        width = rows.shape[1]
        unit, zero = xp.ones(width, x.dtype), xp.zeros(width, x.dtype)
        xhat, mean, rstd = backends.kernel("layernorm_forward", rows)(rows, unit, zero, eps)
        xhat = xhat.reshape(x.shape)
        _, channel, _ = _channels(x)
        y = xhat if w is None else xhat * channel(w)
        if b is not None:
            y = y + channel(b)
        ctx.rows, ctx.unit, ctx.mean, ctx.rstd, ctx.w = rows, unit, mean, rstd, w
        ctx.xhat = xhat if w is not None else None
        return y

    @staticmethod
    def backward(ctx, g):
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        axes, channel, _ = _channels(g)
        dx = dw = db = None
        if need_x:
            gh = g if ctx.w is None else g * channel(ctx.w)
            gh_rows = gh.reshape(ctx.rows.shape)
            dx = backends.kernel("layernorm_backward", gh_rows)(gh_rows, ctx.rows, ctx.unit, ctx.mean, ctx.rstd)[0]
            dx = dx.reshape(g.shape)
        if need_w:
            dw = _sum_over(axes, g, ctx.xhat)
        if need_b:
            db = _sum_over(axes, g)
        return dx, dw, db, None, None


def group_norm_naive(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Standardize input viewed as (N, G, rest), then the per-channel weight and bias."""
    grouped = input.reshape(input.shape[0], num_groups, -1)
    y, _, _ = _standardize_naive(grouped, (2,), eps)
    y = y.reshape(input.shape)
    shape = (1, input.shape[1]) + (1,) * (input.ndim - 2)
    y = y * weight.reshape(shape) if weight is not None else y
    return y + bias.reshape(shape) if bias is not None else y
