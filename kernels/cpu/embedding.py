"""Embedding backward on the CPU with Numba: the scatter-add dW[idx[i]] += G[i].

NumPy has no fast scatter-add: np.add.at goes one row at a time through a slow generic
path, and the NumPy version (kernels/numpy/embedding.py) sorts the indices and
adds each run of equal ones with np.add.reduceat. Here it is the plain loop, one pass over
G with each row added where its index says, vectorized along the row.
"""
import numpy as np
from numba import njit

from ..numpy.embedding import check_embedding_backward
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
    check_embedding_backward(idx, rows, n)
    out = np.zeros((n, rows.shape[1]), rows.dtype)
    _scatter_add_rows(np.ascontiguousarray(idx), np.ascontiguousarray(rows), out)
    return out
