"""Attention's softmax step, fused and in place, on the CPU with Numba.

Between its two matrix products, attention turns the raw scores S = q k^T (..., L, S) into
weights P = softmax(scale * S + causal mask) and, going back, dP into dS = scale * P * (dP -
sum(dP * P)). Done with array operations that is a pass to scale, one to add the -inf mask,
the softmax's passes and a copy, and two more passes back. Here each direction is one kernel
over the rows, in place in the score buffer: the masked entries are never exponentiated, just
set to 0.

    attention_softmax_forward_(s, scale, causal, q0)   s (rows, S) <- P
    attention_softmax_backward_(ds, p, scale)          ds (rows, S) <- dS

Row r of s is query q0 + r % L of its head when s holds heads of L query rows (the caller
passes L); with `causal`, query i sees keys j <= i (torch's top-left aligned tril).
"""
import numpy as np
from numba import njit, prange

from ..numpy.attention_softmax import contiguous_rows
from .target import FASTMATH
from .threads import use_threads_for
from .vectormath import exp, maximum


@njit(fastmath=FASTMATH, parallel=True, cache=True)
def _forward_rows(s, scale, causal, n_queries, q0):
    n_keys = s.shape[1]
    t = s.dtype.type
    for r in prange(s.shape[0]):
        row = s[r]
        seen = q0 + r % n_queries + 1 if causal else n_keys
        m = t(-np.inf)
        for j in range(n_keys):  # full-length loops with a select: they vectorize, a loop to `seen` does not
            x = row[j] * t(scale) if j < seen else t(-np.inf)
            row[j] = x
            m = maximum(m, x)
        total = t(0)
        for j in range(n_keys):
            e = exp(row[j] - m)  # exp(-inf) = 0: the masked keys
            row[j] = e
            total += e
        inv = t(1) / total
        for j in range(n_keys):
            row[j] *= inv


@njit(fastmath=FASTMATH, parallel=True, cache=True)
def _backward_rows(ds, p, scale):
    t = ds.dtype.type
    for r in prange(ds.shape[0]):
        dot = t(0)
        for j in range(ds.shape[1]):
            dot += ds[r, j] * p[r, j]
        for j in range(ds.shape[1]):
            ds[r, j] = t(scale) * p[r, j] * (ds[r, j] - dot)


def attention_softmax_forward_(s, scale, causal, q0=0):
    """s (..., L, S) raw scores <- softmax(scale * s) over keys, causal keys j <= q0 + i only
    (the rest set to 0); in place, returned."""
    rows = contiguous_rows("attention_softmax_forward_", s)
    use_threads_for(s.size)
    _forward_rows(rows, float(scale), bool(causal), s.shape[-2], int(q0))
    return s


def attention_softmax_backward_(ds, p, scale):
    """ds (..., L, S) = dL/dP <- dL/dS = scale * p * (ds - sum_j ds_j p_j); in place, returned."""
    if ds.shape != p.shape:
        raise ValueError(f"attention_softmax_backward_: ds {ds.shape} and p {p.shape} must have one shape")
    rows = contiguous_rows("attention_softmax_backward_", ds)
    use_threads_for(ds.size)
    _backward_rows(rows, contiguous_rows("attention_softmax_backward_", p), float(scale))
    return ds
