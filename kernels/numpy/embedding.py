"""Embedding backward in NumPy (or CuPy): the scatter-add dW[idx[i]] += G[i].

On the CPU as NumPy does it fastest: sort the indices, then add up each run of equal ones with one
reduceat (np.add.at adds one row at a time, several times slower). On the GPU, cupyx's scatter_add.

    embedding_backward(idx (M,), rows (M, D), n)  -> out (n, D), out[v] = sum of rows[i] where idx[i] == v
"""
import numpy as np

from .arrays import array_module


def check_embedding_backward(idx, rows, n):
    if idx.ndim != 1 or rows.ndim != 2 or idx.shape[0] != rows.shape[0]:
        raise ValueError(f"embedding_backward: needs idx (M,) and rows (M, D), got idx {idx.shape} and rows "
                         f"{rows.shape}")
    if idx.size and not (0 <= idx.min() and idx.max() < n):
        raise ValueError(f"embedding_backward: indices must lie in [0, {n}), got [{idx.min()}, {idx.max()}]")


def embedding_backward(idx, rows, n):
    check_embedding_backward(idx, rows, n)
    xp = array_module(rows)
    out = xp.zeros((n, rows.shape[1]), rows.dtype)
    if xp is not np:
        import cupyx
        cupyx.scatter_add(out, idx, rows)
    elif idx.size:
        order = np.argsort(idx, kind="stable")
        ordered = idx[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        out[ordered[starts]] = np.add.reduceat(rows[order], starts, axis=0)
    return out
