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
from strategies import LAYOUTS, arrays, broadcast_shapes, dim_of, lay_out, shapes, shrunk_to_broadcast, unary
from conv_cases import conv_inputs, pool_inputs

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


def regression_inputs(weighted=False, **params):
    """input and target of one shape (and a positive weight of it), a drawn reduction (without a
    weight) and `params` drawn from their strategies. The target comes from a wider domain, so
    input - target is not 0 (l1's kink) even where both come from one seed."""
    def draw(data):
        shape = data.draw(shapes(min_dims=1))
        inputs = [data.draw(arrays(shape)), data.draw(arrays(shape, "wide", layout="contiguous"))]
        drawn = {k: data.draw(s) for k, s in params.items()}
        if weighted:
            return inputs + [data.draw(arrays(shape, "positive"))], drawn
        return inputs, {"reduction": data.draw(st.sampled_from(["mean", "sum", "none"])), **drawn}
    return draw


def _weighted(op, x, y, w, **params):
    return op(x, y, weight=w, **params)


REDUCTIONS = st.sampled_from(["mean", "sum", "none"])


def probability_inputs(data):
    """logits (C,), (N, C) or (N, C, d...) in a drawn layout, class probabilities of that shape
    (they get a gradient, as torch gives them one), a drawn class weight (or None), reduction
    and label smoothing."""
    n_classes = data.draw(st.integers(1, 5))
    extra = tuple(data.draw(st.lists(st.integers(1, 3), max_size=2)))
    shape = data.draw(st.sampled_from([(n_classes,), (data.draw(st.integers(1, 4)), n_classes) + extra]))
    axis = 0 if len(shape) == 1 else 1
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16)))
    logits = rng.normal(0, 3, shape)
    probs = rng.dirichlet(np.ones(shape[axis]), shape[:axis] + shape[axis + 1:])
    probs = np.moveaxis(probs, -1, axis)
    weight = rng.uniform(0.2, 2.0, shape[axis]) if data.draw(st.booleans()) else None
    params = dict(reduction=data.draw(REDUCTIONS), label_smoothing=data.draw(st.sampled_from([0.0, 0.1, 0.5])))
    return [lay_out(logits, data.draw(st.sampled_from(LAYOUTS))), probs, weight], params


def binary_inputs(logits):
    """Probabilities in (0.02, 0.98) (logits: in (-6, 6)) in a drawn layout, soft targets in
    [0, 1] of their shape, a positive weight (and pos_weight, for logits), each None or of a
    shape that broadcasts to the input's, and a drawn reduction."""
    def draw(data):
        shape = data.draw(shapes(min_dims=0))
        rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16)))
        x = lay_out(rng.uniform(-6, 6, shape) if logits else rng.uniform(0.02, 0.98, shape),
                    data.draw(st.sampled_from(LAYOUTS)))
        t = rng.uniform(0, 1, shape)
        weights = [data.draw(st.one_of(st.none(), shrunk_to_broadcast(shape).flatmap(
            lambda s: arrays(s, "positive", layout="contiguous")))) for _ in range(1 + logits)]
        return [x, t] + weights, {"reduction": data.draw(REDUCTIONS)}
    return draw


def _binary(op, x, t, w, **params):
    return op(x, t, weight=w, **params)


def _binary_logits(op, x, t, w, pos_weight, **params):
    return op(x, t, weight=w, pos_weight=pos_weight, **params)


def kl_div_inputs(data):
    """Log-probabilities and targets of shapes that broadcast together (positive probabilities,
    or any log-probabilities with log_target), and a drawn reduction, 'batchmean' included."""
    x_shape, t_shape = data.draw(broadcast_shapes(2))
    log_target = data.draw(st.booleans())
    inputs = [data.draw(arrays(x_shape)), data.draw(arrays(t_shape, "real" if log_target else "positive"))]
    reduction = data.draw(st.sampled_from(["mean", "sum", "none", "batchmean"]))
    return inputs, {"reduction": reduction, "log_target": log_target}


def cosine_inputs(data):
    """x1, x2 (N, D) with an (N,) target, or (D,) with a 0-d one; targets 1, -1 or 0 (no loss);
    a drawn margin and reduction."""
    batch = data.draw(st.sampled_from([(), (1,), (3,)]))
    dim = data.draw(st.integers(1, 4))
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16)))  # one stream: x1, x2 never parallel
    x1, x2 = (lay_out(rng.normal(0, 1, batch + (dim,)), data.draw(st.sampled_from(LAYOUTS))) for _ in range(2))
    target = data.draw(hnp.arrays(np.int64, batch, elements=st.sampled_from([1, -1, 1, -1, 0])))
    margin = data.draw(st.sampled_from([0.0, 0.3, -0.2]))
    return [x1, x2, target], {"margin": margin, "reduction": data.draw(REDUCTIONS)}


def ranking_inputs(data):
    """x1, x2 (from another domain: they differ even from one seed) and a float target of +-1 (it
    gets a gradient, as torch gives it one) of one shape, a drawn margin and reduction."""
    shape = data.draw(shapes(min_dims=1))
    target = np.where(data.draw(arrays(shape, "bool", layout="contiguous")), 1.0, -1.0)
    return [data.draw(arrays(shape)), data.draw(arrays(shape, "wide")), target], {
        "margin": data.draw(st.sampled_from([0.0, 0.5])), "reduction": data.draw(REDUCTIONS)}


def layer_norm_inputs(data):
    """x over whose last 1 to 3 dims the norm goes, and a weight and a bias, each maybe None."""
    shape = data.draw(shapes(min_dims=1))
    normalized = shape[len(shape) - data.draw(st.integers(1, len(shape))):]
    weight, bias = (data.draw(st.one_of(st.none(), arrays(normalized, layout="contiguous"))) for _ in range(2))
    return [data.draw(arrays(shape)), weight, bias], {"normalized_shape": normalized}


def _layer_norm(op, x, weight, bias, normalized_shape):
    return op(x, normalized_shape, weight, bias, 1e-5)


def batch_norm_inputs(training, lengths=((), (1,), (3,))):
    """(N, C) + one of `lengths` input (default (N, C) or (N, C, L)), running mean and var (None or
    arrays; eval always has them), weight and bias (both or neither), and training, momentum."""
    def draw(data):
        length = data.draw(st.sampled_from(lengths))
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


def _per_channel_params(data, n_channels, count):
    """`count` contiguous (C,) arrays, each maybe None (weight, bias, ...)."""
    return [data.draw(st.one_of(st.none(), arrays((n_channels,), layout="contiguous"))) for _ in range(count)]


def group_norm_inputs(data):
    """(N, C, *) input with C = groups * channels per group and 0 to 2 spatial dims (a group of
    at least 2 values), weight maybe None, bias maybe None when there is a weight (torch 2.13's
    group_norm backward fails for a bias without a weight), and num_groups."""
    groups, per_group = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 2))
    spatial = tuple(data.draw(st.lists(st.integers(1, 3), max_size=2)))
    if per_group * np.prod(spatial, dtype=int) == 1:
        spatial = (2,)
    shape = (data.draw(st.integers(1, 3)), groups * per_group) + spatial
    weight, bias = _per_channel_params(data, shape[1], 2)
    return [data.draw(arrays(shape)), weight, bias if weight is not None else None], {"num_groups": groups}


def _group_norm(op, x, weight, bias, num_groups):
    return op(x, num_groups, weight, bias, 1e-5)


def rms_norm_inputs(data):
    """x over whose last 1 to 3 dims the norm goes, a weight maybe None, and eps (None: finfo's)."""
    shape = data.draw(shapes(min_dims=1))
    normalized = shape[len(shape) - data.draw(st.integers(1, len(shape))):]
    weight = data.draw(st.one_of(st.none(), arrays(normalized, layout="contiguous")))
    return [data.draw(arrays(shape)), weight], {"normalized_shape": normalized,
                                                "eps": data.draw(st.sampled_from([None, 1e-6]))}


def _rms_norm(op, x, weight, normalized_shape, eps):
    return op(x, normalized_shape, weight, eps)


def instance_norm_inputs(use_input_stats):
    """(N, C, L) or (N, C, H, W) input of at least 2 positions, running mean and var (eval always
    has them), weight and bias each maybe None, and use_input_stats, momentum."""
    def draw(data):
        spatial = data.draw(st.sampled_from([(2,), (3,), (1, 2), (2, 3)]))
        shape = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))) + spatial
        stats = [data.draw(arrays(shape[1:2], domain, layout="contiguous")) for domain in ("real", "positive")]
        if use_input_stats and data.draw(st.booleans()):
            stats = [None, None]
        params = {"use_input_stats": use_input_stats, "momentum": data.draw(st.sampled_from([0.1, 1.0]))}
        return [data.draw(arrays(shape))] + stats + _per_channel_params(data, shape[1], 2), params
    return draw


def channel_inputs(ndim):
    """(N, C, *) input of `ndim` dims in any layout for channel dropout, p, and training=True."""
    def draw(data):
        shape = data.draw(shapes(min_dims=ndim, max_dims=ndim))
        params = {"p": data.draw(st.sampled_from([0.1, 0.5, 0.9])), "training": True}
        return [data.draw(arrays(shape))], params
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


def _torch_seeded(op):
    """torch's own op after torch.manual_seed(DROPOUT_SEED): the same mask as tinytorch's."""
    def run(*args, **kwargs):
        torch.manual_seed(DROPOUT_SEED)
        return op(*args, **kwargs)
    return run


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
    FusedOp("dropout", _seeded(F.dropout), _seeded(F.dropout_naive), _torch_seeded(TF.dropout),
            any_layout(p=st.sampled_from([0.1, 0.5, 0.9]), training=st.just(True)), cpu_draws=True),
    FusedOp("dropout1d", _seeded(F.dropout1d), _seeded(F.feature_dropout_naive), _torch_seeded(TF.dropout1d),
            channel_inputs(3), cpu_draws=True),
    FusedOp("dropout2d", _seeded(F.dropout2d), _seeded(F.feature_dropout_naive), _torch_seeded(TF.dropout2d),
            channel_inputs(4), cpu_draws=True),
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
    FusedOp("cross_entropy_probabilities", F.cross_entropy, F.cross_entropy_naive, TF.cross_entropy,
            probability_inputs, call=_classification, constants=(2,)),
    FusedOp("binary_cross_entropy", F.binary_cross_entropy, F.binary_cross_entropy_naive, TF.binary_cross_entropy,
            binary_inputs(logits=False), call=_binary, constants=(2,)),
    FusedOp("binary_cross_entropy_with_logits", F.binary_cross_entropy_with_logits,
            F.binary_cross_entropy_with_logits_naive, TF.binary_cross_entropy_with_logits, binary_inputs(logits=True),
            call=_binary_logits, constants=(2, 3)),
    FusedOp("l1_loss", F.l1_loss, F.l1_loss_naive, TF.l1_loss, regression_inputs()),
    FusedOp("l1_loss_weighted", F.l1_loss, F.l1_loss_naive, TF.l1_loss, regression_inputs(weighted=True),
            call=_weighted),
    FusedOp("smooth_l1_loss", F.smooth_l1_loss, F.smooth_l1_loss_naive, TF.smooth_l1_loss,
            regression_inputs(beta=st.sampled_from([1.0, 0.5, 0.0]))),
    FusedOp("huber_loss", F.huber_loss, F.huber_loss_naive, TF.huber_loss,
            regression_inputs(delta=st.sampled_from([1.0, 0.5, 2.0]))),
    FusedOp("huber_loss_weighted", F.huber_loss, F.huber_loss_naive, TF.huber_loss,
            regression_inputs(weighted=True, delta=st.sampled_from([1.0, 0.5])), call=_weighted),
    FusedOp("kl_div", F.kl_div, F.kl_div_naive, TF.kl_div, kl_div_inputs),
    # composites, in torch as here: the op is its own naive form
    FusedOp("cosine_embedding_loss", F.cosine_embedding_loss, F.cosine_embedding_loss, TF.cosine_embedding_loss,
            cosine_inputs),
    FusedOp("margin_ranking_loss", F.margin_ranking_loss, F.margin_ranking_loss, TF.margin_ranking_loss,
            ranking_inputs),
    # ---- normalizations ------------------------------------------------------------------------
    FusedOp("layer_norm", F.layer_norm, F.layer_norm_naive, TF.layer_norm, layer_norm_inputs, call=_layer_norm),
    FusedOp("batch_norm_training", F.batch_norm, F.batch_norm_naive, TF.batch_norm, batch_norm_inputs(training=True),
            constants=(1, 2)),
    FusedOp("batch_norm_eval", F.batch_norm, F.batch_norm_naive, TF.batch_norm, batch_norm_inputs(training=False),
            constants=(1, 2)),
    FusedOp("batch_norm_2d_training", F.batch_norm, F.batch_norm_naive, TF.batch_norm,
            batch_norm_inputs(training=True, lengths=((1, 1), (2, 3), (3, 1))), constants=(1, 2)),
    FusedOp("batch_norm_2d_eval", F.batch_norm, F.batch_norm_naive, TF.batch_norm,
            batch_norm_inputs(training=False, lengths=((1, 1), (2, 3), (3, 1))), constants=(1, 2)),
    FusedOp("group_norm", F.group_norm, F.group_norm_naive, TF.group_norm, group_norm_inputs, call=_group_norm),
    FusedOp("rms_norm", F.rms_norm, F.rms_norm_naive, TF.rms_norm, rms_norm_inputs, call=_rms_norm),
    FusedOp("instance_norm", F.instance_norm, F.instance_norm_naive, TF.instance_norm, instance_norm_inputs(True),
            constants=(1, 2)),
    FusedOp("instance_norm_eval", F.instance_norm, F.instance_norm_naive, TF.instance_norm, instance_norm_inputs(False),
            constants=(1, 2)),
    # ---- convolutions and poolings -------------------------------------------------------------
    FusedOp("conv1d", F.conv1d, F.conv_naive, TF.conv1d, conv_inputs(1)),
    FusedOp("conv2d", F.conv2d, F.conv_naive, TF.conv2d, conv_inputs(2)),
    FusedOp("conv_transpose1d", F.conv_transpose1d, F.conv_transpose_naive, TF.conv_transpose1d,
            conv_inputs(1, transposed=True)),
    FusedOp("conv_transpose2d", F.conv_transpose2d, F.conv_transpose_naive, TF.conv_transpose2d,
            conv_inputs(2, transposed=True)),
    FusedOp("max_pool1d", F.max_pool1d, F.max_pool_naive, TF.max_pool1d, pool_inputs(1, "max")),
    FusedOp("max_pool2d", F.max_pool2d, F.max_pool_naive, TF.max_pool2d, pool_inputs(2, "max")),
    FusedOp("avg_pool1d", F.avg_pool1d, F.avg_pool_naive, TF.avg_pool1d, pool_inputs(1, "avg")),
    FusedOp("avg_pool2d", F.avg_pool2d, F.avg_pool_naive, TF.avg_pool2d, pool_inputs(2, "avg")),
    FusedOp("adaptive_avg_pool1d", F.adaptive_avg_pool1d, F.adaptive_avg_pool_naive, TF.adaptive_avg_pool1d,
            pool_inputs(1, "adaptive")),
    FusedOp("adaptive_avg_pool2d", F.adaptive_avg_pool2d, F.adaptive_avg_pool_naive, TF.adaptive_avg_pool2d,
            pool_inputs(2, "adaptive")),
]
