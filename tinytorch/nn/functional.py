"""tinytorch.nn.functional: torch.nn.functional's names, signatures and semantics.

Each op is one fused Function with a hand-derived backward (in fused_*.py, derivation in its
docstring) and has a `*_naive` twin built from Tensor primitives: the test oracle and the
teaching version. This file checks arguments and shapes, then calls the Function.
"""
import math
import numbers
import warnings

import numpy as np

from ..device import array_module
from ..ops.errors import DeviceError, shapes_error
from ..functions import one_hot  # noqa: F401  (torch.nn.functional.one_hot)
from ..random import generator_for
from ..tensor import Tensor
from ..versions import bump
from .fused_activation import (GELU, Dropout, LogSoftmax, SiLU, Softmax, dropout_naive, gelu_naive,  # noqa: F401
                               log_softmax_naive, relu_naive, sigmoid_naive, silu_naive, softmax_naive,
                               tanh_naive)
from .fused_attention import (ScaledDotProductAttention, mask_as_bias, repeat_kv_heads,  # noqa: F401
                              scaled_dot_product_attention_naive)
from .fused_common import check_reduction, legacy_reduction, require_floating
from .fused_layers import (Embedding, GELULinear, Linear, embedding_naive, gelu_linear_naive,  # noqa: F401
                           linear_naive)
from .fused_loss import (CrossEntropy, MSELoss, NLLLoss, classes_last, cross_entropy_naive,  # noqa: F401
                         mse_loss_naive, nll_loss_naive)
from .fused_norm import BatchNorm, LayerNorm, batch_norm_naive, layer_norm_naive  # noqa: F401


def _same_place(op, *tensors):
    """Raise unless every tensor given (None skipped) is on the first one's device."""
    tensors = [t for t in tensors if t is not None]
    for t in tensors[1:]:
        if type(t._data) is not type(tensors[0]._data):
            raise DeviceError(f"{op}: expected all tensors on the same device, found {tensors[0].device} and {t.device}")


def _same_float_dtype(op, *tensors):
    tensors = [t for t in tensors if t is not None]
    require_floating(op, tensors[0]._data)
    for t in tensors[1:]:
        if t._data.dtype != tensors[0]._data.dtype:
            raise TypeError(f"{op}: expected tensors of one dtype, got {tensors[0].dtype} (shape "
                            f"{tuple(tensors[0].shape)}) and {t.dtype} (shape {tuple(t.shape)})")


# ---- activations -------------------------------------------------------------------------

def _softmax_dim(op, ndim):
    """torch's legacy choice when dim is None: 0 for 0-, 1- and 3-d input, else 1 (with a warning)."""
    warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the call to include dim=X "
                  "as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_input(op, input, dim, dtype):
    x = input.to(dtype) if dtype is not None else input
    require_floating(op, x._data)
    if dim is None:
        dim = _softmax_dim(op, x.ndim)
    if x.ndim == 0:
        return x.reshape(1), 0
    if not -x.ndim <= dim < x.ndim:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of [{-x.ndim}, {x.ndim - 1}], "
                         f"but got {dim})")
    return x, dim % x.ndim


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x_i) / sum_j exp(x_j) along dim (see fused_activation.Softmax)."""
    x, axis = _softmax_input("softmax", input, dim, dtype)
    out = Softmax.apply(x, axis)
    return out.reshape(()) if input.ndim == 0 else out


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) along dim, computed as x - logsumexp(x) (see fused_activation.LogSoftmax)."""
    x, axis = _softmax_input("log_softmax", input, dim, dtype)
    out = LogSoftmax.apply(x, axis)
    return out.reshape(()) if input.ndim == 0 else out


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    return softmax(-input, dim, dtype=dtype)


def tanh(input):
    return input.tanh()


def sigmoid(input):
    return input.sigmoid()


def _maybe_in_place(input, op, name, inplace):
    """op(input), or with torch's inplace=True written into input (by torch's in-place rules)."""
    return input._apply_in_place(name, op) if inplace else op(input)


def relu(input, inplace=False):
    return _maybe_in_place(input, Tensor.relu, "relu_", inplace)


def relu_(input):
    return relu(input, inplace=True)


def gelu(input, approximate="none"):
    """x Phi(x), or its tanh approximation (see fused_activation.GELU)."""
    _check_gelu_approximation(approximate)
    require_floating("gelu", input._data)
    return GELU.apply(input, approximate)


def _check_gelu_approximation(approximate):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(input, inplace=False):
    require_floating("silu", input._data)
    return _maybe_in_place(input, SiLU.apply, "silu_", inplace)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1/(1-p) (see fused_activation.Dropout)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    require_floating("dropout", input._data)
    return _maybe_in_place(input, lambda x: Dropout.apply(x, p, generator_for(x.device)), "dropout_", inplace)


# ---- losses --------------------------------------------------------------------------------

def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy of logits (N, C) or (N, C, d1, ...) against class indices (N,) or
    (N, d1, ...), with torch's weight, ignore_index, reduction and label_smoothing."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    _check_class_weight("cross_entropy", input, weight)
    x, t, out_shape = classes_last("cross_entropy", input, target)
    loss = CrossEntropy.apply(x, t._data, weight, ignore_index, reduction, float(label_smoothing))
    return loss.reshape(out_shape) if reduction == "none" else loss


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """-input[i, target_i] (input holds log-probabilities), with torch's weight and ignore_index."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("nll_loss", reduction)
    _check_class_weight("nll_loss", input, weight)
    x, t, out_shape = classes_last("nll_loss", input, target)
    loss = NLLLoss.apply(x, t._data, weight, ignore_index, reduction)
    return loss.reshape(out_shape) if reduction == "none" else loss


def _check_class_weight(op, input, weight):
    _same_place(op, input, weight)
    _same_float_dtype(op, input, weight)
    n_classes = input.shape[1] if input.ndim > 1 else input.shape[0]
    if weight is not None and tuple(weight.shape) != (n_classes,):
        raise shapes_error(op, input.shape, weight.shape, why=f"do not match (input, weight): weight must have "
                                                              f"shape ({n_classes},), one entry per class")


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """mean (or sum, or none) of (input - target)^2; target broadcasts against input (with a warning)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("mse_loss", reduction)
    _same_place("mse_loss", input, target, weight)
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"mse_loss: using a target size ({tuple(target.shape)}) that is different to the input size "
                      f"({tuple(input.shape)}); they will be broadcast.", stacklevel=2)
    _same_float_dtype("mse_loss", input, target)
    if weight is not None:
        if tuple(weight.shape) != tuple(input.shape):
            raise shapes_error("mse_loss", input.shape, weight.shape, why="do not match (input, weight)")
        return mse_loss_naive(input, target, reduction, weight)
    try:
        return MSELoss.apply(input, target, reduction)
    except ValueError:
        raise shapes_error("mse_loss", input.shape, target.shape, why="cannot be broadcast together") from None


# ---- normalization -------------------------------------------------------------------------

def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Standardize over the trailing `normalized_shape` dims, then * weight + bias (see fused_norm)."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
    k = len(normalized_shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != normalized_shape:
        raise shapes_error("layer_norm", input.shape, normalized_shape,
                           why="do not match (input, normalized_shape): the input must end with normalized_shape")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != normalized_shape:
            raise shapes_error("layer_norm", p.shape, normalized_shape, why=f"do not match ({name}, normalized_shape)")
    _same_place("layer_norm", input, weight, bias)
    _same_float_dtype("layer_norm", input, weight, bias)
    return LayerNorm.apply(input, weight, bias, math.prod(normalized_shape), float(eps))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Standardize each channel (dim 1) of (N, C) or (N, C, L, ...) input with batch statistics
    (training, updating running_mean/var in place) or the running ones (eval); see fused_norm."""
    if input.ndim < 2:
        raise shapes_error("batch_norm", input.shape, why="are invalid: expected (N, C) or (N, C, L, ...) input")
    n_channels = input.shape[1]
    for name, p in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != (n_channels,):
            raise shapes_error("batch_norm", input.shape, p.shape, why=f"do not match (input, {name}): expected "
                                                                       f"({n_channels},), one per channel")
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: pass both running_mean and running_var, or neither")
    if not training and running_mean is None:
        raise RuntimeError("batch_norm: running_mean must be defined in evaluation mode")
    if training and input.numel() // n_channels <= 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {tuple(input.shape)}")
    if training and running_mean is not None and not isinstance(momentum, numbers.Real):
        raise TypeError(f"batch_norm: momentum must be a number, got {momentum!r}")
    _same_place("batch_norm", input, running_mean, running_var, weight, bias)
    _same_float_dtype("batch_norm", input, weight, bias)
    return BatchNorm.apply(input, weight, bias, running_mean, running_var, bool(training),
                           None if momentum is None else float(momentum), float(eps))


# ---- layers ----------------------------------------------------------------------------------

def linear(input, weight, bias=None):
    """input @ weight^T + bias for input (..., in), weight (out, in), bias (out,)."""
    _check_linear("linear", input, weight, bias)
    return Linear.apply(input, weight, bias)


def gelu_linear(input, weight, bias=None, approximate="none"):
    """linear(gelu(input, approximate), weight, bias) as one op that keeps only `input` for the
    backward and recomputes the GELU there (tinytorch's own, no torch twin; see
    fused_layers.GELULinear): a transformer MLP's activation and output projection."""
    _check_gelu_approximation(approximate)
    _check_linear("gelu_linear", input, weight, bias)
    return GELULinear.apply(input, weight, bias, approximate)


def _check_linear(op, input, weight, bias):
    if weight.ndim != 2 or input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise shapes_error(op, input.shape, weight.shape, why="cannot be multiplied (input (..., in), weight (out, in))")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise shapes_error(op, weight.shape, bias.shape, why="do not match (weight (out, in), bias (out,))")
    _same_place(op, input, weight, bias)
    _same_float_dtype(op, input, weight, bias)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of weight (V, D) picked by integer input (any shape) -> input.shape + (D,)."""
    if sparse:
        raise RuntimeError("embedding: sparse gradients are not supported by tinytorch yet (use sparse=False)")
    idx = input._data if isinstance(input, Tensor) else array_module(weight._data).asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: expected integer indices, got dtype {idx.dtype}")
    if weight.ndim != 2:
        raise shapes_error("embedding", idx.shape, weight.shape, why="are invalid: weight must be (num_embeddings, dim)")
    n_rows = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n_rows):
        bad = int(idx.min()) if idx.min() < 0 else int(idx.max())
        raise IndexError(f"embedding: index {bad} is out of range for a weight of {n_rows} rows (shape {tuple(weight.shape)})")
    if padding_idx is not None:
        if not -n_rows <= padding_idx < n_rows:
            raise ValueError(f"embedding: padding_idx {padding_idx} must be within the {n_rows} rows of weight")
        padding_idx %= n_rows
    if max_norm is not None:
        _renorm_rows_(weight, idx, max_norm, norm_type)
    return Embedding.apply(weight, idx, padding_idx, bool(scale_grad_by_freq))


def _renorm_rows_(weight, idx, max_norm, norm_type):
    """torch's max_norm: rows looked up whose norm exceeds max_norm are scaled down, in place."""
    xp = array_module(weight._data)
    rows = xp.unique(idx.reshape(-1))
    picked = weight._data[rows]
    norms = (xp.abs(picked) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(picked.dtype)
    weight._data[rows] = picked * scale[:, None]
    bump(weight._data)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(q k^T * scale + mask) v for q (..., L, E), k (..., S, E), v (..., S, Ev) -> (..., L, Ev)."""
    op = "scaled_dot_product_attention"
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2 or query.shape[-1] != key.shape[-1] \
            or key.shape[-2] != value.shape[-2]:
        raise shapes_error(op, query.shape, key.shape, value.shape,
                           why="do not match (query (..., L, E), key (..., S, E), value (..., S, Ev))")
    if is_causal and attn_mask is not None:
        raise RuntimeError(f"{op}: explicit attn_mask should not be set when is_causal=True")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout_p must be between 0 and 1, got {dropout_p}")
    _same_place(op, query, key, value, attn_mask)
    _same_float_dtype(op, query, key, value)
    if attn_mask is not None:
        mask_shape = (query.shape[-2], key.shape[-2])
        try:
            np.broadcast_shapes(tuple(attn_mask.shape), tuple(query.shape[:-2]) + mask_shape)
        except ValueError:
            raise shapes_error(op, attn_mask.shape, query.shape[:-1] + (key.shape[-2],),
                               why="do not broadcast (attn_mask, attention scores (..., L, S))") from None
        if attn_mask.dtype.name != "bool":
            _same_float_dtype(op, query, attn_mask)
    if enable_gqa:
        key, value = repeat_kv_heads(query, key, value)
    scale = 1 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    generator = generator_for(query.device) if dropout_p > 0 else None
    bias = attn_mask
    if attn_mask is None or attn_mask.dtype.name == "bool":
        bias = mask_as_bias(None if attn_mask is None else attn_mask._data, is_causal, query.shape[-2], key.shape[-2],
                            query._data.dtype, array_module(query._data))
    every_query_sees_a_key = attn_mask is None  # (is_causal: query i sees key 0)
    try:
        return ScaledDotProductAttention.apply(query, key, value, bias, float(dropout_p), scale, bool(is_causal),
                                               generator, every_query_sees_a_key)
    except ValueError:
        raise shapes_error(op, query.shape, key.shape, value.shape,
                           why="have batch dimensions that cannot be broadcast together") from None


def _softmax_method(self, dim, dtype=None):
    """t.softmax(dim): softmax(t, dim)."""
    return softmax(self, dim, dtype=dtype)


def _log_softmax_method(self, dim, dtype=None):
    """t.log_softmax(dim): log_softmax(t, dim)."""
    return log_softmax(self, dim, dtype=dtype)


def install_tensor_methods(cls):
    """Put the Tensor methods this module owns onto the class (as chainer's install_variable_arithmetics)."""
    cls.softmax = _softmax_method
    cls.log_softmax = _log_softmax_method


install_tensor_methods(Tensor)


def __getattr__(name):
    raise AttributeError(f"tinytorch does not support 'torch.nn.functional.{name}' yet")
