"""Scaled dot-product attention with its log-sum-exp, forward and backward, in NumPy (or CuPy).

    attention_forward(q, k, v, scale, causal)                  -> out (..., T, D), lse (..., T)
    attention_backward(q, k, v, out, lse, dout, scale, causal) -> dq, dk, dv (..., T, D)

The math of kernels.reference (batched matmuls and a softmax, materialising the (..., T, T)
scores), written against xp: on CuPy arrays it is the "CuPy batched matmul + softmax" the fused
Numba-CUDA kernels (kernels/cuda/attention.py) are timed against, and what runs on the GPU when
cuda_kernels="cupy". The backward recomputes P = exp(S - lse) from q, k and the saved lse, as the
fused kernel does, and reuses the scores buffer for P, dP and dS.
"""
from ..shapes import check_attention_backward, check_attention_forward
from .arrays import array_module


def _scores(q, k, scale, causal):
    """S = scale q k^T (..., T, T), -inf above the diagonal with `causal`."""
    xp = array_module(q)
    s = q @ k.swapaxes(-1, -2)
    s *= q.dtype.type(scale)
    if causal:
        T = q.shape[-2]
        s[..., xp.arange(T)[None, :] > xp.arange(T)[:, None]] = -xp.inf
    return s


def attention_forward(q, k, v, scale, causal):
    check_attention_forward("attention_forward", q, k, v)
    xp = array_module(q)
    s = _scores(q, k, scale, causal)
    m = s.max(axis=-1, keepdims=True)
    s -= m
    xp.exp(s, out=s)
    total = s.sum(axis=-1, keepdims=True)
    out = s @ v
    out /= total
    lse = xp.log(total)
    lse += m
    return out, lse[..., 0]


def attention_backward(q, k, v, out, lse, dout, scale, causal):
    check_attention_backward("attention_backward", q, k, v, out, lse, dout)
    xp = array_module(q)
    p = _scores(q, k, scale, causal)
    p -= lse[..., None]
    xp.exp(p, out=p)                                    # P
    dv = p.swapaxes(-1, -2) @ dout
    ds = dout @ v.swapaxes(-1, -2)                      # dP
    ds -= (dout * out).sum(axis=-1, keepdims=True)
    ds *= p                                             # dS
    ds *= q.dtype.type(scale)
    return ds @ k, ds.swapaxes(-1, -2) @ q, dv
