"""Attention's softmax step, in place in the score buffer, in NumPy (or CuPy) over row blocks.

    attention_softmax_forward_(s, scale, causal, q0)   s (..., L, S) raw scores <- P = softmax(scale s)
                                                       over keys; with `causal` query q0 + i sees keys
                                                       j <= q0 + i only (the rest get weight 0)
    attention_softmax_backward_(ds, p, scale)          ds (..., L, S) = dL/dP <- dL/dS =
                                                       scale p (ds - sum_j ds_j p_j)

Every query sees at least one key (key 0), so no row is empty.
"""
import numpy as np

from .arrays import array_module, exp_rows, row_blocks


def contiguous_rows(op, a):
    """a (..., L, S), C-contiguous, as (rows, S); ValueError otherwise (these work in place)."""
    if not (a.flags.c_contiguous and a.ndim >= 2):
        raise ValueError(f"{op}: needs a C-contiguous (..., L, S) array to work in place, got shape {a.shape} "
                         f"(contiguous: {a.flags.c_contiguous})")
    return a.reshape(-1, a.shape[-1])


def attention_softmax_forward_(s, scale, causal, q0=0):
    flat = contiguous_rows("attention_softmax_forward_", s)
    xp = array_module(s)
    s *= s.dtype.type(scale)
    if causal:
        n_queries, n_keys = s.shape[-2:]
        s[..., xp.arange(n_keys)[None, :] > q0 + xp.arange(n_queries)[:, None]] = -np.inf
    for rows, (e,) in row_blocks(flat.shape[0], flat.shape[1], xp, s.dtype, 1):
        _, total = exp_rows(flat[rows], e)
        xp.multiply(e, (1 / total)[:, None], out=flat[rows])
    return s


def attention_softmax_backward_(ds, p, scale):
    if ds.shape != p.shape:
        raise ValueError(f"attention_softmax_backward_: ds {ds.shape} and p {p.shape} must have one shape")
    flat_ds = contiguous_rows("attention_softmax_backward_", ds)
    flat_p = contiguous_rows("attention_softmax_backward_", p)
    xp = array_module(ds)
    for rows, _ in row_blocks(flat_ds.shape[0], flat_ds.shape[1], xp):
        d = flat_ds[rows]
        d -= xp.einsum("ij,ij->i", d, flat_p[rows])[:, None]
        d *= flat_p[rows]
        d *= ds.dtype.type(scale)
    return ds
