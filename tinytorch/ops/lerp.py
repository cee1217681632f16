"""Linear interpolation: torch.lerp."""
from ..autograd import Function
from ..device import array_module


class Lerp(Function):
    """y = start + weight * (end - start), computed as torch computes it: from start when
    weight < 0.5, else as end - (end - start) * (1 - weight), exact at both ends. `weight` is
    an array (broadcast with start and end) or a number.

    dL/dstart = g * (1 - weight),  dL/dend = g * weight,  dL/dweight = g * (end - start)."""

    @staticmethod
    def forward(ctx, start, end, weight):
        xp = array_module(start)
        span = end - start
        out = xp.where(xp.abs(weight) < 0.5, start + weight * span, end - span * (1 - weight))
        ctx.span, ctx.weight = span if ctx.needs_input_grad[2] else None, weight
        return out.astype(start.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        need_start, need_end, need_weight = ctx.needs_input_grad
        w = ctx.weight
        return (g * (1 - w) if need_start else None, g * w if need_end else None,
                g * ctx.span if need_weight else None)
