"""One time step of an LSTM cell, forward and backward, in place, on the CPU with Numba: the pointwise
math around the step's one matrix product (nn/fused_rnn.py runs the loop and derives the backward;
kernels/numpy/lstm.py states both kernels' arguments and formulas).

The NumPy entries make about ten passes over a step's small arrays (20 x 800 in the word-level
language model), each a call of a few microseconds; each kernel here is one pass over the step's
rows, computing every hidden unit's four gates, its cell and its gradients in registers. The
backward computes its coefficients (g i(1-i), ...) from the saved gates as it goes, in registers.

tanh and the sigmoids come from one vectorizable function, s2(x) = 1 / (1 + exp(-2x)) with
vectormath's float32 exp (libm tanh does not vectorize): a sigmoid gate's input is halved, so it
is s2 of it, and tanh x = 2 s2(x) - 1. Near 0 that tanh's error is about an ulp of 1 (6e-8),
absolute rather than relative to its size. The loop over the rows is a prange loop (on one thread for a step of a
few thousand elements, threads.py) because Numba declares a parallel loop's arrays free of
aliasing, which is what lets LLVM vectorize the inner loop over a row's units, a loop that writes
to several arrays; it indexes 1-D views of each row's gate blocks by the loop counter alone.
"""
from numba import njit, prange

from ..shapes import check_lstm_cell_backward, check_lstm_cell_forward
from .target import FASTMATH
from .threads import use_threads_for
from .vectormath import exp


@njit(fastmath=FASTMATH, inline="always")
def _sigmoid_twice(x, one, two):
    """s2(x) = sigmoid(2x) = (1 + tanh x) / 2, in the dtype of x."""
    return one / (one + exp(-two * x))


@njit(fastmath=FASTMATH, parallel=True, cache=True)
def _forward(a, hh, c, h, cells, tanh_cells, y):
    one, two = c.dtype.type(1), c.dtype.type(2)
    n = c.shape[1]
    for r in prange(c.shape[0]):
        ai, af, ag, ao = a[r, :n], a[r, n:2 * n], a[r, 2 * n:3 * n], a[r, 3 * n:]
        hi, hf, hg, ho = hh[r, :n], hh[r, n:2 * n], hh[r, 2 * n:3 * n], hh[r, 3 * n:]
        cr, hr, cells_r, tanh_r, yr = c[r], h[r], cells[r], tanh_cells[r], y[r]
        for j in range(n):
            i = _sigmoid_twice(ai[j] + hi[j], one, two)
            f = _sigmoid_twice(af[j] + hf[j], one, two)
            g = two * _sigmoid_twice(ag[j] + hg[j], one, two) - one
            o = _sigmoid_twice(ao[j] + ho[j], one, two)
            ai[j], af[j], ag[j], ao[j] = i, f, g, o
            cell = f * cr[j] + i * g
            tanh_cell = two * _sigmoid_twice(cell, one, two) - one
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
