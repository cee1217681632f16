"""The recurrent layer's fused time loop (nn/fused_rnn.py), one table row per cell and input layout:
its float64 gradient against central differences, and it and its naive twin (per-step Tensor ops)
against torch's own layer (torch.lstm, torch.gru, torch.rnn_tanh, torch.rnn_relu), forward and
backward. Then what the table cannot show: one graph node per layer, float32 in and out, and the
in-place check of what the backward keeps."""
import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st

import tinytorch
from devices import on_devices
from functional_cases import FusedOp
from harness import check_op, leaves
from strategies import arrays
from tinytorch.nn.fused_rnn import GATES, RecurrentLayer, recurrent_layer_naive
from tinytorch.testing import gradcheck

TORCH_LAYERS = {"RNN_TANH": torch.rnn_tanh, "RNN_RELU": torch.rnn_relu, "LSTM": torch.lstm, "GRU": torch.gru}


def torch_recurrent_layer(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mode, batch_sizes, reverse):
    """The same layer from torch's functional RNNs: one direction, or for `reverse` the second
    direction of a bidirectional layer given the same weights twice (its first direction unused)."""
    directions = 2 if reverse else 1
    weights = [w for w in (w_ih, w_hh, b_ih, b_hh) if w is not None] * directions
    hx = torch.stack([h0] * directions)
    if mode == "LSTM":
        hx = (hx, torch.stack([c0] * directions))
    layer, bias = TORCH_LAYERS[mode], b_ih is not None
    if batch_sizes is None:
        out = layer(x, hx, weights, bias, 1, 0.0, False, reverse, False)
    else:
        out = layer(x, torch.tensor(batch_sizes), hx, weights, bias, 1, 0.0, False, reverse)
    y, states = out[0], out[1:] if mode == "LSTM" else out[1:2]
    return (y[..., y.shape[-1] // 2:] if reverse else y,) + tuple(s[-1] for s in states)


def _layer(op, x, h0, c0, w_ih, w_hh, b_ih, b_hh, mode, batch_sizes, reverse):
    return op(x, h0, c0, w_ih, w_hh, b_ih, b_hh, mode, batch_sizes, reverse)


def recurrent_inputs(mode, packed):
    """x (T, B, in), or packed x (N, in) with batch sizes of drawn lengths (the longest first);
    h0 (and c0 for LSTM); torch's weights for `mode`; biases or none; a drawn direction."""
    def draw(data):
        steps, batch, n_in, hidden = (data.draw(st.integers(1, k)) for k in (4, 3, 3, 3))
        gates = GATES[mode] * hidden
        batch_sizes = None
        if packed:
            lengths = sorted(data.draw(st.lists(st.integers(1, steps), min_size=batch, max_size=batch)), reverse=True)
            lengths[0] = steps
            batch_sizes = tuple(int(sum(n > t for n in lengths)) for t in range(steps))
            x = data.draw(arrays((sum(batch_sizes), n_in)))
        else:
            x = data.draw(arrays((steps, batch, n_in)))
        states = [data.draw(arrays((batch, hidden))), data.draw(arrays((batch, hidden))) if mode == "LSTM" else None]
        weights = [data.draw(arrays((gates, n_in))), data.draw(arrays((gates, hidden)))]
        biases = [data.draw(arrays((gates,))) for _ in range(2)] if data.draw(st.booleans()) else [None, None]
        params = {"mode": mode, "batch_sizes": batch_sizes, "reverse": data.draw(st.booleans())}
        return [x] + states + weights + biases, params
    return draw


RNN_OPS = [FusedOp(f"{mode}_{'packed' if packed else 'padded'}", RecurrentLayer.apply, recurrent_layer_naive,
                   torch_recurrent_layer, recurrent_inputs(mode, packed), call=_layer)
           for mode in GATES for packed in (False, True)]
rows = pytest.mark.parametrize("op", RNN_OPS, ids=lambda op: op.name)


@rows
@given(data=st.data())
def test_fused_gradient_matches_central_differences(op, data):
    inputs, params = op.draw(data)
    assert gradcheck(op.bound(op.fused, params), *leaves(tinytorch, inputs))


@pytest.mark.torch
@on_devices
@rows
@given(data=st.data())
def test_fused_layer_and_naive_twin_match_torch(op, device, data):
    inputs, params = op.draw(data)
    check_op(op.bound(op.fused, params), op.bound(op.torch_op, params), *inputs, naive=op.bound(op.naive, params),
             device=device)


def lstm_leaves(dtype=np.float64, steps=5, batch=2, n_in=3, hidden=4):
    rng = np.random.default_rng(0)
    shapes = [(steps, batch, n_in), (batch, hidden), (batch, hidden), (4 * hidden, n_in), (4 * hidden, hidden),
              (4 * hidden,), (4 * hidden,)]
    return leaves(tinytorch, [rng.standard_normal(s).astype(dtype) for s in shapes])


def test_a_layer_is_one_graph_node_whatever_its_length():
    y, h, c = RecurrentLayer.apply(*lstm_leaves(steps=7), "LSTM", None, False)
    assert y.grad_fn is h.grad_fn is c.grad_fn
    assert [type(e).__name__ for e in y.grad_fn.edges].count("Tensor") == 7  # straight to the seven leaves


def test_float32_stays_float32_forward_and_backward():
    inputs = lstm_leaves(np.float32)
    outputs = RecurrentLayer.apply(*inputs, "LSTM", None, False)
    sum(o.sum() for o in outputs).backward()
    assert all(o.dtype == tinytorch.float32 for o in outputs)
    assert all(t.grad.dtype == tinytorch.float32 for t in inputs)


def test_a_weight_changed_in_place_before_backward_is_refused():
    inputs = lstm_leaves()
    y = RecurrentLayer.apply(*inputs, "LSTM", None, False)[0]
    with tinytorch.no_grad():
        inputs[4].mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
