"""The torch-namespace functions: `tinytorch.exp(x)`, `tinytorch.cat(xs, dim)`, ...

Most are a tensor method called as a function (`tinytorch.sum(x, 1)` is `x.sum(1)`); the rest
take several tensors (cat, stack) and live here.
"""
import builtins

import numpy as np

from . import autocast_mode as autocast
from . import dtypes as _dt
from .ops import distance as D, einsum as ES, movement as M
from .ops.errors import devices_error, shapes_error
from .ops.sampling import one_hot_array
from .tensor import Size, Tensor
from .tensor_arithmetic import matmul  # noqa: F401  (torch.matmul)
from .tensor_helpers import _cast, _normalize_axis, _one_axis, _same_device
from .tensor_math import where  # noqa: F401  (torch.where)

_METHODS = (
    "add sub subtract mul multiply div divide true_divide neg negative exp log log2 log10 log1p sqrt "
    "rsqrt abs absolute sin cos tanh sigmoid relu square sign floor ceil round isnan isinf isfinite "
    "logical_not logical_and logical_or clamp clip maximum minimum masked_fill eq ne lt le gt ge "
    "greater less greater_equal less_equal not_equal sum mean var std max min amax amin argmax argmin "
    "logsumexp cumsum prod all any count_nonzero nonzero norm clamp_min clamp_max reshape transpose swapaxes swapdims t permute "
    "squeeze unsqueeze flatten unflatten split chunk unbind roll flip tril triu gather index_select "
    "topk sort argsort multinomial dot mm bmm clone detach numel softmax log_softmax broadcast_to "
    "histc histogram bincount "
    "addmm baddbmm outer ger kron lerp diff narrow cumprod cummax cummin diagonal scatter scatter_add scatter_reduce "
    "index_add"
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
           "is_tensor", "allclose", "equal", "is_floating_point", "einsum", "tensordot", "cdist", "broadcast_tensors",
           "broadcast_shapes"]


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
    dtypes = {t._data.dtype for t in tensors}
    if len(dtypes) == 1:
        return tensors
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
    shape = ref._data.shape
    for t in tensors:
        if t._data.shape != shape:
            raise shapes_error("stack", ref.shape, t.shape, why="must be equal")
    axis = _one_axis(dim, ref.ndim + 1, "stack")
    return M.Stack.apply(axis, *tensors)


def hstack(tensors):
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    return cat([t if t.ndim > 1 else t.unsqueeze(0) for t in tensors], 0)


def broadcast_shapes(*shapes):
    """The shape that tensors of these shapes broadcast to."""
    try:
        return Size(np.broadcast_shapes(*(tuple(s) if isinstance(s, (tuple, list)) else (s,) for s in shapes)))
    except ValueError:
        raise shapes_error("broadcast_shapes", *shapes, why="cannot be broadcast together") from None


def broadcast_tensors(*tensors):
    """The tensors expanded (as views, no copy) to their common broadcast shape."""
    shape = broadcast_shapes(*(t.shape for t in tensors))
    return tuple(t.expand(shape) for t in tensors)


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


# ---- contractions and distances --------------------------------------------------------------
def einsum(*args):
    """Einstein summation: einsum("ij,jk->ik", a, b), einsum("ij,jk", [a, b]), or the sublist
    form einsum(a, [0, 1], b, [1, 2], [0, 2]); ellipses and broadcasting as torch's (ops/einsum.py)."""
    if not args:
        raise TypeError("einsum(): must specify the equation string and at least one operand")
    if isinstance(args[0], str):
        equation, operands = args[0], args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
    else:
        equation, operands = _sublist_equation(args)
    if not operands or not builtins.all(isinstance(t, Tensor) for t in operands):
        raise TypeError("einsum(): expected Tensor operands after the equation")
    _same_device("einsum", *operands)
    for t in operands[1:]:
        if t._data.dtype != operands[0]._data.dtype:
            raise RuntimeError(f"einsum(): expected all operands to have one dtype, got {operands[0].dtype} and "
                               f"{t.dtype}")
    inputs, output = ES.parse(equation, [t._data.shape for t in operands])
    return ES.Einsum.apply(inputs, output, *operands)


def _sublist_equation(args):
    """(equation, operands) of einsum's sublist form: integers 0-25 are A-Z, 26-51 are a-z."""
    def labels(sublist):
        return "".join("..." if s is Ellipsis else chr(ord("A") + s) if s < 26 else chr(ord("a") + s - 26)
                       for s in sublist)
    pairs = args[:len(args) - len(args) % 2]
    equation = ",".join(labels(s) for s in pairs[1::2])
    if len(args) % 2:
        equation += "->" + labels(args[-1])
    return equation, tuple(pairs[0::2])


def tensordot(a, b, dims=2, out=None):
    """Sum a's dims `dims[0]` against b's `dims[1]` (an int n: a's last n against b's first n),
    as torch computes it: both permuted and flattened to matrices, one matmul, reshaped."""
    if out is not None:
        raise TypeError("tensordot(): the out= argument is not supported by tinytorch")
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, builtins.int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        dims_a, dims_b = tuple(range(a.ndim - dims, a.ndim)), tuple(range(dims))
    else:
        dims_a, dims_b = ((d,) if isinstance(d, builtins.int) else tuple(d) for d in dims)
    dims_a, dims_b = _normalize_axis(dims_a, a.ndim, "tensordot"), _normalize_axis(dims_b, b.ndim, "tensordot")
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[da]} in dim {da} "
                               f"and second has size {b.shape[db]} in dim {db}")
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    size = builtins.int(np.prod([a.shape[d] for d in dims_a], dtype=np.int64))
    left = a.permute(*free_a, *dims_a).reshape(-1, size)
    right = b.permute(*dims_b, *free_b).reshape(size, -1)
    return (left @ right).reshape(*[a.shape[d] for d in free_a], *[b.shape[d] for d in free_b])


_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")


@autocast.policy("cdist")
def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """||x1_i - x2_j||_p for x1 (..., P, M), x2 (..., R, M) -> (..., P, R) (ops/distance.py);
    for p = 2 through one matmul when compute_mode asks, by default beyond 25 rows (as torch)."""
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D, X2 got: {x2.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if not x1.is_floating_point() or x1.dtype != x2.dtype:
        raise RuntimeError(f"cdist only supports floating-point dtypes, and one dtype for both: got {x1.dtype} and "
                           f"{x2.dtype}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    _same_device("cdist", x1, x2)
    by_matmul = p == 2 and (compute_mode == _CDIST_MODES[1]
                            or compute_mode == _CDIST_MODES[0] and (x1.shape[-2] > 25 or x2.shape[-2] > 25))
    try:
        return D.Cdist.apply(x1, x2, builtins.float(p), by_matmul)
    except ValueError:
        raise shapes_error("cdist", x1.shape, x2.shape, why="have batch dimensions that cannot be broadcast") from None
