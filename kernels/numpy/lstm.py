"""An LSTM layer's time loop and its steps, forward and backward, in place, in NumPy (or CuPy): the
pointwise math around each step's one matrix product (nn/fused_rnn.py derives the backward).

    lstm_forward_(steps, pre, hh_t, h, c, y, cells, tanh_cells, matmul)
        steps (S, 2) int64: (first row, rows) of each step, in the order they run; pre (N, 4H) the
        pre-activations from the input (and both biases); hh_t (H, 4H) W_hh^T; h, c (B, H) the state, updated in
        place (the first `rows` rows at each step); y, cells, tanh_cells (N, H). Per step, with r the
        step's rows: lstm_cell_forward_(pre[r], matmul(h[:rows], hh_t), c[:rows], h[:rows], cells[r],
        tanh_cells[r], y[r]). `matmul` is the registry's product.

    lstm_backward_(steps, gates, c_prev, tanh_cells, w_hh, dy, dh, dc, d_pre, matmul)
        The same steps, walked from last to first: lstm_cell_backward_ on the step's rows, then
        dh[:rows] = d_pre[r] W_hh (w_hh (4H, H)). dy (N, H) or None; dh, dc (B, H) in place; d_pre (N, 4H).

    lstm_cell_forward_(a, hh, c, h, cells, tanh_cells, y)
        a (rows, 4H): the step's pre-activations from the input (and both biases); hh (rows, 4H): the
        recurrent product h W_hh^T. With x = a + hh, in place:
            a <- the gates i, f, g, o = s(x_i), s(x_f), tanh(x_g), s(x_o), with the sigmoid
                 s(x) = (1 + tanh(x/2)) / 2 (one tanh over all four gates)
            c <- c' = f c + i g,   h <- h' = o tanh(c')
        and cells, tanh_cells, y (rows, H) get c', tanh(c'), h'.

    lstm_cell_backward_(gates, c_prev, tanh_cells, dy, dh, dc, d_pre)
        gates (rows, 4H) as the forward left them, c_prev (rows, H) the cells before the step,
        tanh_cells (rows, H) tanh(c'); dy (rows, H) the gradient of the step's output, or None;
        dh, dc (rows, H) the gradients reaching h', c' from the next step. In place:
            dh <- dh + dy
            dc <- dc~ * f,   dc~ = dc + dh * o (1 - tanh^2 c')
        and d_pre (rows, 4H) gets the pre-activations' gradient
            dA_i = dc~ * g i(1-i),   dA_f = dc~ * c_prev f(1-f),   dA_g = dc~ * i (1-g^2),
            dA_o = dh * tanh(c') o(1-o).
"""
from ..shapes import check_lstm_backward, check_lstm_cell_backward, check_lstm_cell_forward, check_lstm_forward
from .arrays import array_module


def lstm_forward_(steps, pre, hh_t, h, c, y, cells, tanh_cells, matmul):
    check_lstm_forward("lstm_forward_", steps, pre, hh_t, h, c, y, cells, tanh_cells)
    run_forward(steps, pre, hh_t, h, c, y, cells, tanh_cells, matmul, lstm_cell_forward_)


def lstm_backward_(steps, gates, c_prev, tanh_cells, w_hh, dy, dh, dc, d_pre, matmul):
    check_lstm_backward("lstm_backward_", steps, gates, c_prev, tanh_cells, w_hh, dy, dh, dc, d_pre)
    run_backward(steps, gates, c_prev, tanh_cells, w_hh, dy, dh, dc, d_pre, matmul, lstm_cell_backward_)


def run_forward(steps, pre, hh_t, h, c, y, cells, tanh_cells, matmul, cell):
    """lstm_forward_'s loop with the step kernel `cell` (an lstm_cell_forward_)."""
    for start, rows in steps.tolist():
        r = slice(start, start + rows)
        cell(pre[r], matmul(h[:rows], hh_t), c[:rows], h[:rows], cells[r], tanh_cells[r], y[r])


def run_backward(steps, gates, c_prev, tanh_cells, w_hh, dy, dh, dc, d_pre, matmul, cell):
    """lstm_backward_'s loop with the step kernel `cell` (an lstm_cell_backward_)."""
    for start, rows in reversed(steps.tolist()):
        r = slice(start, start + rows)
        cell(gates[r], c_prev[r], tanh_cells[r], None if dy is None else dy[r], dh[:rows], dc[:rows], d_pre[r])
        dh[:rows] = matmul(d_pre[r], w_hh)


def lstm_cell_forward_(a, hh, c, h, cells, tanh_cells, y):
    check_lstm_cell_forward("lstm_cell_forward_", a, hh, c, h, cells, tanh_cells, y)
    xp = array_module(a)
    n = c.shape[1]
    a += hh
    sigmoids = (a[:, :2 * n], a[:, 3 * n:])
    for sigmoid in sigmoids:
        sigmoid *= 0.5
    xp.tanh(a, out=a)
    for sigmoid in sigmoids:
        sigmoid *= 0.5
        sigmoid += 0.5
    c *= a[:, n:2 * n]
    c += a[:, :n] * a[:, 2 * n:3 * n]
    cells[...] = c
    xp.tanh(c, out=tanh_cells)
    xp.multiply(a[:, 3 * n:], tanh_cells, out=h)
    y[...] = h


def lstm_cell_backward_(gates, c_prev, tanh_cells, dy, dh, dc, d_pre):
    check_lstm_cell_backward("lstm_cell_backward_", gates, c_prev, tanh_cells, dy, dh, dc, d_pre)
    xp = array_module(gates)
    n = dc.shape[1]
    i, f, g, o = (gates[:, k * n:(k + 1) * n] for k in range(4))
    if dy is not None:
        dh += dy
    dc += dh * (o * (1 - tanh_cells * tanh_cells))
    xp.multiply(g * (i * (1 - i)), dc, out=d_pre[:, :n])
    xp.multiply(c_prev * (f * (1 - f)), dc, out=d_pre[:, n:2 * n])
    xp.multiply(i * (1 - g * g), dc, out=d_pre[:, 2 * n:3 * n])
    xp.multiply(tanh_cells * (o * (1 - o)), dh, out=d_pre[:, 3 * n:])
    dc *= f
