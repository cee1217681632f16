"""Pairwise distances: torch.cdist."""
import numpy as np

from ..autograd import Function
from ..device import array_module
from .quiet import quiet

_MM_FLOOR = 1e-30  # torch's clamp of squared distances computed through a matmul


def _p_distance(diff, p):
    """||diff||_p over the last axis (p = 0 counts the non-zero differences)."""
    xp = array_module(diff)
    size = xp.abs(diff)
    if p == 0:
        return (diff != 0).sum(axis=-1).astype(diff.dtype)
    if p == 1:
        return size.sum(axis=-1)
    if p == 2:
        return xp.sqrt((diff * diff).sum(axis=-1))
    if p == np.inf:
        return size.max(axis=-1, initial=0)
    return ((size ** p).sum(axis=-1)) ** (1 / p)


def _squared_by_matmul(x1, x2):
    """||x1_i - x2_j||^2 as torch's matmul path computes it: [-2 x1, |x1|^2, 1] @ [x2, 1, |x2|^2]^T."""
    xp = array_module(x1)
    norm1, norm2 = (x1 * x1).sum(axis=-1, keepdims=True), (x2 * x2).sum(axis=-1, keepdims=True)
    left = xp.concatenate([-2 * x1, norm1, xp.ones_like(norm1)], axis=-1)
    right = xp.concatenate([x2, xp.ones_like(norm2), norm2], axis=-1)
    return left @ right.swapaxes(-1, -2)


class Cdist(Function):
    """d_ij = ||x1_i - x2_j||_p for x1 (..., P, M), x2 (..., R, M) -> (..., P, R), batch dims
    broadcast. With `by_matmul` (p = 2 only, as torch chooses it for more than 25 rows) the
    squares come from one matmul, clamped at 1e-30 before the root.

    With D = x1_i - x2_j: d d_ij / d x1_i = sign(D) |D|^(p-1) / d_ij^(p-1) = -d d_ij / d x2_j
    (0 where d_ij = 0; p = 1: sign(D); p = inf: sign(D) where |D| = d_ij; p = 0: 0). For p = 2
    the sums over j are matmuls, with W = G / d:

        dL/dx1 = rowsum(W) x1 - W x2,   dL/dx2 = colsum(W)^T x2 - W^T x1.
    """

    @staticmethod
    @quiet
    def forward(ctx, x1, x2, p, by_matmul):
        xp = array_module(x1)
        if by_matmul:
            out = xp.sqrt(xp.maximum(_squared_by_matmul(x1, x2), _MM_FLOOR))
        else:
            out = _p_distance(x1[..., :, None, :] - x2[..., None, :, :], p)
        ctx.x1, ctx.x2, ctx.out, ctx.p, ctx.by_matmul = x1, x2, out, p, by_matmul
        return out

    @staticmethod
    @quiet
    def backward(ctx, g):
        xp = array_module(g)
        x1, x2, d, p = ctx.x1, ctx.x2, ctx.out, ctx.p
        if p == 2:
            w = xp.where(d > (np.sqrt(_MM_FLOOR) if ctx.by_matmul else 0), g / d, 0)
            grad1 = w.sum(axis=-1)[..., None] * x1 - w @ x2
            grad2 = w.sum(axis=-2)[..., None] * x2 - w.swapaxes(-1, -2) @ x1
            return grad1, grad2, None, None
        diff = x1[..., :, None, :] - x2[..., None, :, :]
        dd = d[..., None]
        if p == 0:
            slope = xp.zeros_like(diff)
        elif p == 1:
            slope = xp.sign(diff)
        elif p == np.inf:
            slope = xp.sign(diff) * (xp.abs(diff) == dd)
        else:
            slope = xp.sign(diff) * xp.abs(diff) ** (p - 1) / dd ** (p - 1)
            slope = xp.where((dd == 0) | (diff == 0), 0, slope)
        weighted = g[..., None] * slope
        return weighted.sum(axis=-2), -weighted.sum(axis=-3), None, None
