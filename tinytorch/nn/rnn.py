"""Recurrent layers with torch's names, arguments, parameters and initialisation: `RNN` (tanh or
relu), `LSTM` and `GRU` (stacked, bidirectional, dropout between layers, batch_first, packed
input), and the one-step `RNNCell`, `LSTMCell`, `GRUCell`.

Each layer and direction runs as one fused Function (nn/fused_rnn.py: the input projection of all
steps as one matrix product, then one product per step, and a hand-derived backward through
time); a cell is that Function over one step. Parameters are registered in torch's order, per
layer and direction weight_ih_l{k}{_reverse}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}, and all
drawn from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) in that order, so the same seed gives
torch's weights and a torch state_dict loads as it is.
"""
import math
import numbers

from .. import caller_warnings
from ..creation import empty, zeros
from ..functions import cat, stack
from . import functional as F, init
from .fused_rnn import GATES, RecurrentLayer
from .module import Module
from .parameter import Parameter
from .utils.rnn import PackedSequence


class RNNBase(Module):
    """What RNN, LSTM and GRU share; `mode` is "RNN_TANH", "RNN_RELU", "LSTM" or "GRU"."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        _check_options(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size)
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        directions = 2 if bidirectional else 1
        gate_size = GATES[mode] * hidden_size
        self._flat_weights_names, self._all_weights = [], []
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input_size = input_size if layer == 0 else hidden_size * directions
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = {"weight_ih": (gate_size, layer_input_size), "weight_hh": (gate_size, hidden_size)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                for kind, shape in shapes.items():
                    setattr(self, kind + suffix, Parameter(empty(shape, device=device, dtype=dtype)))
                names = [kind + suffix for kind in shapes]
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self):
        """Does nothing: torch packs the weights into one buffer for cuDNN; here they are used as they are."""

    def forward(self, input, hx=None):
        """(output, h_n), or for LSTM (output, (h_n, c_n)). input (T, B, in), (B, T, in) with batch_first,
        (T, in) unbatched, or a PackedSequence (then output is one too); hx (or (h_0, c_0)) is
        (num_layers * directions, B, H), zeros when not given."""
        lstm = self.mode == "LSTM"
        directions = 2 if self.bidirectional else 1
        packed = isinstance(input, PackedSequence)
        is_batched, batch_dim = True, 0 if self.batch_first else 1
        if packed:
            input, sizes, sorted_indices, unsorted_indices = input
            batch_sizes = tuple(sizes.tolist())
            batch = batch_sizes[0]
            hx = None if hx is None else _permute(hx, sorted_indices)
        else:
            if input.dim() not in (2, 3):
                what = f"{input.dim()}D tensor" if self.mode.startswith("RNN") else f"{input.dim()}D"
                raise ValueError(f"{self.mode.split('_')[0]}: Expected input to be 2D or 3D, got {what} instead")
            is_batched, batch_sizes, unsorted_indices = input.dim() == 3, None, None
            _check_hidden_dims(hx, is_batched, lstm)
            if not is_batched:
                input = input.unsqueeze(batch_dim)
                hx = None if hx is None else _unsqueeze(hx, 1)
            batch = input.shape[batch_dim]
        if hx is None:
            zero = zeros(self.num_layers * directions, batch, self.hidden_size, dtype=input.dtype, device=input.device)
            hx = (zero, zero) if lstm else zero
        self._check_forward_args(input, hx, batch_sizes)
        if self.batch_first and not packed:
            input = input.transpose(0, 1)
        output, h_n, c_n = self._run_layers(input, hx[0] if lstm else hx, hx[1] if lstm else None, batch_sizes)
        hidden = (h_n, c_n) if lstm else h_n
        if packed:
            return PackedSequence(output, sizes, sorted_indices, unsorted_indices), _permute(hidden, unsorted_indices)
        if self.batch_first:
            output = output.transpose(0, 1)
        if not is_batched:
            return output.squeeze(batch_dim), _squeeze(hidden, 1)
        return output, hidden

    def _run_layers(self, input, h0, c0, batch_sizes):
        """Layer after layer, each direction one RecurrentLayer; dropout on the outputs of all but
        the last layer while training (the directions' outputs joined along the last dim first)."""
        directions = 2 if self.bidirectional else 1
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                w_ih, w_hh, *biases = (getattr(self, name) for name in self._all_weights[k])
                b_ih, b_hh = biases or (None, None)
                result = RecurrentLayer.apply(input, h0[k], None if c0 is None else c0[k], w_ih, w_hh, b_ih, b_hh,
                                              self.mode, batch_sizes, direction == 1)
                outputs.append(result[0])
                h_n.append(result[1])
                if c0 is not None:
                    c_n.append(result[2])
            input = outputs[0] if directions == 1 else cat(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                input = F.dropout(input, self.dropout, True)
        return input, stack(h_n), (stack(c_n) if c_n else None)

    def _check_forward_args(self, input, hx, batch_sizes):
        weight = self.weight_ih_l0
        if input.dtype != weight.dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight.dtype}). "
                             f"Convert input: input.to({weight.dtype}), or convert model: model.to({input.dtype})")
        expected_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_dim:
            raise RuntimeError(f"input must have {expected_dim} dimensions, got {input.dim()}")
        if self.input_size != input.shape[-1]:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                               f"{input.shape[-1]}")
        batch = batch_sizes[0] if batch_sizes is not None else input.shape[0 if self.batch_first else 1]
        expected = (self.num_layers * (2 if self.bidirectional else 1), batch, self.hidden_size)
        if self.mode == "LSTM":
            for k, state in enumerate(hx):
                if tuple(state.shape) != expected:
                    raise RuntimeError(f"Expected hidden[{k}] size {expected}, got {list(state.shape)}")
        elif tuple(hx.shape) != expected:
            raise RuntimeError(f"Expected hidden size {expected}, got {list(hx.shape)}")

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (nonlinearity="relu": relu)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, device=device, dtype=dtype)


class LSTM(RNNBase):
    """Gates i, f, g, o = s, s, tanh, s of x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh (s the sigmoid);
    c_t = f c_{t-1} + i g, h_t = o tanh(c_t). proj_size is not supported."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        if proj_size:
            raise NotImplementedError("tinytorch's LSTM does not support proj_size yet")
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


class GRU(RNNBase):
    """r, z = s(x W_ir^T + b_ir + h W_hr^T + b_hr), s(... z ...); n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn));
    h_t = (1 - z) n + z h_{t-1}."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


def _check_options(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size):
    """torch's checks of the constructor's arguments, with its messages."""
    if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
        raise ValueError("dropout should be a number in range [0, 1] representing the probability of an element "
                         "being zeroed")
    if dropout > 0 and num_layers == 1:
        caller_warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                             f"expects num_layers greater than 1, but got dropout={dropout} and "
                             f"num_layers={num_layers}")
    for name, value, kind in (("bias", bias, bool), ("batch_first", batch_first, bool),
                              ("input_size", input_size, int), ("hidden_size", hidden_size, int)):
        if not isinstance(value, kind):
            raise TypeError(f"{name} should be of type {kind.__name__}, got: {type(value).__name__}")
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
        if value <= 0:
            raise ValueError(f"{name} must be greater than zero")
    if proj_size < 0:
        raise ValueError("proj_size should be a positive integer or zero to disable projections")
    if mode not in GATES:
        raise ValueError("Unrecognized RNN mode: " + mode)


def _check_hidden_dims(hx, is_batched, lstm):
    if hx is None:
        return
    want = 3 if is_batched else 2
    kind = "batched 3-D" if is_batched else "unbatched 2-D"
    if lstm and (hx[0].dim() != want or hx[1].dim() != want):
        raise RuntimeError(f"For {kind} input, hx and cx should also be {want}-D but got ({hx[0].dim()}-D, "
                           f"{hx[1].dim()}-D) tensors")
    if not lstm and hx.dim() != want:
        raise RuntimeError(f"For {kind} input, hx should also be {want}-D but got {hx.dim()}-D tensor")


def _permute(hidden, order):
    """The batch dim (1) of the state (or of each of (h, c)) reordered by `order` (None: unchanged)."""
    if order is None:
        return hidden
    if isinstance(hidden, tuple):
        return tuple(h.index_select(1, order) for h in hidden)
    return hidden.index_select(1, order)


def _unsqueeze(hidden, dim):
    return tuple(h.unsqueeze(dim) for h in hidden) if isinstance(hidden, tuple) else hidden.unsqueeze(dim)


def _squeeze(hidden, dim):
    return tuple(h.squeeze(dim) for h in hidden) if isinstance(hidden, tuple) else hidden.squeeze(dim)


# ---- cells: one step ---------------------------------------------------------------------------

class RNNCellBase(Module):
    """weight_ih (chunks * H, in), weight_hh (chunks * H, H), bias_ih, bias_hh (chunks * H,), drawn from
    U(-1/sqrt(H), 1/sqrt(H)) in that order."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = Parameter(empty(num_chunks * hidden_size, input_size, device=device, dtype=dtype))
        self.weight_hh = Parameter(empty(num_chunks * hidden_size, hidden_size, device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, device=device, dtype=dtype))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    reset_parameters = RNNBase.reset_parameters

    def _step(self, mode, input, hidden):
        """One RecurrentLayer step: input (B, in) or (in,), hidden a state or (h, c) of (B, H) or (H,)
        (None: zeros). Returns the new state(s), unbatched when the input was."""
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        states = () if hidden is None else (hidden if isinstance(hidden, tuple) else (hidden,))
        for k, state in enumerate(states):
            if state.dim() not in (1, 2):
                which = f"hx[{k}]" if isinstance(hidden, tuple) else "hidden"
                raise ValueError(f"{name}: Expected {which} to be 1D or 2D, got {state.dim()}D instead")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
            states = tuple(s.unsqueeze(0) for s in states)
        if not states:
            zero = zeros(input.shape[0], self.hidden_size, dtype=input.dtype, device=input.device)
            states = (zero, zero) if mode == "LSTM" else (zero,)
        self._check_step(input, states)
        c0 = states[1] if mode == "LSTM" else None
        new = RecurrentLayer.apply(input.unsqueeze(0), states[0], c0, self.weight_ih, self.weight_hh,
                                   self.bias_ih, self.bias_hh, mode, None, False)[1:]
        if not is_batched:
            new = tuple(s.squeeze(0) for s in new)
        return new if mode == "LSTM" else new[0]

    def _check_step(self, input, states):
        """torch's checks of a cell's input and states, with its messages."""
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} expected {self.input_size}")
        for k, state in enumerate(states):
            if state.shape[0] != input.shape[0]:
                raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match hidden{k} batch size "
                                   f"{state.shape[0]}")
            if state.shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden{k} has inconsistent hidden_size: got {state.shape[1]}, expected "
                                   f"{self.hidden_size}")

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return self._step("RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU", input, hx)


class LSTMCell(RNNCellBase):
    """(h', c') from (h, c): one step of LSTM."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        return self._step("LSTM", input, None if hx is None else tuple(hx))


class GRUCell(RNNCellBase):
    """h' from h: one step of GRU."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        return self._step("GRU", input, hx)
