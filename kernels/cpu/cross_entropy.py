"""Softmax cross-entropy against class indices, forward and backward, on the CPU with Numba.

For logits x (N, C) and targets t (N,), per row, with m_i = max_j x_ij and l_i = log sum_j
e^{x_ij - m_i}: loss_i = (m_i - x_{i t_i}) + l_i and d loss_i / d x_ij = e^{(x_ij - m_i) - l_i} -
[j = t_i]. m and l stay apart (their sum, the log-sum-exp, would round away l at |x| ~ 1e4 in
float32).
A row whose target is `ignore_index` has loss 0 and gradient 0. The NumPy version
(kernels/numpy/cross_entropy.py, the oracle) takes several array passes each way; these take one
pass each way over the rows.

    cross_entropy_forward(x, target, ignore_index)  -> (loss (N,), (m, l), n_counted)
    cross_entropy_backward(x, target, ignore_index, (m, l), coef)  -> dx (N, C); coef: the
                                                       incoming gradient, per row (N,) or one for all
"""
import numpy as np
from numba import njit, prange

from ..numpy.cross_entropy import check_cross_entropy
from .target import FASTMATH
from .threads import use_threads_for
from .vectormath import exp, maximum


@njit(cache=True)
def _first_bad_target(target, n_classes, ignore_index):
    """(the first row whose target is neither a class nor ignore_index, or -1; rows counted)."""
    counted = 0
    for i in range(target.shape[0]):
        t = target[i]
        if t == ignore_index:
            continue
        if t < 0 or t >= n_classes:
            return i, counted
        counted += 1
    return -1, counted


@njit(fastmath=FASTMATH, parallel=True, cache=True)
def _row_statistics(x, shift, log_total):
    t = x.dtype.type
    for i in prange(x.shape[0]):
        m = t(-np.inf)
        for j in range(x.shape[1]):
            m = maximum(m, x[i, j])
        total = t(0)
        for j in range(x.shape[1]):
            total += exp(x[i, j] - m)
        shift[i], log_total[i] = m, np.log(total)


@njit(cache=True)  # no fast-math: the order of (m - x_t) + l is the point
def _row_losses(x, target, ignore_index, shift, log_total, loss):
    for i in range(x.shape[0]):
        loss[i] = 0 if target[i] == ignore_index else (shift[i] - x[i, target[i]]) + log_total[i]


@njit(fastmath={"contract"}, parallel=True, cache=True)  # no reassociation of (x - m) - l either
def _backward_rows(x, target, ignore_index, shift, log_total, coef, dx):
    t = x.dtype.type
    for i in prange(x.shape[0]):
        c = t(0) if target[i] == ignore_index else coef[i]
        for j in range(x.shape[1]):
            dx[i, j] = c * exp((x[i, j] - shift[i]) - log_total[i])
        if target[i] != ignore_index:
            dx[i, target[i]] -= c


def cross_entropy_forward(x, target, ignore_index):
    """Per-row losses (N,), the rows' (m, l) for backward and the number of rows not ignored.
    A target outside [0, C) other than ignore_index raises IndexError, as torch does."""
    check_cross_entropy("cross_entropy_forward", x, target)
    bad, counted = _first_bad_target(target, x.shape[1], ignore_index)
    if bad >= 0:
        raise IndexError(f"cross_entropy: Target {int(target[bad])} is out of bounds (expected 0 <= target < "
                         f"{x.shape[1]} or ignore_index={ignore_index})")
    x = np.ascontiguousarray(x)
    loss, shift, log_total = (np.empty(x.shape[0], x.dtype) for _ in range(3))
    use_threads_for(x.size)
    _row_statistics(x, shift, log_total)
    _row_losses(x, target, ignore_index, shift, log_total, loss)
    return loss, (shift, log_total), counted


def cross_entropy_backward(x, target, ignore_index, stats, coef):
    """dx (N, C) = coef_i (softmax(x_i) - onehot(t_i)) for the rows not ignored, 0 for the others."""
    check_cross_entropy("cross_entropy_backward", x, target)
    dx = np.empty(x.shape, x.dtype)
    use_threads_for(x.size)
    _backward_rows(np.ascontiguousarray(x), target, ignore_index, *stats,
                   np.broadcast_to(np.asarray(coef, x.dtype), (x.shape[0],)), dx)
    return dx
