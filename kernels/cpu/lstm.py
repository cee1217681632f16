"""An LSTM layer's time loop and its steps, forward and backward, in place, on the CPU with Numba
(nn/fused_rnn.py derives the backward; kernels/numpy/lstm.py states the kernels' arguments and formulas).

The loops: when the registry's product is MKL's (its `library`), the whole loop is one Numba call
that calls MKL's sgemm for each step's product (blas_call.py) on the product's threads (its
`parallel`) and the step kernel below on the rows; run from Python, each step also paid a Python
call, a ctypes call and an allocation (the word-level language model's layer of 35 steps of
(20, 200) @ (200, 800): 2.2 ms forward, 1.4 in one call). With another library, the loop runs
in Python around the same step kernels (kernels/numpy/lstm.py's run_forward / run_backward).

The steps: the NumPy entries make about ten passes over a step's small arrays (20 x 800 in the
word-level language model), each a call of a few microseconds; each kernel here is one pass over
the step's rows, computing every hidden unit's four gates, its cell and its gradients in
registers. The backward computes its coefficients (g i(1-i), ...) from the saved gates as it goes.

tanh and the sigmoids come from one vectorizable function, s(x) = 1 / (1 + exp(-x)) with
vectormath's float32 exp (libm tanh does not vectorize), and tanh x = 2 s(2x) - 1. Near 0 that
tanh's error is about an ulp of 1 (6e-8), absolute rather than relative to its size. The loop over
the rows is a prange loop (on one thread for a step of a few thousand elements, threads.py)
because Numba declares a parallel loop's arrays free of aliasing, which is what lets LLVM
vectorize the inner loop over a row's units, a loop that writes to several arrays (called from the
one-call loop, a plain loop there did not vectorize); it indexes 1-D views of each row's gate
blocks by the loop counter alone.
"""
import numpy as np
from numba import njit, prange

from ..numpy.lstm import run_backward, run_forward
from ..shapes import check_lstm_backward, check_lstm_cell_backward, check_lstm_cell_forward, check_lstm_forward
from . import mkl_matmul
from .blas_call import sgemm
from .target import FASTMATH
from .threads import use_threads_for
from .vectormath import exp


@njit(fastmath=FASTMATH, inline="always")
def _sigmoid(x, one):
    """1 / (1 + exp(-x)), in the dtype of x."""
    return one / (one + exp(-x))


@njit(fastmath=FASTMATH, parallel=True, cache=True)
def _forward(a, hh, c, h, cells, tanh_cells, y):
    one, two = c.dtype.type(1), c.dtype.type(2)
    n = c.shape[1]
    for r in prange(c.shape[0]):
        ai, af, ag, ao = a[r, :n], a[r, n:2 * n], a[r, 2 * n:3 * n], a[r, 3 * n:]
        hi, hf, hg, ho = hh[r, :n], hh[r, n:2 * n], hh[r, 2 * n:3 * n], hh[r, 3 * n:]
        cr, hr, cells_r, tanh_r, yr = c[r], h[r], cells[r], tanh_cells[r], y[r]
        for j in range(n):
            i = _sigmoid(ai[j] + hi[j], one)
            f = _sigmoid(af[j] + hf[j], one)
            g = two * _sigmoid(two * (ag[j] + hg[j]), one) - one
            o = _sigmoid(ao[j] + ho[j], one)
            ai[j], af[j], ag[j], ao[j] = i, f, g, o
            cell = f * cr[j] + i * g
            tanh_cell = two * _sigmoid(two * cell, one) - one
            out = o * tanh_cell
            cr[j], cells_r[j], tanh_r[j], hr[j], yr[j] = cell, cell, tanh_cell, out, out


@njit(fastmath=FASTMATH, parallel=True, cache=True)
def _backward(gates, c_prev, tanh_cells, dy, dh, dc, d_pre):
    one = dc.dtype.type(1)
    n = dc.shape[1]
    for r in prange(dc.shape[0]):
        gi, gf, gg, go = gates[r, :n], gates[r, n:2 * n], gates[r, 2 * n:3 * n], gates[r, 3 * n:]
        di, df, dg, do = d_pre[r, :n], d_pre[r, n:2 * n], d_pre[r, 2 * n:3 * n], d_pre[r, 3 * n:]
        c_r, tanh_r, dh_r, dc_r = c_prev[r], tanh_cells[r], dh[r], dc[r]
        for j in range(n):
            i, f, g, o = gi[j], gf[j], gg[j], go[j]
            d_h = dh_r[j] if dy is None else dh_r[j] + dy[r, j]
            tanh_cell = tanh_r[j]
            d_c = dc_r[j] + d_h * (o * (one - tanh_cell * tanh_cell))
            di[j] = d_c * (g * (i * (one - i)))
            df[j] = d_c * (c_r[j] * (f * (one - f)))
            dg[j] = d_c * (i * (one - g * g))
            do[j] = d_h * (tanh_cell * (o * (one - o)))
            dh_r[j], dc_r[j] = d_h, d_c * f


def lstm_cell_forward_(a, hh, c, h, cells, tanh_cells, y):
    """The forward step (kernels/numpy/lstm.py): gates into a, c' into c and cells, tanh(c') into
    tanh_cells, h' into h and y."""
    check_lstm_cell_forward("lstm_cell_forward_", a, hh, c, h, cells, tanh_cells, y)
    use_threads_for(a.size)
    _forward(a, hh, c, h, cells, tanh_cells, y)


def lstm_cell_backward_(gates, c_prev, tanh_cells, dy, dh, dc, d_pre):
    """The backward step (kernels/numpy/lstm.py): dh + dy into dh, dc~ f into dc, the
    pre-activations' gradient into d_pre; dy may be None."""
    check_lstm_cell_backward("lstm_cell_backward_", gates, c_prev, tanh_cells, dy, dh, dc, d_pre)
    use_threads_for(gates.size)
    _backward(gates, c_prev, tanh_cells, dy, dh, dc, d_pre)


@njit(fastmath=FASTMATH, cache=True)
def _forward_loop(steps, pre, hh_t, h, c, y, cells, tanh_cells, sgemm_at, hh):
    n, width = h.shape[1], hh_t.shape[1]
    for s in range(steps.shape[0]):
        start, rows = steps[s, 0], steps[s, 1]
        end = start + rows
        sgemm(sgemm_at, rows, width, n, h.ctypes.data, n, hh_t.ctypes.data, width, np.float32(0), hh.ctypes.data, width)
        _forward(pre[start:end], hh[:rows], c[:rows], h[:rows], cells[start:end], tanh_cells[start:end], y[start:end])


@njit(fastmath=FASTMATH, cache=True)
def _backward_loop(steps, gates, c_prev, tanh_cells, w_hh, dy, dh, dc, d_pre, sgemm_at):
    n, width = dh.shape[1], gates.shape[1]
    for s in range(steps.shape[0] - 1, -1, -1):
        start, rows = steps[s, 0], steps[s, 1]
        end = start + rows
        if dy is None:
            _backward(gates[start:end], c_prev[start:end], tanh_cells[start:end], None, dh[:rows], dc[:rows],
                      d_pre[start:end])
        else:
            _backward(gates[start:end], c_prev[start:end], tanh_cells[start:end], dy[start:end], dh[:rows],
                      dc[:rows], d_pre[start:end])
        sgemm(sgemm_at, rows, n, width, d_pre[start:end].ctypes.data, width, w_hh.ctypes.data, n, np.float32(0),
              dh.ctypes.data, n)


def _in_one_call(matmul, *arrays):
    """Whether the loop runs in one Numba call: MKL's products, float32 C-contiguous arrays."""
    return (getattr(matmul, "library", None) == "mkl"
            and all(a is None or (a.dtype == np.float32 and a.flags.c_contiguous) for a in arrays))


def _widest(steps):
    return int(steps[:, 1].max()) if len(steps) else 0


def lstm_forward_(steps, pre, hh_t, h, c, y, cells, tanh_cells, matmul):
    """The forward loop (kernels/numpy/lstm.py)."""
    check_lstm_forward("lstm_forward_", steps, pre, hh_t, h, c, y, cells, tanh_cells)
    if not _in_one_call(matmul, pre, hh_t, h, c, y, cells, tanh_cells):
        run_forward(steps, pre, hh_t, h, c, y, cells, tanh_cells, matmul, lstm_cell_forward_)
        return
    rows = _widest(steps)
    use_threads_for(rows * pre.shape[1])
    with matmul.parallel(rows * hh_t.size):
        _forward_loop(steps, pre, hh_t, h, c, y, cells, tanh_cells, mkl_matmul.sgemm_address(),
                      np.empty((rows, pre.shape[1]), np.float32))


def lstm_backward_(steps, gates, c_prev, tanh_cells, w_hh, dy, dh, dc, d_pre, matmul):
    """The backward loop (kernels/numpy/lstm.py)."""
    check_lstm_backward("lstm_backward_", steps, gates, c_prev, tanh_cells, w_hh, dy, dh, dc, d_pre)
    if not _in_one_call(matmul, gates, c_prev, tanh_cells, w_hh, dy, dh, dc, d_pre):
        run_backward(steps, gates, c_prev, tanh_cells, w_hh, dy, dh, dc, d_pre, matmul, lstm_cell_backward_)
        return
    rows = _widest(steps)
    use_threads_for(rows * gates.shape[1])
    with matmul.parallel(rows * w_hh.size):
        _backward_loop(steps, gates, c_prev, tanh_cells, w_hh, dy, dh, dc, d_pre, mkl_matmul.sgemm_address())
