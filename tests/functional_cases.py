"""The fused-op table, beside op_cases.py's table of primitive ops: one row per fused op of
nn.functional (or per form of one), shared by the float64 gradient checks and the torch parity
tests of test_nn_functional.py.

A `FusedOp` names the fused op, its naive twin (the same function from Tensor primitives,
differentiated by autograd), torch's op, and `draw(data) -> (inputs, params)`, where inputs
are arrays (they become leaves) or None and params are plain values. The three ops are called
alike, `call(op, *tensors, **params)`; by default that is op(*tensors, **params).
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as TF
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinytorch
import tinytorch.nn.functional as F
from harness import default_grads
from strategies import LAYOUTS, arrays, dim_of, lay_out, shapes, unary

DROPOUT_SEED = 5


def _plain(op, *tensors, **params):
    return op(*tensors, **params)


@dataclass(frozen=True)
class FusedOp:
    name: str
    fused: Callable
    naive: Callable
    torch_op: Callable
    draw: Callable
    call: Callable = _plain
    constants: tuple = ()  # positions of floating inputs that get no gradient (torch gives them none)
    cpu_draws: bool = False  # the op draws torch's CPU random stream, which only tinytorch's CPU generator gives

    def bound(self, op, params):
        """op as a function of the input tensors alone."""
        return lambda *tensors: self.call(op, *tensors, **params)

    def grads(self, inputs):
        """Which inputs are differentiated: the floating arrays but the constants."""
        return [g and k not in self.constants for k, g in enumerate(default_grads(inputs))]


# ---- input draws -------------------------------------------------------------------------------
def any_layout(domain="real", **params):
    """One array of at least one dim, in any layout (fused ops take fast paths on contiguous ones)."""
    return unary(domain, min_dims=1, layouts=LAYOUTS, **params)


def linear_inputs(**params):
    """x (..., in), weight (out, in) and, drawn, bias (out,)."""
    def draw(data):
        lead = data.draw(shapes(min_dims=0, max_dims=2))
        n_in, n_out = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))
        inputs = [data.draw(arrays(lead + (n_in,))), data.draw(arrays((n_out, n_in)))]
        if data.draw(st.booleans()):
            inputs.append(data.draw(arrays((n_out,), layout="contiguous")))
        return inputs, {k: data.draw(s) for k, s in params.items()}
    return draw


def embedding_inputs(data):
    """Indices with at least one repeat (when there are two) into a weight. (padding_idx's row gets
    no gradient by definition, which central differences cannot see: test_nn_fused_layers.py.)"""
    n_rows, dim = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 4))
    idx = data.draw(hnp.arrays(np.int64, data.draw(shapes(min_dims=1)), elements=st.integers(0, n_rows - 1)))
    flat = idx.reshape(-1).copy()
    flat[-1] = flat[0]
    return [flat.reshape(idx.shape), data.draw(arrays((n_rows, dim)))], {}


def attention_inputs(data):
    """q (..., L, E), k (..., S, E), v (..., S, Ev) in one layout, with no mask, a causal one, a
    boolean one (every query sees key 0) or an additive float one; and a drawn scale."""
    batch = tuple(data.draw(st.lists(st.integers(1, 3), max_size=2)))
    n_q, n_k, e, ev = (data.draw(st.integers(1, 5)) for _ in range(4))
    layout = data.draw(st.sampled_from(LAYOUTS))
    q, k, v = (data.draw(arrays(batch + s, layout=layout)) for s in ((n_q, e), (n_k, e), (n_k, ev)))
    mask_kind = data.draw(st.sampled_from(["none", "causal", "bool", "float"]))
    mask = None
    if mask_kind == "bool":
        mask = data.draw(arrays((n_q, n_k), "bool"))
        mask[:, 0] = True
    elif mask_kind == "float":
        mask = data.draw(arrays(batch + (n_q, n_k)))
    return [q, k, v, mask], {"is_causal": mask_kind == "causal", "scale": data.draw(st.sampled_from([None, 0.3]))}


def _attention(op, q, k, v, mask, **params):
    return op(q, k, v, attn_mask=mask, **params)


def classification_inputs(log_probabilities=False):
    """logits (N, C) or (N, C, d...) in a drawn layout (log-softmaxed and strided for nll_loss),
    int64 targets some of which are the drawn ignore_index, a drawn class weight (or None) and
    drawn reduction and (cross_entropy only) label smoothing."""
    def draw(data):
        n, n_classes = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 7))
        extra = tuple(data.draw(st.lists(st.integers(1, 3), max_size=2)))
        rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16)))
        logits = rng.normal(0, 3, (n, n_classes) + extra)
        targets = rng.integers(0, n_classes, (n,) + extra)
        ignore_index = data.draw(st.sampled_from([-100, 0, n_classes - 1])) if n_classes > 1 else -100
        targets[rng.random(targets.shape) < 0.3] = ignore_index
        if (targets == ignore_index).all():  # keep at least one counted target, so 'mean' is finite
            targets.reshape(-1)[0] = (ignore_index + 1) % n_classes if ignore_index >= 0 else 0
        weight = rng.uniform(0.2, 2.0, n_classes) if data.draw(st.booleans()) else None
        params = dict(ignore_index=ignore_index, reduction=data.draw(st.sampled_from(["mean", "sum", "none"])))
        if log_probabilities:
            logits = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
            layout = "strided"
        else:
            params["label_smoothing"] = data.draw(st.sampled_from([0.0, 0.0, 0.1, 0.5]))
            layout = data.draw(st.sampled_from(LAYOUTS))
        return [lay_out(logits, layout), targets, weight], params
    return draw


def _classification(op, logits, targets, weight, **params):
    return op(logits, targets, weight=weight, **params)


def regression_inputs(weighted=False):
    """input and target of one shape (and a positive weight of it), and a drawn reduction."""
    def draw(data):
        shape = data.draw(shapes(min_dims=1))
        inputs = [data.draw(arrays(shape)), data.draw(arrays(shape, layout="contiguous"))]
        if weighted:
            return inputs + [data.draw(arrays(shape, "positive"))], {}
        return inputs, {"reduction": data.draw(st.sampled_from(["mean", "sum", "none"]))}
    return draw


def _weighted(op, x, y, w):
    return op(x, y, weight=w)


def layer_norm_inputs(data):
    """x over whose last 1 to 3 dims the norm goes, and a weight and a bias, each maybe None."""
    shape = data.draw(shapes(min_dims=1))
    normalized = shape[len(shape) - data.draw(st.integers(1, len(shape))):]
    weight, bias = (data.draw(st.one_of(st.none(), arrays(normalized, layout="contiguous"))) for _ in range(2))
    return [data.draw(arrays(shape)), weight, bias], {"normalized_shape": normalized}


def _layer_norm(op, x, weight, bias, normalized_shape):
    return op(x, normalized_shape, weight, bias, 1e-5)


def batch_norm_inputs(training):
    """(N, C) or (N, C, L) input, running mean and var (None or arrays; eval always has them),
    weight and bias (both or neither), and training, momentum."""
    def draw(data):
        length = data.draw(st.sampled_from([(), (1,), (3,)]))
        shape = (data.draw(st.integers(2, 6)), data.draw(st.integers(1, 4))) + length
        def per_channel(domain="real"):  # contiguous: torch 2.13's eval backward is wrong for strided ones
            return data.draw(arrays(shape[1:2], domain, layout="contiguous"))
        stats = [per_channel(), per_channel("positive")]
        if training and data.draw(st.booleans()):
            stats = [None, None]
        affine = [per_channel(), per_channel()] if data.draw(st.booleans()) else [None, None]
        params = {"training": training, "momentum": data.draw(st.sampled_from([0.1, 0.001, 1.0]))}
        return [data.draw(arrays(shape))] + stats + affine, params
    return draw


# ---- the ops whose torch spelling differs ------------------------------------------------------
def _torch_gelu_linear(input, weight, bias=None, approximate="none"):
    return TF.linear(TF.gelu(input, approximate=approximate), weight, bias)


def _seeded(op):
    """op after tinytorch.manual_seed(DROPOUT_SEED): every call draws the same numbers."""
    def run(*args, **kwargs):
        tinytorch.manual_seed(DROPOUT_SEED)
        return op(*args, **kwargs)
    return run


def _torch_dropout(input, p, training):
    """torch's own dropout after torch.manual_seed(DROPOUT_SEED): the same mask as tinytorch's."""
    torch.manual_seed(DROPOUT_SEED)
    return TF.dropout(input, p, training)


FUSED_OPS = [
    # ---- activations ---------------------------------------------------------------------------
    FusedOp("softmax", F.softmax, F.softmax_naive, TF.softmax, any_layout("wide", dim=dim_of)),
    FusedOp("log_softmax", F.log_softmax, F.log_softmax_naive, TF.log_softmax, any_layout("wide", dim=dim_of)),
    FusedOp("tanh", F.tanh, F.tanh_naive, TF.tanh, any_layout("wide")),
    FusedOp("sigmoid", F.sigmoid, F.sigmoid_naive, TF.sigmoid, any_layout("wide")),
    FusedOp("relu", F.relu, F.relu_naive, TF.relu, any_layout("nonzero")),
    FusedOp("silu", F.silu, F.silu_naive, TF.silu, any_layout("wide")),
    FusedOp("gelu", F.gelu, F.gelu_naive, TF.gelu, any_layout("wide")),
    FusedOp("gelu_tanh", F.gelu, F.gelu_naive, TF.gelu, any_layout("wide", approximate=st.just("tanh"))),
    FusedOp("dropout", _seeded(F.dropout), _seeded(F.dropout_naive), _torch_dropout,
            any_layout(p=st.sampled_from([0.1, 0.5, 0.9]), training=st.just(True)), cpu_draws=True),
    # ---- layers --------------------------------------------------------------------------------
    FusedOp("linear", F.linear, F.linear_naive, TF.linear, linear_inputs()),
    FusedOp("gelu_linear", F.gelu_linear, F.gelu_linear_naive, _torch_gelu_linear,
            linear_inputs(approximate=st.sampled_from(["none", "tanh"]))),
    FusedOp("embedding", F.embedding, F.embedding_naive, TF.embedding, embedding_inputs),
    FusedOp("scaled_dot_product_attention", F.scaled_dot_product_attention, F.scaled_dot_product_attention_naive,
            TF.scaled_dot_product_attention, attention_inputs, call=_attention),
    # ---- losses --------------------------------------------------------------------------------
    FusedOp("cross_entropy", F.cross_entropy, F.cross_entropy_naive, TF.cross_entropy, classification_inputs(),
            call=_classification, constants=(2,)),
    FusedOp("nll_loss", F.nll_loss, F.nll_loss_naive, TF.nll_loss, classification_inputs(log_probabilities=True),
            call=_classification, constants=(2,)),
    FusedOp("mse_loss", F.mse_loss, F.mse_loss_naive, TF.mse_loss, regression_inputs()),
    FusedOp("mse_loss_weighted", F.mse_loss, F.mse_loss_naive, TF.mse_loss, regression_inputs(weighted=True),
            call=_weighted),
    # ---- normalizations ------------------------------------------------------------------------
    FusedOp("layer_norm", F.layer_norm, F.layer_norm_naive, TF.layer_norm, layer_norm_inputs, call=_layer_norm),
    FusedOp("batch_norm_training", F.batch_norm, F.batch_norm_naive, TF.batch_norm, batch_norm_inputs(training=True),
            constants=(1, 2)),
    FusedOp("batch_norm_eval", F.batch_norm, F.batch_norm_naive, TF.batch_norm, batch_norm_inputs(training=False),
            constants=(1, 2)),
]
