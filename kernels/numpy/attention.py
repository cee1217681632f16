"""Scaled dot-product attention with its log-sum-exp, forward and backward, in NumPy (or CuPy).

    attention_forward(q, k, v, scale, causal)                  -> out (..., T, D), lse (..., T)
    attention_backward(q, k, v, out, lse, dout, scale, causal) -> dq, dk, dv (..., T, D)

The math of kernels.reference (batched matmuls and a softmax, materialising the (..., T, T)
scores), written against xp: on CuPy arrays it is the "CuPy batched matmul + softmax" the fused
Numba-CUDA kernels (kernels/cuda/attention.py) are timed against, and what runs on the GPU when
cuda_kernels="cupy". The backward recomputes P = exp(S - lse) from q, k and the saved lse, as the
fused kernel does, and reuses the scores buffer for P, dP and dS.

The CPU's whole-head kernels keep P instead of the log-sum-exp, and write into arrays the caller
lays out (the heads of a fused qkv projection, say):

    attention_heads_forward_(q, k, v, scale, causal, out, p)          out (B, H, T, D), p (B, H, T, T)
    attention_heads_backward_(q, k, v, p, dout, scale, causal, dq, dk, dv)

Here they are the plain formulation, the reference of the Numba kernels (kernels/cpu/attention.py,
whose docstring derives the backward): P = softmax(scale q k^T (causal)) row-wise, out = P v;
dv = P^T G, dP = G v^T, dS = scale P (dP - rowsum(dP P)), dq = dS k, dk = dS^T q. The masked
entries of P are exact zeros, so the backward needs no mask here (`causal` only lets the Numba
kernel skip them).
"""
from ..shapes import (check_attention_backward, check_attention_forward, check_attention_heads_backward,
                      check_attention_heads_forward)
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


def attention_heads_forward_(q, k, v, scale, causal, out, p):
    """out <- softmax(scale q k^T (causal)) v and p <- the softmax, for q, k, v (B, H, T, D); returns (out, p)."""
    check_attention_heads_forward("attention_heads_forward_", q, k, v, out, p)
    xp = array_module(q)
    s = _scores(q, k, scale, causal)
    s -= s.max(axis=-1, keepdims=True)
    xp.exp(s, out=s)
    xp.divide(s, s.sum(axis=-1, keepdims=True), out=p)
    out[...] = p @ v
    return out, p


def attention_heads_backward_(q, k, v, p, dout, scale, causal, dq, dk, dv):
    """dq, dk, dv <- the gradients of attention_heads_forward_'s out given dout = dL/dout and its p;
    returns (dq, dk, dv)."""
    check_attention_heads_backward("attention_heads_backward_", q, k, v, p, dout, dq, dk, dv)
    dv[...] = p.swapaxes(-1, -2) @ dout
    dp = dout @ v.swapaxes(-1, -2)
    ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True))
    ds *= q.dtype.type(scale)
    dq[...] = ds @ k
    dk[...] = ds.swapaxes(-1, -2) @ q
    return dq, dk, dv
