"""Embedding backward on the CPU with Numba: the scatter-add dW[idx[i]] += G[i].

NumPy has no fast scatter-add: np.add.at goes one row at a time through a slow generic
path, and the framework's NumPy code (fused_layers.sum_rows_by_index) sorts the indices and
adds each run of equal ones with np.add.reduceat. Here it is the plain loop, one pass over
G with each row added where its index says, vectorized along the row.
"""
import numpy as np
from numba import njit

from .target import FASTMATH


@njit(fastmath=FASTMATH, cache=True)
def _scatter_add_rows(idx, rows, out):
    for i in range(idx.shape[0]):
        target, row = out[idx[i]], rows[i]
        for j in range(row.shape[0]):
            target[j] += row[j]


def embedding_backward(idx, rows, n):
    """out (n, D) with out[v] = the sum of rows[i] over the i where idx[i] == v.

    idx: integer array (M,) with values in [0, n); rows: (M, D), the gradients of the
    looked-up rows.
    """
    if idx.ndim != 1 or rows.ndim != 2 or idx.shape[0] != rows.shape[0]:
        raise ValueError(f"embedding_backward: needs idx (M,) and rows (M, D), got idx {idx.shape} and rows {rows.shape}")
    if idx.size and not (0 <= idx.min() and idx.max() < n):
        raise ValueError(f"embedding_backward: indices must lie in [0, {n}), got [{idx.min()}, {idx.max()}]")
    out = np.zeros((n, rows.shape[1]), rows.dtype)
    _scatter_add_rows(np.ascontiguousarray(idx), np.ascontiguousarray(rows), out)
    return out
