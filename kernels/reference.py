"""NumPy oracles: the definitions every CPU and CUDA kernel version is validated against.

Each takes arrays of one floating dtype (float32 in practice) and computes in that dtype. A
(..., C) input is a stack of rows of length C; statistics have the leading shape (...).
They use only array methods and ufuncs, so CuPy arrays work too (CuPy runs them on the GPU).
"""
import numpy as np

from .shapes import (check_layernorm_backward, check_layernorm_forward, check_matmul,
                     check_softmax_backward, check_softmax_forward)


def matmul(a, b):
    """c = a @ b for a (..., K) and b (K, N) -> c (..., N)."""
    check_matmul("matmul", a, b)
    return a @ b


def softmax_forward(x):
    """out = exp(x - max x) / sum exp(x - max x) along the last axis; x (..., C) -> out (..., C)."""
    check_softmax_forward("softmax_forward", x)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_backward(dout, out):
    """dx = out * (dout - sum(dout * out)) along the last axis, the softmax Jacobian-vector product.

    dout, out: (..., C) -> dx (..., C). Derivation: d out_i / d x_j = out_i (delta_ij - out_j).
    """
    check_softmax_backward("softmax_backward", dout, out)
    return out * (dout - (dout * out).sum(axis=-1, keepdims=True))


def layernorm_forward(x, w, b, eps=1e-5):
    """out = (x - mean) * rstd * w + b along the last axis, rstd = 1 / sqrt(var + eps).

    x (..., C), w (C,), b (C,) -> out (..., C), mean (...), rstd (...). var is the biased
    variance (divide by C), as in torch.nn.LayerNorm.
    """
    check_layernorm_forward("layernorm_forward", x, w, b)
    mean = x.mean(axis=-1)
    xc = x - mean[..., None]
    var = (xc * xc).mean(axis=-1)
    rstd = 1 / np.sqrt(var + x.dtype.type(eps))
    return xc * rstd[..., None] * w + b, mean, rstd


def layernorm_backward(dout, x, w, mean, rstd):
    """Gradients of layernorm_forward: (dx (..., C), dw (C,), db (C,)).

    With xhat = (x - mean) * rstd and g = dout * w, per row:
    dx = rstd * (g - mean(g) - xhat * mean(g * xhat)); dw = sum over rows of dout * xhat;
    db = sum over rows of dout.
    """
    check_layernorm_backward("layernorm_backward", dout, x, w, mean, rstd)
    xhat = (x - mean[..., None]) * rstd[..., None]
    g = dout * w
    dx = rstd[..., None] * (g - g.mean(axis=-1, keepdims=True) - xhat * (g * xhat).mean(axis=-1, keepdims=True))
    C = x.shape[-1]
    dw = (dout * xhat).reshape(-1, C).sum(axis=0)
    db = dout.reshape(-1, C).sum(axis=0)
    return dx, dw, db
