"""NumPy oracles: the definitions every CPU and CUDA kernel version is validated against.

Each takes arrays of one floating dtype (float32 in practice) and computes in that dtype. A
(..., C) input is a stack of rows of length C; statistics have the leading shape (...).
Attention's q, k, v are (..., T, D) stacks of heads (attention_forward, attention_backward).
They use only array methods and ufuncs, so CuPy arrays work too (CuPy runs them on the GPU).
"""
import numpy as np

from .shapes import (check_attention_backward, check_attention_forward, check_gelu_backward, check_gelu_forward,
                     check_layernorm_backward, check_layernorm_forward, check_matmul, check_softmax_backward,
                     check_softmax_forward)

GELU_K = float(np.sqrt(2 / np.pi))  # GPT-2's tanh approximation: u = GELU_K (x + GELU_C x^3)
GELU_C = 0.044715


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


def gelu_forward(x):
    """GPT-2's GELU, the tanh approximation, elementwise: x (any shape) -> out (same shape).

    out = x a, a = (1 + tanh u) / 2, u = k (x + c x^3), k = sqrt(2 / pi), c = 0.044715.
    """
    check_gelu_forward("gelu_forward", x)
    k, c = x.dtype.type(GELU_K), x.dtype.type(GELU_C)
    return x * (1 + np.tanh(k * (x + c * x * x * x))) / 2


def gelu_backward(dout, x):
    """dx = dout * d out / dx for gelu_forward; dout, x (same shape) -> dx.

    d out / dx = a + x da/dx, and da/du = (1 - tanh^2 u) / 2 = 2 a (1 - a), du/dx = k (1 + 3 c x^2),
    so d out / dx = a (1 + 2 (1 - a) x k (1 + 3 c x^2)).
    """
    check_gelu_backward("gelu_backward", dout, x)
    k, c = x.dtype.type(GELU_K), x.dtype.type(GELU_C)
    a = (1 + np.tanh(k * (x + c * x * x * x))) / 2
    return dout * a * (1 + 2 * (1 - a) * x * k * (1 + 3 * c * x * x))


def attention_forward(q, k, v, scale, causal):
    """Scaled dot-product attention with its log-sum-exp: (out (..., T, D), lse (..., T)).

    q, k, v (..., T, D) (e.g. (B, H, T, D)). S = scale q k^T (T, T) per head, with `causal`
    S_ij = -inf for j > i; P = softmax(S) along the keys; out = P v; lse_i = log sum_j exp S_ij,
    so that P_ij = exp(S_ij - lse_i) (what the backward recomputes P from).
    """
    check_attention_forward("attention_forward", q, k, v)
    s = (q @ k.swapaxes(-1, -2)) * q.dtype.type(scale)
    if causal:
        T = q.shape[-2]
        s = np.where(np.arange(T)[None, :] > np.arange(T)[:, None], q.dtype.type(-np.inf), s)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - m)
    total = e.sum(axis=-1, keepdims=True)
    return (e / total) @ v, (m + np.log(total))[..., 0]


def attention_backward(q, k, v, out, lse, dout, scale, causal):
    """Gradients of attention_forward's out: (dq, dk, dv), each (..., T, D).

    With P_ij = exp(S_ij - lse_i) (0 where causal masks), G = dout:
    dv = P^T G; dP = G v^T; dS = P * (dP - D_i) with D_i = sum_j P_ij dP_ij = rowsum(G * out)_i
    (the softmax backward per query row); dq = scale dS k; dk = scale dS^T q.
    """
    check_attention_backward("attention_backward", q, k, v, out, lse, dout)
    s = (q @ k.swapaxes(-1, -2)) * q.dtype.type(scale)
    if causal:
        T = q.shape[-2]
        s = np.where(np.arange(T)[None, :] > np.arange(T)[:, None], q.dtype.type(-np.inf), s)
    p = np.exp(s - lse[..., None])
    dp = dout @ v.swapaxes(-1, -2)
    ds = p * (dp - (dout * out).sum(axis=-1, keepdims=True))
    scale = q.dtype.type(scale)
    return (ds @ k) * scale, (ds.swapaxes(-1, -2) @ q) * scale, p.swapaxes(-1, -2) @ dout
