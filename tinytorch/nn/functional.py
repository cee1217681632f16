"""tinytorch.nn.functional: torch.nn.functional's names, signatures and semantics.

Each op is one fused Function with a hand-derived backward (in fused_*.py, derivation in its
docstring) and has a `*_naive` twin built from Tensor primitives: the test oracle and the
teaching version. This file checks arguments and shapes, then calls the Function.
"""
import math
import numbers

import numpy as np

from .. import autocast_mode as autocast
from .. import caller_warnings
from .. import dtypes as _dt
from ..device import array_module
from ..ops.errors import DeviceError, shapes_error
from ..functions import one_hot  # noqa: F401  (torch.nn.functional.one_hot)
from ..random import generator_for
from ..tensor import Tensor
from ..versions import bump
from .fused_activation import (GELU, Dropout, LogSoftmax, SiLU, Softmax, dropout_naive, gelu_naive,  # noqa: F401
                               feature_dropout_naive, log_softmax_naive, relu_naive, sigmoid_naive, silu_naive,
                               softmax_naive, tanh_naive)
from .fused_attention import (ScaledDotProductAttention, mask_as_bias, repeat_kv_heads,  # noqa: F401
                              scaled_dot_product_attention_naive)
from .fused_common import REDUCTIONS, check_reduction, legacy_reduction, reduce_loss, require_floating, shape_tuple
from .fused_cross_entropy_probs import (CrossEntropyProbs, cross_entropy_probs_naive,  # noqa: F401
                                        holds_probabilities, probabilities_last)
from .fused_elementwise_loss import (BinaryCrossEntropy, BinaryCrossEntropyWithLogits, KLDiv,  # noqa: F401
                                     SmoothL1Loss, binary_cross_entropy_naive,
                                     binary_cross_entropy_with_logits_naive, huber_loss_naive, kl_div_naive,
                                     l1_loss_naive, smooth_l1_loss_naive)
from .fused_layers import (Embedding, GELULinear, Linear, embedding_naive, gelu_linear_naive,  # noqa: F401
                           linear_naive)
from .conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d  # noqa: F401
from .fused_conv import conv_naive, conv_transpose_naive  # noqa: F401
from .fused_pool import adaptive_avg_pool_naive, avg_pool_naive, max_pool_naive  # noqa: F401
from .pooling import (adaptive_avg_pool1d, adaptive_avg_pool2d, avg_pool1d, avg_pool2d, max_pool1d,  # noqa: F401
                      max_pool2d)
from .resample import interpolate, pad  # noqa: F401
from .fused_loss import (CrossEntropy, MSELoss, NLLLoss, classes_last, cross_entropy_naive,  # noqa: F401
                         mse_loss_naive, nll_loss_naive)
from .fused_norm import BatchNorm, LayerNorm, batch_norm_naive, layer_norm_naive  # noqa: F401
from .fused_group_norm import GroupNorm, group_norm_naive  # noqa: F401
from .fused_rms_norm import RMSNorm, rms_eps, rms_norm_naive  # noqa: F401


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
    caller_warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the call to include "
                         "dim=X as an argument.")
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
    _check_dropout_probability(p)
    if not training or p == 0.0:
        return input
    require_floating("dropout", input._data)
    return _maybe_in_place(input, lambda x: Dropout.apply(x, p, generator_for(x.device)), "dropout_", inplace)


def _check_dropout_probability(p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or unbatched (C, L) input with probability p, scaling the
    rest by 1/(1-p): torch's mask after the same seed (fused_activation.Dropout, channel_axes)."""
    _check_dropout_probability(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
                           "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a "
                           "channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _feature_dropout(input, p, training, inplace, input.ndim - 1)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """dropout1d's channel dropout for (N, C, H, W) input. As in torch 2.13, a 3D input is taken as
    (N, C, L), not as unbatched (C, H, W), and other dims are deprecated: each warns."""
    _check_dropout_probability(p)
    if input.ndim not in (3, 4):
        caller_warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and will "
                             "result in an error in a future release. To retain the behavior and silence this "
                             "warning, please use dropout instead. Note that dropout2d exists to provide "
                             "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, and an "
                             "optional batch dimension (i.e. 3D or 4D inputs).")
    if input.ndim == 3:
        caller_warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                             "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel "
                             "dim. This behavior will change in a future release to interpret the input as one "
                             "without a batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise "
                             "dropout behavior, please switch to using dropout1d instead.")
    return _feature_dropout(input, p, training, inplace, 2)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """dropout1d's channel dropout for (N, C, D, H, W) input; any other dims are taken as unbatched (and warn)."""
    _check_dropout_probability(p)
    if input.ndim not in (4, 5):
        caller_warnings.warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and will "
                             "result in an error in a future release. To retain the behavior and silence this "
                             "warning, please use dropout instead. Note that dropout3d exists to provide "
                             "channel-wise dropout on inputs with 3 spatial dimensions, a channel dimension, and an "
                             "optional batch dimension (i.e. 4D or 5D inputs).")
    return _feature_dropout(input, p, training, inplace, 2 if input.ndim == 5 else 1)


def _feature_dropout(input, p, training, inplace, channel_axes):
    """Dropout of whole entries of the first `channel_axes` axes (torch's feature_dropout)."""
    if not training or p == 0.0 or input.numel() == 0:
        return input
    if p < 1 and input.ndim < channel_axes:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    require_floating("feature_dropout", input._data)
    return _maybe_in_place(input, lambda x: Dropout.apply(x, p, generator_for(x.device), channel_axes),
                           "feature_dropout_", inplace)


# ---- losses --------------------------------------------------------------------------------

@autocast.policy("cross_entropy")
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy of logits (N, C) or (N, C, d1, ...) against class indices (N,) or
    (N, d1, ...), or against class probabilities of the input's shape (a floating target), with
    torch's weight, ignore_index (indices only), reduction and label_smoothing."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    _check_class_weight("cross_entropy", input, weight)
    if holds_probabilities(input, target):
        return _cross_entropy_probs(input, target, weight, ignore_index, reduction, float(label_smoothing))
    x, t, out_shape = classes_last("cross_entropy", input, target)
    loss = CrossEntropy.apply(x, t._data, weight, ignore_index, reduction, float(label_smoothing))
    return loss.reshape(out_shape) if reduction == "none" else loss


def _cross_entropy_probs(input, target, weight, ignore_index, reduction, label_smoothing):
    if ignore_index != -100:
        raise ValueError(f"cross_entropy: ignore_index ({ignore_index}) is not supported for class-probability "
                         "(floating point) targets")
    _same_place("cross_entropy", input, target)
    _same_float_dtype("cross_entropy", input, target)
    x, t, out_shape = probabilities_last("cross_entropy", input, target)
    loss = CrossEntropyProbs.apply(x, t, weight, reduction, label_smoothing)
    return loss.reshape(out_shape) if reduction == "none" else loss


@autocast.policy("nll_loss")
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


@autocast.policy("mse_loss")
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """mean (or sum, or none) of (input - target)^2; target broadcasts against input (with a warning)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction("mse_loss", reduction)
    _same_place("mse_loss", input, target, weight)
    _warn_if_broadcast(input, target)
    _same_float_dtype("mse_loss", input, target)
    if weight is not None:
        if tuple(weight.shape) != tuple(input.shape):
            raise shapes_error("mse_loss", input.shape, weight.shape, why="do not match (input, weight)")
        return mse_loss_naive(input, target, reduction, weight)
    try:
        return MSELoss.apply(input, target, reduction)
    except ValueError:
        raise shapes_error("mse_loss", input.shape, target.shape, why="cannot be broadcast together") from None


def _warn_if_broadcast(input, target):
    """torch's warning when a regression target's shape differs from the input's (they broadcast)."""
    if tuple(target.shape) != tuple(input.shape):
        caller_warnings.warn(f"Using a target size ({target.size()}) that is different to the input size "
                             f"({input.size()}). This will likely lead to incorrect results due to broadcasting. "
                             "Please ensure they have the same size.")


def _broadcast_shape(op, *tensors):
    try:
        return np.broadcast_shapes(*(tuple(t.shape) for t in tensors))
    except ValueError:
        raise shapes_error(op, *(t.shape for t in tensors), why="cannot be broadcast together") from None


def _same_shape_target(op, input, target, message):
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"{op}: " + message.format(target=tuple(target.shape), input=tuple(input.shape)))


def _per_element_weight(op, input, weight, name="weight"):
    """A weight that broadcasts to the input's shape (without growing it), in the input's dtype; None passes."""
    if weight is None:
        return None
    _same_place(op, input, weight)
    if _broadcast_shape(op, input, weight) != tuple(input.shape):
        raise shapes_error(op, input.shape, weight.shape, why=f"do not match (input, {name}): {name} must "
                                                              "broadcast to the input's shape")
    return weight.to(input.dtype)


@autocast.policy("binary_cross_entropy")
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-weight (target log(input) + (1 - target) log(1 - input)) for probabilities input and
    target of one shape, the logs clamped at -100 as torch clamps them; weight broadcasts."""
    op = "binary_cross_entropy"
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(op, reduction)
    _same_shape_target(op, input, target, "Using a target size {target} that is different to the input size "
                                          "{input} is deprecated. Please ensure they have the same size.")
    _same_place(op, input, target)
    _same_float_dtype(op, input, target)
    return BinaryCrossEntropy.apply(input, target, _per_element_weight(op, input, weight), reduction)


@autocast.policy("binary_cross_entropy_with_logits")
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """binary_cross_entropy(sigmoid(input), target) in the numerically stable form, with
    pos_weight (e.g. one entry per class, broadcast along the last dim) weighting the positive term."""
    op = "binary_cross_entropy_with_logits"
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(op, reduction)
    _same_shape_target(op, input, target, "Target size {target} must be the same as input size {input}")
    _same_place(op, input, target)
    _same_float_dtype(op, input, target)
    return BinaryCrossEntropyWithLogits.apply(input, target, _per_element_weight(op, input, weight),
                                              _per_element_weight(op, input, pos_weight, "pos_weight"), reduction)


@autocast.policy("l1_loss")
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """mean (or sum, or none) of |input - target|; with a weight, a 'mean' divides by its sum."""
    return _smooth_l1("l1_loss", input, target, legacy_reduction(size_average, reduce, reduction), 0.0, 1.0, weight,
                      mean_over_weight=True)


@autocast.policy("smooth_l1_loss")
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta, for d = input - target (see fused_elementwise_loss)."""
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    return _smooth_l1("smooth_l1_loss", input, target, legacy_reduction(size_average, reduce, reduction), beta, 1.0)


@autocast.policy("huber_loss")
def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta): delta * smooth_l1_loss(beta=delta)."""
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    return _smooth_l1("huber_loss", input, target, reduction, delta, delta, weight)


def _smooth_l1(op, input, target, reduction, beta, scale, weight=None, mean_over_weight=False):
    """The smooth-L1 family on one Function; a weight (of the input's shape) multiplies the
    per-element losses, whose 'mean' divides by the weights' sum or by the element count."""
    check_reduction(op, reduction)
    _warn_if_broadcast(input, target)
    _same_place(op, input, target, weight)
    _same_float_dtype(op, input, target)
    _broadcast_shape(op, input, target)
    if weight is None:
        return SmoothL1Loss.apply(input, target, float(beta), float(scale), reduction)
    if tuple(weight.shape) != tuple(input.shape):
        raise shapes_error(op, input.shape, weight.shape, why="do not match (input, weight)")
    loss = SmoothL1Loss.apply(input, target, float(beta), float(scale), "none") * weight
    return reduce_loss(loss, reduction, weight.sum() if mean_over_weight else loss.numel())


@autocast.policy("kl_div")
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """target (log target - input) pointwise (input holds log-probabilities; with log_target,
    so does target). 'batchmean' divides the sum by the batch size, the KL divergence's value;
    'mean' divides by the element count, with torch's warning."""
    op = "kl_div"
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        caller_warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support "
                             "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
                             "definition.'mean' will be changed to behave the same as 'batchmean' in the next major "
                             "release.")
    check_reduction(op, reduction, REDUCTIONS + ("batchmean",))
    _same_place(op, input, target)
    _same_float_dtype(op, input, target)
    shape = _broadcast_shape(op, input, target)
    if reduction == "batchmean":
        reduction, denominator = "mean", (input.shape[0] if input.ndim else 1)
    else:
        denominator = math.prod(shape)
    return KLDiv.apply(input, target, bool(log_target), reduction, denominator)


COSINE_EPS = 1e-12  # added to each squared norm, as torch adds it


@autocast.policy("cosine_embedding_loss")
def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """With cos = <x1, x2> / sqrt((|x1|^2 + eps) (|x2|^2 + eps)) along the last dim: 1 - cos
    where target = 1, max(0, cos - margin) where target = -1 (0 elsewhere). (N, D) inputs take
    an (N,) target; (D,) inputs a 0-d one."""
    op = "cosine_embedding_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(op, reduction)
    _same_place(op, input1, input2, target)
    if target.ndim > 1:
        raise shapes_error(op, input1.shape, input2.shape, target.shape,
                           why="are invalid: expected a 0-d or 1-d target (multi-target is not supported)")
    if not input1.ndim == input2.ndim == target.ndim + 1:
        raise shapes_error(op, input1.shape, input2.shape, target.shape,
                           why=f"are invalid: a {target.ndim}-d target expects {target.ndim + 1}-d inputs")
    _same_float_dtype(op, input1, input2)
    _broadcast_shape(op, input1, input2)
    _broadcast_shape(op, input1[..., 0], target)
    squares = ((input1 * input1).sum(-1) + COSINE_EPS) * ((input2 * input2).sum(-1) + COSINE_EPS)
    cos = (input1 * input2).sum(-1) / squares.sqrt()
    loss = (1 - cos).where(target == 1, 0.0) + (cos - margin).clamp(min=0).where(target == -1, 0.0)
    return reduce_loss(loss, reduction, loss.numel())


@autocast.policy("margin_ranking_loss")
def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -target (input1 - input2) + margin): target 1 asks input1 to rank above input2 by margin."""
    op = "margin_ranking_loss"
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(op, reduction)
    _same_place(op, input1, input2, target)
    if not input1.ndim == input2.ndim == target.ndim:
        raise shapes_error(op, input1.shape, input2.shape, target.shape,
                           why="are invalid: input1, input2 and target should have the same number of dimensions")
    _same_float_dtype(op, input1, input2)
    _broadcast_shape(op, input1, input2, target)
    loss = (-target * (input1 - input2) + margin).clamp(min=0)
    return reduce_loss(loss, reduction, loss.numel())


# ---- normalization -------------------------------------------------------------------------

def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Standardize over the trailing `normalized_shape` dims, then * weight + bias (see fused_norm).
    As torch's CPU kernel, a float16 or bfloat16 input with float32 parameters (a float32 LayerNorm
    under autocast) is normalized in float32 and returned in its own dtype."""
    if input.dtype.itemsize == 2 and any(p is not None and p.dtype is _dt.float32 for p in (weight, bias)):
        return layer_norm(input.float(), normalized_shape, weight, bias, eps).to(input.dtype)
    normalized_shape = _normalized_shape("layer_norm", input, normalized_shape, weight=weight, bias=bias)
    return LayerNorm.apply(input, weight, bias, math.prod(normalized_shape), float(eps))


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) * weight over the trailing `normalized_shape` dims; eps=None means
    torch.finfo(input.dtype).eps (see fused_rms_norm)."""
    normalized_shape = _normalized_shape("rms_norm", input, normalized_shape, weight=weight)
    return RMSNorm.apply(input, weight, math.prod(normalized_shape), rms_eps(input._data.dtype, eps))


def _normalized_shape(op, input, normalized_shape, **params):
    """normalized_shape as a tuple, after checking that input ends with it and that each of
    `params` (None or a tensor) has it, and that all are on one device with one float dtype."""
    normalized_shape = shape_tuple(normalized_shape)
    k = len(normalized_shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != normalized_shape:
        raise shapes_error(op, input.shape, normalized_shape,
                           why="do not match (input, normalized_shape): the input must end with normalized_shape")
    for name, p in params.items():
        if p is not None and tuple(p.shape) != normalized_shape:
            raise shapes_error(op, p.shape, normalized_shape, why=f"do not match ({name}, normalized_shape)")
    _same_place(op, input, *params.values())
    _same_float_dtype(op, input, *params.values())
    return normalized_shape


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Standardize each channel (dim 1) of (N, C) or (N, C, L, ...) input with batch statistics
    (training, updating running_mean/var in place) or the running ones (eval); see fused_norm."""
    _check_per_channel("batch_norm", input, running_mean=running_mean, running_var=running_var, weight=weight,
                       bias=bias)
    n_channels = input.shape[1]
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


def _check_per_channel(op, input, **params):
    """Raise unless input is (N, C, *) and each of `params` (None or a tensor) has shape (C,)."""
    if input.ndim < 2:
        raise shapes_error(op, input.shape, why="are invalid: expected (N, C) or (N, C, L, ...) input")
    n_channels = input.shape[1]
    for name, p in params.items():
        if p is not None and tuple(p.shape) != (n_channels,):
            raise shapes_error(op, input.shape, p.shape, why=f"do not match (input, {name}): expected "
                                                             f"({n_channels},), one per channel")


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Standardize each sample's channels in `num_groups` groups of C / num_groups (over a group's
    channels and positions), then * weight + bias per channel (see fused_group_norm)."""
    if input.ndim < 2:
        raise RuntimeError(f"group_norm: Expected at least 2 dimensions for input tensor but received {input.ndim}")
    _check_per_channel("group_norm", input, weight=weight, bias=bias)
    n, n_channels = input.shape[:2]
    if num_groups <= 0 or n_channels % num_groups:
        raise shapes_error("group_norm", input.shape, why=f"do not fit num_groups={num_groups}: the number of "
                                                          f"channels must be divisible by num_groups")
    if input.numel() == num_groups:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                         f"{[n * n_channels // num_groups, num_groups] + list(input.shape[2:])}")
    _same_place("group_norm", input, weight, bias)
    _same_float_dtype("group_norm", input, weight, bias)
    return GroupNorm.apply(input, weight, bias, int(num_groups), float(eps))


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Standardize each channel of each sample of (N, C, *) input on its own, then * weight + bias.

    As torch does it: batch_norm over the (1, N * C, *) view, with weight, bias and the running
    statistics repeated per sample; the running statistics, when given, then take the mean over
    the samples of their updates. use_input_stats=False is batch_norm in eval mode.
    """
    if use_input_stats and math.prod(input.shape[2:]) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {input.shape}")
    _check_per_channel("instance_norm", input, running_mean=running_mean, running_var=running_var, weight=weight,
                       bias=bias)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
    return _per_instance(batch_norm, input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def instance_norm_naive(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                        momentum=0.1, eps=1e-5):
    """instance_norm through batch_norm's naive twin."""
    return _per_instance(batch_norm_naive, input, running_mean, running_var, weight, bias, use_input_stats,
                         momentum, eps)


def _per_instance(norm, input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps):
    """instance_norm by `norm`, a batch_norm, as its docstring says."""
    if not use_input_stats:
        return norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    n, n_channels = input.shape[:2]
    per_sample = [None if t is None else t.repeat(n) for t in (running_mean, running_var, weight, bias)]
    y = norm(input.reshape((1, n * n_channels) + tuple(input.shape[2:])), *per_sample, True, momentum, eps)
    for running, updated in zip((running_mean, running_var), per_sample):
        if running is not None:
            running.copy_(updated.reshape(n, n_channels).mean(0))
    return y.reshape(input.shape)


# ---- layers ----------------------------------------------------------------------------------

@autocast.policy("linear")
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


@autocast.policy("scaled_dot_product_attention")
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
