"""The torch-namespace functions: `tinytorch.exp(x)`, `tinytorch.cat(xs, dim)`, ...

Most are a tensor method called as a function (`tinytorch.sum(x, 1)` is `x.sum(1)`); the rest
take several tensors (cat, stack) and live here.
"""
import builtins

import numpy as np

from . import dtypes as _dt
from .ops import movement as M
from .ops.errors import devices_error, shapes_error
from .ops.sampling import one_hot_array
from .tensor import Tensor
from .tensor_arithmetic import matmul  # noqa: F401  (torch.matmul)
from .tensor_helpers import _cast, _one_axis
from .tensor_math import where  # noqa: F401  (torch.where)

_METHODS = (
    "add sub subtract mul multiply div divide true_divide neg negative exp log log2 log10 log1p sqrt "
    "rsqrt abs absolute sin cos tanh sigmoid relu square sign floor ceil round isnan isinf isfinite "
    "logical_not logical_and logical_or clamp clip maximum minimum masked_fill eq ne lt le gt ge "
    "greater less greater_equal less_equal not_equal sum mean var std max min amax amin argmax argmin "
    "logsumexp cumsum prod all any count_nonzero nonzero norm clamp_min clamp_max reshape transpose swapaxes swapdims t permute "
    "squeeze unsqueeze flatten unflatten split chunk unbind roll flip tril triu gather index_select "
    "topk sort argsort multinomial dot mm bmm clone detach numel softmax log_softmax broadcast_to "
    "histc histogram bincount"
).split()


def _as_function(name):
    def fn(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"tinytorch.{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
        return getattr(input, name)(*args, **kwargs)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"tinytorch.{name}(input, ...) is input.{name}(...)."
    return fn


for _name in _METHODS:
    globals()[_name] = _as_function(_name)

__all__ = [*_METHODS, "matmul", "where", "pow", "one_hot", "cat", "concat", "concatenate", "stack", "hstack", "vstack",
           "is_tensor", "allclose", "equal", "is_floating_point"]


def pow(input, exponent):
    """input ** exponent, where either may be a Python number (torch.pow(2, t) works)."""
    return input ** exponent


def one_hot(tensor, num_classes=-1):
    """int64 one-hot encoding with a new last axis of size num_classes (max + 1 when -1)."""
    return tensor._wrap(one_hot_array(tensor._data, num_classes))


def _same_device_and_dtype(tensors, op):
    tensors = list(tensors)
    if not tensors:  # torch raises ValueError for cat, RuntimeError for stack
        raise (ValueError if op == "cat" else RuntimeError)(f"{op}(): expected a non-empty list of Tensors")
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): expected a sequence of Tensors, got {type(t).__name__}")
        if type(t._data) is not type(tensors[0]._data):
            raise devices_error(op, tensors[0].device, t.device)
    dt = _dt.promote(*[t._data.dtype for t in tensors])
    return [_cast(t, dt) for t in tensors]


def cat(tensors, dim=0):
    """Concatenate along an existing dim; all other dims must agree."""
    tensors = _same_device_and_dtype(tensors, "cat")
    ref = tensors[0]
    axis = _one_axis(dim, ref.ndim, "cat")
    for t in tensors[1:]:
        if t.ndim != ref.ndim or builtins.any(a != b for i, (a, b) in enumerate(zip(t.shape, ref.shape)) if i != axis):
            raise shapes_error("cat", ref.shape, t.shape, why=f"must match except in dimension {dim}")
    return M.Cat.apply(axis, *tensors)


concat = concatenate = cat


def stack(tensors, dim=0):
    """Stack equally shaped tensors along a new dim."""
    tensors = _same_device_and_dtype(tensors, "stack")
    ref = tensors[0]
    for t in tensors[1:]:
        if t.shape != ref.shape:
            raise shapes_error("stack", ref.shape, t.shape, why="must be equal")
    axis = _one_axis(dim, ref.ndim + 1, "stack")
    return M.Stack.apply(axis, *tensors)


def hstack(tensors):
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    return cat([t if t.ndim > 1 else t.unsqueeze(0) for t in tensors], 0)


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(input):
    return input.numel()


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return builtins.bool(np.allclose(input.numpy(force=True), other.numpy(force=True), rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input, other):
    return input.shape == other.shape and builtins.bool((input == other).all())


def is_floating_point(input):
    return input.is_floating_point()
