"""Softmax along the last axis, forward and backward, on the CPU with Numba.

Versions (each validated against kernels.reference before it is timed, see
benchmarks/bench_kernels.py):
  forward v1  the oracle's three passes per row (max, sum of exp, divide); serial, libm exp
  forward v2  online softmax: one pass for the max and the sum together (the sum is rescaled
              when the max grows), one pass writing exp(x - max) / sum; vectorized float32
              exp; rows split across threads
  forward v3  exp computed once: pass 1 takes the max, pass 2 writes exp(x - max) and sums
              it, pass 3 scales in place; the row stays in cache between passes, so memory
              sees one read and one write as in v2, with half the exps
  backward v1 dx = out * (dout - sum(dout * out)) naively; serial
  backward v2 the same fused into a dot product and one pass, vectorized; rows in parallel
`softmax_forward` is v3 and `softmax_backward` is v2, the fastest in the benchmark.
"""
import numpy as np
from numba import njit, prange

from ..shapes import check_softmax_backward, check_softmax_forward
from .rows import as_rows
from .target import FASTMATH
from .threads import use_threads_for
from .vectormath import exp, maximum

BLOCK = 1024  # elements per online step of v2: its two reads of a block hit L1


@njit(cache=True)
def _forward_rows_v1(x, out):
    for i in range(x.shape[0]):
        m = x[i, 0]
        for j in range(x.shape[1]):
            m = max(m, x[i, j])
        s = 0.0
        for j in range(x.shape[1]):
            out[i, j] = np.exp(x[i, j] - m)
            s += out[i, j]
        for j in range(x.shape[1]):
            out[i, j] /= s


@njit(fastmath=FASTMATH, cache=True)
def online_max_sum(row):
    """(m, s) with m = max(row) and s = sum(exp(row - m)), reading the row once.

    Block by block: when a block raises the running max from m to m', the running sum is
    rescaled by exp(m - m'). A row that is -inf so far contributes nothing (not exp(nan)).
    """
    m = row.dtype.type(-np.inf)
    s = row.dtype.type(0)
    for start in range(0, row.shape[0], BLOCK):
        block = row[start:start + BLOCK]
        block_max = m
        for j in range(block.shape[0]):
            block_max = maximum(block_max, block[j])
        if block_max > m:
            s *= exp(m - block_max)
            m = block_max
        if m > -np.inf:
            for j in range(block.shape[0]):
                s += exp(block[j] - m)
    return m, s


@njit(fastmath=FASTMATH, parallel=True, cache=True)
def _forward_rows_v2(x, out):
    for i in prange(x.shape[0]):
        m, s = online_max_sum(x[i])
        inv = x.dtype.type(1) / s
        for j in range(x.shape[1]):
            out[i, j] = exp(x[i, j] - m) * inv


@njit(fastmath=FASTMATH, parallel=True, cache=True)
def _forward_rows_v3(x, out):
    for i in prange(x.shape[0]):
        m = x.dtype.type(-np.inf)
        for j in range(x.shape[1]):
            m = maximum(m, x[i, j])
        s = x.dtype.type(0)
        for j in range(x.shape[1]):
            e = exp(x[i, j] - m)
            out[i, j] = e
            s += e
        inv = x.dtype.type(1) / s
        for j in range(x.shape[1]):
            out[i, j] *= inv


@njit(cache=True)
def _backward_rows_v1(dout, out, dx):
    for i in range(out.shape[0]):
        dot = 0.0
        for j in range(out.shape[1]):
            dot += dout[i, j] * out[i, j]
        for j in range(out.shape[1]):
            dx[i, j] = out[i, j] * (dout[i, j] - dot)


@njit(fastmath=FASTMATH, parallel=True, cache=True)
def _backward_rows_v2(dout, out, dx):
    for i in prange(out.shape[0]):
        dot = out.dtype.type(0)
        for j in range(out.shape[1]):
            dot += dout[i, j] * out[i, j]
        for j in range(out.shape[1]):
            dx[i, j] = out[i, j] * (dout[i, j] - dot)


def _forward(rows_kernel, x):
    check_softmax_forward("softmax_forward", x)
    rows = as_rows(x)
    out = np.empty_like(rows)
    use_threads_for(rows.size)
    rows_kernel(rows, out)
    return out.reshape(x.shape)


def _backward(rows_kernel, dout, out):
    check_softmax_backward("softmax_backward", dout, out)
    dx = np.empty(out.shape, out.dtype)
    use_threads_for(out.size)
    rows_kernel(as_rows(dout), as_rows(out), dx.reshape(-1, out.shape[-1]))
    return dx


def softmax_forward_v1(x):
    """softmax(x) along the last axis, x (..., C) -> (..., C): naive serial port of the oracle."""
    return _forward(_forward_rows_v1, x)


def softmax_forward_v2(x):
    """softmax(x) along the last axis: online max/sum, rows in parallel."""
    return _forward(_forward_rows_v2, x)


def softmax_forward_v3(x):
    """softmax(x) along the last axis: three in-cache passes with one exp per element, rows in parallel."""
    return _forward(_forward_rows_v3, x)


def softmax_backward_v1(dout, out):
    """dx = out * (dout - sum(dout * out)) along the last axis; dout, out (..., C): naive serial."""
    return _backward(_backward_rows_v1, dout, out)


def softmax_backward_v2(dout, out):
    """Softmax backward: fused and vectorized, rows in parallel."""
    return _backward(_backward_rows_v2, dout, out)


softmax_forward = softmax_forward_v3
softmax_backward = softmax_backward_v2
