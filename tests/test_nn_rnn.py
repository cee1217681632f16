"""nn.RNN, nn.LSTM, nn.GRU, their cells and nn.utils.rnn against torch: each scenario runs with
m = torch and m = tinytorch from the same seed (so the same initial weights, drawn in torch's
order), and returns outputs, states and every gradient; then torch's state_dicts, argument
errors and printing."""
import numpy as np
import pytest
import torch

import tinytorch
from harness import Scenarios, assert_same

scenarios = Scenarios()
F64 = "float64"


def weighted_backward(m, *outputs):
    """Backward from sum_k sum(out_k * w_k), w_k fixed random (the gradients depend on every output)."""
    rng = np.random.default_rng(1)
    total = sum((o * m.tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype)).sum() for o in outputs)
    total.backward()


def run_layer(m, layer, x, hx=None, dtype=F64):
    """layer(x, hx) then backward; returns the outputs, and the gradients of x, hx and every parameter."""
    layer = layer.to(getattr(m, dtype))
    out, state = layer(x, hx)
    states = state if isinstance(state, tuple) else (state,)
    data = out.data if isinstance(out, m.nn.utils.rnn.PackedSequence) else out
    weighted_backward(m, data, *states)
    inputs = [x] + ([] if hx is None else list(hx) if isinstance(hx, tuple) else [hx])
    return [data, *states], [t.grad for t in inputs], {k: p.grad for k, p in layer.named_parameters()}


def randn(m, *shape, dtype=F64):
    return m.randn(*shape, dtype=getattr(m, dtype), requires_grad=True)


@scenarios
def lstm_two_layers_bidirectional_batch_first_with_states(m):
    m.manual_seed(0)
    layer = m.nn.LSTM(3, 4, num_layers=2, batch_first=True, bidirectional=True)
    return run_layer(m, layer, randn(m, 2, 5, 3), (randn(m, 4, 2, 4), randn(m, 4, 2, 4)))


@scenarios
def gru_three_layers_with_dropout_while_training(m):
    m.manual_seed(1)
    layer = m.nn.GRU(3, 5, num_layers=3, dropout=0.4)
    return run_layer(m, layer, randn(m, 6, 3, 3), randn(m, 3, 3, 5))


@scenarios
def rnn_relu_without_bias_bidirectional(m):
    m.manual_seed(2)
    layer = m.nn.RNN(2, 3, num_layers=2, nonlinearity="relu", bias=False, bidirectional=True)
    return run_layer(m, layer, randn(m, 4, 2, 2))


@scenarios
def rnn_tanh_unbatched(m):
    m.manual_seed(3)
    return run_layer(m, m.nn.RNN(3, 2), randn(m, 5, 3), randn(m, 1, 2))


@scenarios
def gru_unbatched_batch_first_bidirectional(m):
    m.manual_seed(4)
    return run_layer(m, m.nn.GRU(3, 2, batch_first=True, bidirectional=True), randn(m, 4, 3), randn(m, 2, 2))


@scenarios
def lstm_in_eval_mode_ignores_dropout(m):
    m.manual_seed(5)
    layer = m.nn.LSTM(3, 4, num_layers=2, dropout=0.5).eval()
    return run_layer(m, layer, randn(m, 3, 2, 3))


@scenarios
def lstm_packed_unsorted_batch_with_states(m):
    """Sequences of lengths 2, 5, 3 packed with enforce_sorted=False: the states come in and go out
    in the caller's order; the output unpacks to zeros past each sequence's end."""
    m.manual_seed(6)
    layer = m.nn.LSTM(3, 4, bidirectional=True).double()
    x, h0, c0 = randn(m, 5, 3, 3), randn(m, 2, 3, 4), randn(m, 2, 3, 4)
    packed = m.nn.utils.rnn.pack_padded_sequence(x, [2, 5, 3], enforce_sorted=False)
    out, (h, c) = layer(packed, (h0, c0))
    padded, lengths = m.nn.utils.rnn.pad_packed_sequence(out, padding_value=-1.0)
    weighted_backward(m, padded, h, c)
    return padded, lengths, h, c, x.grad, h0.grad, c0.grad, out.sorted_indices, layer.weight_hh_l0_reverse.grad


@scenarios
def gru_packed_sequence_of_sorted_sequences_batch_first(m):
    m.manual_seed(7)
    layer = m.nn.GRU(2, 3, num_layers=2, batch_first=True).double()
    seqs = [randn(m, n, 2) for n in (4, 2, 2)]
    packed = m.nn.utils.rnn.pack_sequence(seqs)
    out, h = layer(packed)
    weighted_backward(m, out.data, h)
    padded, lengths = m.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=6)
    return out.data, out.batch_sizes, padded, lengths, h, [s.grad for s in seqs], layer.bias_ih_l1.grad


@scenarios
def lstm_cell_loop_and_linear_head(m):
    """The time-sequence-prediction pattern: two LSTMCells and a Linear, step after step."""
    m.manual_seed(8)
    cell1, cell2, head = m.nn.LSTMCell(1, 5).double(), m.nn.LSTMCell(5, 5).double(), m.nn.Linear(5, 1).double()
    x = randn(m, 3, 6, 1)
    h, c, h2, c2 = (m.zeros(3, 5, dtype=m.float64) for _ in range(4))
    outputs = []
    for x_t in x.split(1, dim=1):
        h, c = cell1(x_t.squeeze(1), (h, c))
        h2, c2 = cell2(h, (h2, c2))
        outputs.append(head(h2))
    out = m.cat(outputs, dim=1)
    weighted_backward(m, out)
    return out, x.grad, {k: p.grad for k, p in cell1.named_parameters()}


@scenarios
def gru_and_rnn_cells_batched_unbatched_and_without_state(m):
    m.manual_seed(9)
    gru, rnn = m.nn.GRUCell(3, 4).double(), m.nn.RNNCell(3, 4, nonlinearity="relu", bias=False).double()
    x, h = randn(m, 2, 3), randn(m, 2, 4)
    outs = [gru(x, h), gru(x[0], h[0]), gru(x), rnn(x, h), rnn(x[1])]
    weighted_backward(m, *outs)
    return outs, x.grad, h.grad, gru.weight_hh.grad, rnn.weight_ih.grad


@scenarios
def lstm_float32_default_init_state_dict_and_output(m):
    m.manual_seed(10)
    layer = m.nn.LSTM(4, 3, num_layers=2, bidirectional=True)
    out, (h, c) = layer(m.randn(5, 2, 4))
    return dict(layer.state_dict()), out.detach(), h.detach(), c.detach()


@scenarios
def cells_default_init(m):
    m.manual_seed(11)
    return [dict(cls(3, 2).state_dict()) for cls in (m.nn.RNNCell, m.nn.LSTMCell, m.nn.GRUCell)]


@scenarios
def pad_sequence_right_and_left(m):
    seqs = [m.arange(n * 2, dtype=m.float64).reshape(n, 2).requires_grad_() for n in (2, 4, 1)]
    right = m.nn.utils.rnn.pad_sequence(seqs, padding_value=-1.0)
    left = m.nn.utils.rnn.pad_sequence(seqs, batch_first=True, padding_side="left")
    weighted_backward(m, right, left)
    return right, left, [s.grad for s in seqs]


@scenarios
def pack_padded_unsorted_batch_first_and_unpack(m):
    x = m.arange(24, dtype=m.float64).reshape(3, 4, 2).requires_grad_()
    packed = m.nn.utils.rnn.pack_padded_sequence(x, m.tensor([2, 4, 2]), batch_first=True, enforce_sorted=False)
    weighted_backward(m, packed.data)
    unpacked = m.nn.utils.rnn.unpack_sequence(packed)
    return tuple(packed), x.grad, unpacked


SCALE = {"lstm_float32_default_init_state_dict_and_output": dict(atol=1e-6, rtol=1e-5)}


@pytest.mark.torch
@scenarios.each
def test_same_as_torch(fn):
    assert_same(fn(tinytorch), fn(torch), fn.__name__, **SCALE.get(fn.__name__, {}))


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_a_torch_state_dict_loads_and_gives_torchs_outputs(kind):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(5, 6, num_layers=2, bidirectional=True, batch_first=True)
    ours = getattr(tinytorch.nn, kind)(5, 6, num_layers=2, bidirectional=True, batch_first=True)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 7, 5)).astype(np.float32)
    assert_same(ours(tinytorch.tensor(x))[0].detach(), theirs(torch.tensor(x))[0].detach(), atol=1e-6, rtol=1e-5)


ERRORS = [
    ("input size", lambda m: m.nn.LSTM(3, 4)(m.randn(2, 1, 5))),
    ("hidden size", lambda m: m.nn.GRU(3, 4)(m.randn(2, 1, 3), m.randn(1, 2, 4))),
    ("cell size", lambda m: m.nn.LSTM(3, 4)(m.randn(2, 1, 3), (m.randn(1, 1, 4), m.randn(1, 1, 5)))),
    ("dtype", lambda m: m.nn.RNN(3, 4)(m.randn(2, 1, 3, dtype=m.float64))),
    ("4-D input", lambda m: m.nn.RNN(3, 4)(m.randn(2, 1, 3, 1))),
    ("1-D input", lambda m: m.nn.GRU(3, 4)(m.randn(3))),
    ("2-D hx for batched input", lambda m: m.nn.GRU(3, 4)(m.randn(2, 1, 3), m.randn(1, 4))),
    ("3-D hx for unbatched input", lambda m: m.nn.LSTM(3, 4)(m.randn(2, 3), (m.randn(1, 1, 4),) * 2)),
    ("nonlinearity", lambda m: m.nn.RNN(3, 4, nonlinearity="gelu")),
    ("dropout", lambda m: m.nn.LSTM(3, 4, dropout=1.5)),
    ("hidden_size type", lambda m: m.nn.GRU(3, 4.0)),
    ("num_layers", lambda m: m.nn.GRU(3, 4, num_layers=0)),
    ("cell input size", lambda m: m.nn.LSTMCell(3, 4)(m.randn(2, 5))),
    ("cell batch", lambda m: m.nn.GRUCell(3, 4)(m.randn(2, 3), m.randn(3, 4))),
    ("cell hidden size", lambda m: m.nn.RNNCell(3, 4)(m.randn(2, 3), m.randn(2, 5))),
    ("cell 3-D input", lambda m: m.nn.LSTMCell(3, 4)(m.randn(1, 2, 3))),
    ("unsorted lengths", lambda m: m.nn.utils.rnn.pack_padded_sequence(m.randn(3, 2, 1), [1, 3])),
    ("zero length", lambda m: m.nn.utils.rnn.pack_padded_sequence(m.randn(3, 2, 1), [3, 0])),
    ("total_length", lambda m: m.nn.utils.rnn.pad_packed_sequence(
        m.nn.utils.rnn.pack_sequence([m.randn(3, 1)]), total_length=2)),
]


@pytest.mark.torch
@pytest.mark.parametrize("fn", [fn for _, fn in ERRORS], ids=[name for name, _ in ERRORS])
def test_bad_input_raises_torchs_error(fn):
    """The same exception class and message (dtypes print as tinytorch.float32 here, torch.float32 there)."""
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(type(theirs.value)) as ours:
        fn(tinytorch)
    assert str(ours.value).replace("tinytorch.", "torch.") == str(theirs.value)


@pytest.mark.torch
def test_dropout_with_one_layer_warns_as_torch():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        tinytorch.nn.LSTM(3, 4, dropout=0.2)


@pytest.mark.torch
@pytest.mark.parametrize("make", [
    lambda m: m.nn.LSTM(3, 4, num_layers=2, bias=False, batch_first=True, dropout=0.25, bidirectional=True),
    lambda m: m.nn.RNN(3, 4, nonlinearity="relu"), lambda m: m.nn.GRU(3, 4),
    lambda m: m.nn.RNNCell(3, 4, bias=False, nonlinearity="relu"), lambda m: m.nn.LSTMCell(3, 4),
])
def test_printed_as_torch(make):
    assert repr(make(tinytorch)) == repr(make(torch))


def test_flat_weights_follow_torchs_order_and_flatten_parameters_is_harmless():
    layer = tinytorch.nn.GRU(2, 3, bidirectional=True)
    layer.flatten_parameters()
    assert layer._flat_weights_names == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                         "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse",
                                         "bias_hh_l0_reverse"]
    assert [w is p for w, p in zip(layer._flat_weights, layer.parameters())] == [True] * 8
