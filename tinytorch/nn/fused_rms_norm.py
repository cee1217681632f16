"""Root-mean-square normalization: one Function (hand-derived backward) next to its naive twin.

Over the trailing dims of x of total size D (each row), with no centring and no bias:

    r = 1 / sqrt(mean(x^2) + eps),  xhat = x r,  y = xhat * w.

Backward. With gh = dL/dxhat = g * w and dr/dx_i = -r^3 x_i / D,

    dL/dx_i = sum_j gh_j (r [i = j] + x_j dr/dx_i) = r gh_i - r^3 x_i sum_j(gh_j x_j) / D
            = r (gh_i - xhat_i mean(gh * xhat)),

and dw = sum over the rows of g * xhat. Shapes: rows (M, D), r (M,), w (D,).
"""
import numpy as np

from ..autograd import Function
from ..device import array_module


class RMSNorm(Function):
    """y = x r * w over rows of `width` trailing values; w has normalized_shape (product width) or is None."""

    @staticmethod
    def forward(ctx, x, w, width, eps):
        xp = array_module(x)
        rows = x.reshape(-1, width)
        r = 1 / xp.sqrt(xp.einsum("md,md->m", rows, rows) / width + eps)
        y = rows * r[:, None]
        if w is not None:
            y *= w.reshape(width)
        ctx.rows, ctx.r, ctx.w = rows, r, w
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        xp = array_module(g)
        rows, r, w = ctx.rows, ctx.r, ctx.w
        g_rows = g.reshape(rows.shape)
        xhat = rows * r[:, None]
        gh = g_rows if w is None else g_rows * w.reshape(-1)
        dx = None
        if ctx.needs_input_grad[0]:
            dx = gh - xhat * (xp.einsum("md,md->m", gh, xhat) / rows.shape[1])[:, None]
            dx *= r[:, None]
            dx = dx.reshape(g.shape)
        dw = xp.einsum("md,md->d", g_rows, xhat).reshape(w.shape) if ctx.needs_input_grad[1] else None
        return dx, dw, None, None


def rms_eps(dtype, eps):
    """eps, or for eps=None the machine epsilon of `dtype` (torch.finfo(dtype).eps)."""
    return float(np.finfo(dtype).eps) if eps is None else float(eps)


def rms_norm_naive(input, normalized_shape, weight=None, eps=None):
    dims = tuple(range(-len(normalized_shape), 0))
    y = input / ((input * input).mean(dims, keepdim=True) + rms_eps(input._data.dtype, eps)).sqrt()
    return y * weight if weight is not None else y
