"""Weight initialisation, in place and without recording a graph (torch.nn.init).

Every function fills `tensor` and returns it. The random ones accept `generator=` (a
`tinytorch.Generator`); without one they draw from the default generator of the tensor's device.
They draw as torch's do (tensor.uniform_ / tensor.normal_ with torch's bounds, computed in torch's
order), so after the same manual_seed they give torch's weights.

Variance-preserving schemes pick a standard deviation from the fans of a weight of shape
(out, in, *kernel): fan_in = in * prod(kernel), fan_out = out * prod(kernel).
  xavier (Glorot):  std = gain * sqrt(2 / (fan_in + fan_out))
  kaiming (He):     std = gain / sqrt(fan)
A uniform U(-b, b) has std b / sqrt(3), so the uniform variants use b = sqrt(3) * std.
"""
import math

from .. import caller_warnings
from ..autograd import no_grad
from ..tensor import Tensor
from ..tensor_math import where

_UNIT_GAIN = {"linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid"}


def calculate_gain(nonlinearity, param=None):
    """The gain that keeps activations' variance steady through `nonlinearity`:
    1 (linear, sigmoid), 5/3 (tanh), sqrt(2) (relu), sqrt(2 / (1 + slope^2)) (leaky_relu), 3/4 (selu)."""
    if nonlinearity in _UNIT_GAIN:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param} is not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _check_tensor(tensor):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init: expected a Tensor, got {type(tensor).__name__}")


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with U(a, b): tensor.uniform_(a, b), without recording a graph."""
    _check_tensor(tensor)
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with N(mean, std^2): tensor.normal_(mean, std), without recording a graph."""
    _check_tensor(tensor)
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def _normal_cdf(x):
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std^2) conditioned on [a, b] (absolute bounds), by torch's two exact
    rejection samplers:

    - [a, b] holds more than 0.3 of the mass: draw normals; while some fall outside [a, b]
      (bounds rounded to the tensor's dtype), draw a whole new tensor of normals and take its
      values at those places.
    - otherwise: propose x ~ U(a, b) and accept it when log U(0, 1) <= -((x - mean) / std)^2 / 2
      minus the same at the point of [a, b] nearest the mean; redraw a whole tensor of proposals
      and of uniforms for the places still pending, until none is.
    """
    _check_tensor(tensor)
    if mean < a - 2 * std or mean > b + 2 * std:
        caller_warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                             "The distribution of values may be incorrect.")
    with no_grad():
        if _normal_cdf((b - mean) / std) - _normal_cdf((a - mean) / std) > 0.3:
            lo, hi = tensor.new_tensor(a).item(), tensor.new_tensor(b).item()
            result = tensor.normal_(mean, std, generator=generator)
            while bool((outside := (result < lo) | (result > hi)).any()):
                result = where(outside, result.new_empty(result.shape).normal_(mean, std, generator=generator), result)
            return tensor.copy_(result) if result is not tensor else tensor
        log_peak = -0.5 * ((max(a, min(mean, b)) - mean) / std) ** 2

        def log_density(x):
            return x.sub(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)

        def rejected(x):
            return x.new_empty(x.shape).uniform_(generator=generator).log_().gt(log_density(x))

        result = tensor.uniform_(a, b, generator=generator)
        pending = rejected(result)
        while bool(pending.any()):
            candidates = result.new_empty(result.shape).uniform_(a, b, generator=generator)
            result = where(pending, candidates, result)
            pending = where(pending, rejected(candidates), pending)
        return tensor.copy_(result) if result is not tensor else tensor


def constant_(tensor, val):
    with no_grad():
        return tensor.fill_(val)


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def _fans(tensor):
    if tensor.dim() < 2:
        raise ValueError(f"nn.init: fan in and fan out can not be computed for a tensor with fewer than 2 "
                         f"dimensions (shape {tuple(tensor.shape)})")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"nn.init: mode {mode!r} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _fans(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _is_empty(tensor):
    if tensor.numel() == 0:
        caller_warnings.warn("nn.init: initializing zero-element tensors is a no-op")
        return True
    return False


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He init, uniform: U(-b, b) with b = sqrt(3) * std, std = gain(nonlinearity, a) / sqrt(fan)
    (in that order, as torch rounds it)."""
    if _is_empty(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator=generator)


def _default_init_(weight, bias):
    """torch's default init of Linear and the convolutions (their reset_parameters): the weight by
    kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), then the bias, unless it
    is None, from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (U(0, 0) where fan_in is 0), fan_in being the
    weight's."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in = _fans(weight)[0]
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He init, normal: N(0, std^2) with std = gain(nonlinearity, a) / sqrt(fan)."""
    if _is_empty(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator=generator)


def _xavier_std(tensor, gain):
    fan_in, fan_out = _fans(tensor)
    return gain * math.sqrt(2.0 / float(fan_in + fan_out))


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot init, uniform: U(-b, b) with b = sqrt(3) * gain * sqrt(2 / (fan_in + fan_out))."""
    bound = math.sqrt(3.0) * _xavier_std(tensor, gain)
    return uniform_(tensor, -bound, bound, generator=generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot init, normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    return normal_(tensor, 0.0, _xavier_std(tensor, gain), generator=generator)
