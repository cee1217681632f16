"""The time loop of a recurrent layer (RNN tanh/relu, LSTM, GRU), one direction of one layer, as one
Function with a hand-derived backward through time, next to its naive twin (a graph of per-step
Tensor ops).

Layout. The input is either padded, x (T, B, in), or packed, x (N, in) with `batch_sizes`
(b_0 >= b_1 >= ... , N = sum b_t): step t holds the first b_t sequences, which torch's packing
sorts longest first. Both are rows of one (N, in) matrix, step t at rows off_t .. off_t + b_t, so
one loop serves both; a reverse layer walks the steps from last to first. The state h (B, H) of
the B sequences is updated in place, the first b_t rows at step t, so a finished sequence keeps
its last state (forward) and a sequence that has not started yet keeps h0 (reverse): h_n is torch's.

Forward, with torch's weights W_ih (G*H, in), W_hh (G*H, H) and gate order (G gates):

    A_x = X W_ih^T + b_ih                           all steps at once: one matrix product
    per step t (rows of the step, h = h_{t-1}):
      RNN   h' = act(A_x[t] + h W_hh^T + b_hh)                                        act = tanh | relu
      LSTM  i, f, g, o = s(a_i), s(a_f), tanh(a_g), s(a_o)   with a = A_x[t] + h W_hh^T + b_hh
            c' = f c + i g,    h' = o tanh(c')
      GRU   r, z = s(A_x[t]_r + (h W_hh^T + b_hh)_r), s(A_x[t]_z + (h W_hh^T + b_hh)_z)
            n = tanh(A_x[t]_n + r * (h W_hn^T + b_hn)),    h' = (1 - z) n + z h

one matrix product per step (the LSTM's loop is the kernel lstm_forward_: per step the product and
one kernel over the step's rows, kernels/numpy/lstm.py). The GRU computes its sigmoids as
s(a) = (1 + tanh(a/2)) / 2: one tanh over all the gates of a step, with the halving folded into
the sigmoid gates' rows of the weights (halving is exact in floating point).

Backward through time. Let dA be the gradient of the gates' pre-activations of a step and
dh, dc the gradients reaching h', c' (from the output y_t, from the next step, and dh_n, dc_n
at each sequence's last step). Each cell's step is linear in (dh, dc), with coefficients that
depend on the forward values only. The RNN and GRU compute them for all steps in one pass before
the loop, which then does a few products and one matrix product per step; the LSTM's loop (the
kernel lstm_backward_, kernels/numpy/lstm.py and kernels/cpu/lstm.py) does one kernel per step,
which computes them from the saved gates as it goes, and one matrix product:

    RNN   dA = dh * act'   (1 - h'^2 for tanh, [h' > 0] for relu);         dh_prev = dA W_hh
    LSTM  dc~ = dc + dh * o (1 - tanh^2 c')
          dA_i = dc~ * g i(1-i),   dA_f = dc~ * c f(1-f),   dA_g = dc~ * i (1-g^2),
          dA_o = dh * tanh(c') o(1-o);     dc_prev = dc~ * f,   dh_prev = dA W_hh
    GRU   dA_n = dh (1-z)(1-n^2),   dA_r = dA_n * (h W_hn^T + b_hn) r(1-r),   dA_z = dh (h - n) z(1-z)
          the hidden side's gradient dG_h = (dA_r, dA_z, dA_n * r),   dh_prev = dG_h W_hh + dh z

(in the GRU the input side's gradient is dG_x = (dA_r, dA_z, dA_n); elsewhere dG_x = dG_h = dA).
Then, over all steps at once, with H_prev the previous states of all rows:

    dX = dG_x W_ih,   dW_ih = dG_x^T X,   dW_hh = dG_h^T H_prev,   db_ih = sum dG_x,   db_hh = sum dG_h

and dh0, dc0 are what is left in the state gradients after the first step.
"""
import numpy as np

from .. import backends
from ..autograd import Function
from ..device import array_module

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}  # torch's mode names -> gates per hidden unit


def time_steps(shape, batch_sizes, reverse):
    """[(first row, rows)] of each step in the order the layer runs them, for input of `shape`:
    padded (T, B, in) when batch_sizes is None, else packed (N, in) with those batch sizes."""
    if batch_sizes is None:
        steps = [(t * shape[1], shape[1]) for t in range(shape[0])]
    else:
        starts = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]]).tolist()
        steps = list(zip(starts, batch_sizes))
    return steps[::-1] if reverse else steps


def previous_states(outputs, first, steps):
    """For each row of outputs (N, H), the state its step started from: the same sequence's row in
    the step run before, or first (B, H)'s row for a sequence's first step. Padded input (every step
    holds the whole batch) is [first; outputs] shifted by a step; packed input gathers by row."""
    xp, batch = array_module(outputs), first.shape[0]
    if steps and all(rows == batch for _, rows in steps):
        in_order = len(steps) < 2 or steps[0][0] < steps[1][0]
        return xp.concatenate([first, outputs[:-batch]] if in_order else [outputs[batch:], first])
    index = np.empty(outputs.shape[0], np.int64)
    before, before_rows = 0, 0
    for start, rows in steps:
        kept = min(rows, before_rows)
        index[start:start + kept] = np.arange(before, before + kept)
        index[start + kept:start + rows] = outputs.shape[0] + np.arange(kept, rows)
        before, before_rows = start, rows
    return xp.concatenate([outputs, first])[xp.asarray(index)]


def _halving(mode, hidden, like):
    """Per gate row of the GRU: 0.5 for a sigmoid gate (computed as (1 + tanh(a/2)) / 2), 1
    otherwise; an array of like's module and dtype. None for the other cells."""
    half = {"GRU": (0.5, 0.5, 1.0)}.get(mode)
    return None if half is None else array_module(like).asarray(np.repeat(np.asarray(half, like.dtype), hidden))


class RecurrentLayer(Function):
    """(y, h_n) or, for "LSTM", (y, h_n, c_n) = one layer and direction of torch's RNN, LSTM or GRU
    over x (T, B, in) or packed x (N, in) with `batch_sizes`, from h0 (B, H) (and c0 (B, H)); y has
    x's leading shape with H columns. `mode` is torch's: "RNN_TANH", "RNN_RELU", "LSTM" or "GRU";
    b_ih, b_hh may be None. The equations are in this module's docstring.
    """

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, mode, batch_sizes, reverse):
        xp = array_module(x)
        n_hidden = w_hh.shape[1]
        steps = time_steps(x.shape, batch_sizes, reverse)
        rows = x.reshape(-1, x.shape[-1])
        matmul = backends.kernel("matmul", rows)
        half = _halving(mode, n_hidden, x)
        scaled = (lambda a: a) if half is None else (lambda a: a * half)
        bias_x = b_ih if mode == "GRU" or b_ih is None else (b_ih + b_hh)
        pre = matmul(rows, scaled(w_ih.T))
        if bias_x is not None:
            pre += scaled(bias_x)
        hh_t = scaled(xp.ascontiguousarray(w_hh.T))  # (H, G*H) in row order: BLAS's faster form here
        h = h0.copy()
        y = xp.empty((rows.shape[0], n_hidden), x.dtype)
        if mode == "LSTM":
            c, ctx.cells, ctx.tanh_cells = c0.copy(), xp.empty_like(y), xp.empty_like(y)
            ctx.step_array = _as_array(steps)
            backends.kernel("lstm_forward_", pre)(ctx.step_array, pre, hh_t, h, c, y, ctx.cells, ctx.tanh_cells,
                                                  matmul)
        elif mode == "GRU":
            b_hh_scaled = None if b_hh is None else scaled(b_hh)
            ctx.hidden_gates = xp.empty_like(pre)
            _gru_forward(steps, pre, hh_t, b_hh_scaled, h, y, ctx.hidden_gates, matmul)
        else:
            _rnn_forward(steps, pre, hh_t, h, y, mode, matmul)
        ctx.mode, ctx.steps, ctx.x_shape = mode, steps, x.shape
        ctx.rows, ctx.w_ih, ctx.w_hh, ctx.h0, ctx.c0, ctx.y = rows, w_ih, w_hh, h0, c0, y
        ctx.gates = pre if mode in ("LSTM", "GRU") else None
        out = y.reshape(x.shape[:-1] + (n_hidden,))
        return (out, h, c) if mode == "LSTM" else (out, h)

    @staticmethod
    def backward(ctx, dy, dh_n, dc_n=None):
        need_x, need_h0, need_c0, need_w_ih, need_w_hh, need_b_ih, need_b_hh = ctx.needs_input_grad[:7]
        xp = array_module(ctx.y)
        mode, steps, w_hh = ctx.mode, ctx.steps, ctx.w_hh
        matmul = backends.kernel("matmul", ctx.y)
        dy = None if dy is None else dy.reshape(ctx.y.shape)
        dh = xp.zeros_like(ctx.h0) if dh_n is None else dh_n.copy()
        h_prev = previous_states(ctx.y, ctx.h0, steps)
        if mode == "LSTM":
            dc = xp.zeros_like(ctx.c0) if dc_n is None else dc_n.copy()
            c_prev = previous_states(ctx.cells, ctx.c0, steps)
            d_gates_x = d_gates_h = xp.empty_like(ctx.gates)
            backends.kernel("lstm_backward_", ctx.gates)(ctx.step_array, ctx.gates, c_prev, ctx.tanh_cells, w_hh, dy,
                                                         dh, dc, d_gates_x, matmul)
        elif mode == "GRU":
            dc = None
            d_gates_x, d_gates_h = _gru_backward(steps, ctx.gates, ctx.hidden_gates, h_prev, w_hh, dy, dh, matmul)
        else:
            dc = None
            d_gates_x = d_gates_h = _rnn_backward(steps, ctx.y, mode, w_hh, dy, dh, matmul)
        dx = matmul(d_gates_x, ctx.w_ih).reshape(ctx.x_shape) if need_x else None
        dw_ih = matmul(d_gates_x.T, ctx.rows) if need_w_ih else None
        dw_hh = matmul(d_gates_h.T, h_prev) if need_w_hh else None
        db_ih = d_gates_x.sum(axis=0) if need_b_ih else None
        db_hh = None
        if need_b_hh:
            db_hh = db_ih.copy() if db_ih is not None and d_gates_h is d_gates_x else d_gates_h.sum(axis=0)
        return (dx, dh if need_h0 else None, dc if need_c0 else None, dw_ih, dw_hh, db_ih, db_hh,
                None, None, None)


# ---- the loops, one pair per cell (forward writes the outputs and what backward needs) ----------

def _rnn_forward(steps, pre, hh_t, h, y, mode, matmul):
    """pre (N, H) becomes the pre-activations, then y = act(pre), one step at a time."""
    xp = array_module(pre)
    for start, rows in steps:
        a = pre[start:start + rows]
        a += matmul(h[:rows], hh_t)
        if mode == "RNN_TANH":
            xp.tanh(a, out=y[start:start + rows])
        else:
            xp.maximum(a, 0, out=y[start:start + rows])
        h[:rows] = y[start:start + rows]


def _rnn_backward(steps, y, mode, w_hh, dy, dh, matmul):
    slope = 1 - y * y if mode == "RNN_TANH" else (y > 0).astype(y.dtype)
    d_pre = array_module(y).empty_like(y)
    for start, rows in reversed(steps):
        r = slice(start, start + rows)
        if dy is not None:
            dh[:rows] += dy[r]
        array_module(y).multiply(dh[:rows], slope[r], out=d_pre[r])
        dh[:rows] = matmul(d_pre[r], w_hh)
    return d_pre


def _as_array(steps):
    """time_steps' list as the (S, 2) int64 array of the LSTM kernels."""
    return np.asarray(steps, np.int64).reshape(-1, 2)


def _gru_forward(steps, pre, hh_t, b_hh, h, y, hidden_gates, matmul):
    """pre (N, 3H) becomes r, z, n; hidden_gates gets h W_hh^T + b_hh (r, z halved) of each row."""
    xp = array_module(pre)
    n = h.shape[1]
    for start, rows in steps:
        r = slice(start, start + rows)
        gh = hidden_gates[r]
        gh[...] = matmul(h[:rows], hh_t)
        if b_hh is not None:
            gh += b_hh
        a = pre[r]
        rz = a[:, :2 * n]
        rz += gh[:, :2 * n]
        xp.tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5
        new = a[:, 2 * n:]
        new += a[:, :n] * gh[:, 2 * n:]
        xp.tanh(new, out=new)
        h_t = h[:rows]
        h_t -= new
        h_t *= a[:, n:2 * n]
        h_t += new
        y[r] = h_t


def _gru_backward(steps, gates, hidden_gates, h_prev, w_hh, dy, dh, matmul):
    xp = array_module(gates)
    n_rows, n = h_prev.shape
    r, z, new = (gates[:, k * n:(k + 1) * n] for k in range(3))
    per_x = xp.empty((n_rows, 3, n), gates.dtype)  # dA_r, dA_z, dA_n per unit of dh
    xp.multiply(1 - z, 1 - new * new, out=per_x[:, 2])
    xp.multiply(per_x[:, 2] * hidden_gates[:, 2 * n:], r * (1 - r), out=per_x[:, 0])
    xp.multiply(h_prev - new, z * (1 - z), out=per_x[:, 1])
    per_h = per_x.copy()
    per_h[:, 2] *= r
    d_x, d_h = xp.empty_like(per_x), xp.empty_like(per_h)
    for start, rows in reversed(steps):
        s = slice(start, start + rows)
        dh_t = dh[:rows]
        if dy is not None:
            dh_t += dy[s]
        xp.multiply(per_x[s], dh_t[:, None, :], out=d_x[s])
        xp.multiply(per_h[s], dh_t[:, None, :], out=d_h[s])
        direct = dh_t * z[s]
        dh_t[...] = matmul(d_h[s].reshape(rows, 3 * n), w_hh)
        dh_t += direct
    return d_x.reshape(n_rows, 3 * n), d_h.reshape(n_rows, 3 * n)


# ---- naive twin: the same layer as a graph of per-step Tensor ops, differentiated by autograd ----

def recurrent_layer_naive(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mode, batch_sizes=None, reverse=False):
    """RecurrentLayer from Tensor primitives: each step's cell is a few ops, its new state is
    written into the rows of y and of the state that the step runs."""
    rows = x.reshape(-1, x.shape[-1])
    y = rows.new_zeros(rows.shape[0], w_hh.shape[1])
    h, c = h0, c0
    for start, n_rows in time_steps(tuple(x.shape), batch_sizes, reverse):
        x_t = rows[start:start + n_rows]
        if mode == "LSTM":
            h_t, c_t = lstm_cell_naive(x_t, h[:n_rows], c[:n_rows], w_ih, w_hh, b_ih, b_hh)
            c = _with_rows(c, c_t)
        elif mode == "GRU":
            h_t = gru_cell_naive(x_t, h[:n_rows], w_ih, w_hh, b_ih, b_hh)
        else:
            h_t = rnn_cell_naive(x_t, h[:n_rows], w_ih, w_hh, b_ih, b_hh, mode)
        h = _with_rows(h, h_t)
        y[start:start + n_rows] = h_t
    y = y.reshape(tuple(x.shape[:-1]) + (w_hh.shape[1],))
    return (y, h, c) if mode == "LSTM" else (y, h)


def _with_rows(state, first_rows):
    """state with its first rows replaced (the sequences a step ran)."""
    if first_rows.shape[0] == state.shape[0]:
        return first_rows
    state = state.clone()
    state[:first_rows.shape[0]] = first_rows
    return state


def _affine(x, w, b):
    return x @ w.T if b is None else x @ w.T + b


def rnn_cell_naive(x, h, w_ih, w_hh, b_ih, b_hh, mode="RNN_TANH"):
    a = _affine(x, w_ih, b_ih) + _affine(h, w_hh, b_hh)
    return a.tanh() if mode == "RNN_TANH" else a.relu()


def lstm_cell_naive(x, h, c, w_ih, w_hh, b_ih, b_hh):
    i, f, g, o = (_affine(x, w_ih, b_ih) + _affine(h, w_hh, b_hh)).chunk(4, 1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c.tanh(), c


def gru_cell_naive(x, h, w_ih, w_hh, b_ih, b_hh):
    x_r, x_z, x_n = _affine(x, w_ih, b_ih).chunk(3, 1)
    h_r, h_z, h_n = _affine(h, w_hh, b_hh).chunk(3, 1)
    r, z = (x_r + h_r).sigmoid(), (x_z + h_z).sigmoid()
    n = (x_n + r * h_n).tanh()
    return (1 - z) * n + z * h
