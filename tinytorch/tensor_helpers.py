"""Helpers shared by `Tensor` and its mixins: dim and shape arguments (and NumPy's names for them),
operands converted with torch's type promotion, device checks, index keys, the torch-like repr, and
the named (values, indices) pairs that max, min, topk and sort return."""
import builtins
import collections
import functools
import numbers
import operator

import numpy as np

from . import dtypes as _dt
from .autograd import TensorBase
from .device import array_module
from .namespace import package_name
from .ops import elementwise as E
from .ops.errors import devices_error, shapes_error

_SCALARS = (builtins.int, builtins.float, builtins.bool, np.number, np.bool_)


def _normalize_axis(dim, ndim, op="dim", unique=True):
    """dim (int, tuple, list or None) -> None or a tuple of non-negative axes, checked.

    A 0-d tensor accepts dim 0 or -1 (as torch does) and has no axis to reduce: ()."""
    if dim is None:
        return None
    if type(dim) is int and -ndim <= dim < ndim:  # the common case, without the checks below
        return (dim % ndim,)
    dims = (dim,) if isinstance(dim, numbers.Integral) else tuple(dim)
    out = []
    low, high = (-ndim, ndim - 1) if ndim else (-1, 0)
    for d in dims:
        if not low <= d <= high:
            raise IndexError(f"{op}: Dimension out of range (expected to be in range of [{low}, {high}], but got {d})")
        if ndim:
            if unique and d % ndim in out:
                raise RuntimeError(f"{op}: dim {d % ndim} appears multiple times in the list of dims")
            out.append(d % ndim)
    return tuple(out)


def _one_axis(dim, ndim, op="dim"):
    """One dim as a non-negative axis; IndexError (like torch) when out of range."""
    if type(dim) is int and -ndim <= dim < ndim:
        return dim % ndim
    if not isinstance(dim, numbers.Integral):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    if not ndim:
        raise IndexError(f"{op}: Dimension specified as {dim} but tensor has no dimensions")
    return _normalize_axis(dim, ndim, op)[0]


def _shape_args(args, op):
    """Accept f(2, 3), f((2, 3)), f([2, 3]) and f(Size) like torch; returns a tuple of ints."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    try:
        return tuple(operator.index(a) for a in args)
    except TypeError:
        raise TypeError(f"{op}(): argument 'size' must be a tuple of ints, got {args!r}") from None


def numpy_argument_names(method):
    """Accept NumPy's argument names as torch does: axis= for dim=, keepdims= for keepdim=."""
    @functools.wraps(method)
    def accepting(self, *args, **kwargs):
        if kwargs:
            if "axis" in kwargs:
                kwargs["dim"] = kwargs.pop("axis")
            if "keepdims" in kwargs:
                kwargs["keepdim"] = kwargs.pop("keepdims")
        return method(self, *args, **kwargs)
    return accepting


# ---- helpers ------------------------------------------------------------------------------
def _item(v):
    return v.item() if isinstance(v, TensorBase) else v


def _same_device(op, *tensors):
    """Raise a DeviceError naming both devices unless all tensors' arrays live on one device."""
    kind = type(tensors[0]._data)
    for t in tensors[1:]:
        if type(t._data) is not kind:
            raise devices_error(op, tensors[0].device, t.device)


def _raw(v, like=None, op="op"):
    """The raw array behind v (a Tensor, array, list or scalar), on like's device if given."""
    if isinstance(v, TensorBase):
        if like is not None:
            _same_device(op, like, v)
        return v._data
    xp = np if like is None else array_module(like._data)
    return xp.asarray(v)


def _as_tensor(v, like, op="op"):
    """v as a Tensor on like's device; Python scalars take torch's promoted dtype."""
    if isinstance(v, TensorBase):
        _same_device(op, like, v)
        return v
    if isinstance(v, (str, bytes)) or v is None:
        raise TypeError(f"unsupported operand: a tensor and {type(v).__name__} {v!r}")
    xp = array_module(like._data)
    if isinstance(v, _SCALARS):
        return like._wrap(xp.asarray(v, dtype=_with_scalar(like._data.dtype, _scalar(v))))
    arr = xp.asarray(v)
    if arr.dtype == np.float64 and not isinstance(v, np.ndarray):
        arr = arr.astype(_dt.get_default_dtype().np)
    return like._wrap(arr)


def _with_scalar(dtype, scalar):
    """torch's result dtype for a tensor of `dtype` and a Python bool, int or float: the tensor's
    own dtype unless the scalar is of a higher category (a float with an integer tensor, an int
    with a bool one), when dtypes.promote decides."""
    kind, scalar_type = dtype.kind, type(scalar)
    if kind in "fcV" or (kind in "iu" and scalar_type is not builtins.float) or scalar_type is builtins.bool:
        return dtype
    return _dt.promote(dtype, scalar)


def _scalar(v):
    if type(v) in (builtins.float, builtins.int):
        return v
    if isinstance(v, (np.bool_, builtins.bool)):
        return builtins.bool(v)
    if isinstance(v, numbers.Integral):
        return builtins.int(v)
    return builtins.float(v)


def _operand_dtype(t):
    return t._data.dtype if t._data.ndim else ("0d", t._data.dtype)


_EXACT_INT_OPS = {E.Add: operator.add, E.Sub: operator.sub, E.Mul: operator.mul}


def _exact_int(fn, a, b):
    """a + b, a - b or a * b of a 0-dim integer tensor and a Python int (either side), in Python's
    integers: `i + block_size` in a get_batch loop, where NumPy spends a microsecond on a 0-dim add
    alone. The exact result is wrapped into the tensor's dtype as torch's integer arithmetic wraps
    (modulo 2^bits, which + - * commute with). None, for the general path, for other operands."""
    op = _EXACT_INT_OPS.get(fn)
    if op is None:
        return None
    t, scalar = (b, a) if type(a) is builtins.int else (a, b)
    data = t._data
    if not -2 ** 63 <= scalar < 2 ** 64:  # torch refuses a scalar that no int64 or uint64 holds
        return None
    if data.ndim or data.dtype.kind not in "iu" or type(data) is not np.ndarray:
        return None
    value = op(data.item(), b) if t is a else op(a, data.item())
    low, span = _int_range(data.dtype)
    return t._wrap(np.array((value - low) % span + low, data.dtype))


@functools.cache
def _int_range(dtype):
    """(the least value, the count of values) of an integer dtype."""
    limits = np.iinfo(dtype)
    return int(limits.min), 2 ** limits.bits


def _binary(fn, a, b, name, true_divide=False):
    """Apply a differentiable binary Function with torch's promotion and clear shape errors."""
    if (type(a) is builtins.int or type(b) is builtins.int) and not true_divide:
        exact = _exact_int(fn, a, b)
        if exact is not None:
            return exact
    if isinstance(a, TensorBase) and isinstance(b, TensorBase):
        ad, bd = a._data, b._data
        if type(ad) is not type(bd):
            raise devices_error(name, a.device, b.device)
        if ad.dtype != bd.dtype:
            dt = _dt.promote(_operand_dtype(a), _operand_dtype(b))
            a, b = _cast(a, dt), _cast(b, dt)
    elif isinstance(b, TensorBase):
        if not isinstance(a, _SCALARS):
            a = _as_tensor(a, b, name)
            return _binary(fn, a, b, name, true_divide)
        a = _scalar(a)
        b = _cast(b, _with_scalar(b._data.dtype, a))
    else:
        if not isinstance(b, _SCALARS):
            b = _as_tensor(b, a, name)
            return _binary(fn, a, b, name, true_divide)
        b = _scalar(b)
        a = _cast(a, _with_scalar(a._data.dtype, b))
    if true_divide:
        t = a if isinstance(a, TensorBase) else b
        if t._data.dtype.kind in "biu":
            f = _dt.get_default_dtype().np
            a = _cast(a, f) if isinstance(a, TensorBase) else builtins.float(a)
            b = _cast(b, f) if isinstance(b, TensorBase) else builtins.float(b)
    try:
        return fn.apply(a, b)
    except ValueError:
        raise shapes_error(name, _shape_of(a), _shape_of(b), why="cannot be broadcast together") from None


def _shape_of(x):
    return tuple(x._data.shape) if isinstance(x, TensorBase) else ()


def _cast(t, np_dtype):
    """t in np_dtype: through the graph when t requires grad, else the cast alone."""
    if not isinstance(t, TensorBase) or t._data.dtype == np_dtype:
        return t
    if not t.requires_grad:
        return t._wrap(E.Cast.forward(None, t._data, np.dtype(np_dtype)))
    return E.Cast.apply(t, np_dtype)


def _raw_binary(ufunc, a, b, name):
    """A non-differentiable binary op (comparison, bitwise, floor division) on raw arrays."""
    t = a if isinstance(a, TensorBase) else b
    ad, bd = _raw_operand(a, t), _raw_operand(b, t)
    f = getattr(array_module(t._data), ufunc.__name__) if isinstance(ufunc, np.ufunc) else ufunc
    try:
        return t._wrap(f(ad, bd))
    except ValueError:
        raise shapes_error(name, _shape_of(a), _shape_of(b), why="cannot be broadcast together") from None


def _raw_operand(v, t):
    if isinstance(v, TensorBase) or not isinstance(v, _SCALARS):
        return _raw(v, t)
    return _scalar(v)


def _resolve_shape(shape, size, op, old_shape):
    """Replace one -1 in `shape` by the size that makes the element counts agree."""
    known, infer = 1, None
    for i, s in enumerate(shape):
        if s == -1:
            if infer is not None:
                raise RuntimeError(f"{op}: only one dimension can be inferred (shape {shape})")
            infer = i
        elif s < 0:
            raise RuntimeError(f"{op}: invalid shape dimension {s} in {shape}")
        else:
            known *= s
    if infer is not None:
        if known == 0 or size % known:
            raise shapes_error(op, old_shape, shape, why=f"are incompatible: {size} elements cannot take shape {shape}")
        shape = shape[:infer] + (size // known,) + shape[infer + 1:]
    elif known != size:
        raise shapes_error(op, old_shape, shape, why=f"are incompatible: {size} elements cannot take shape {shape}")
    return shape


def _viewable(a, shape):
    """Whether a.reshape(shape) can be a view (no copy), as torch.view requires."""
    if a.flags.c_contiguous:
        return True
    try:
        v = a.view()
        v.shape = shape
        return True
    except AttributeError:
        return False


def _index_key(key, t):
    """Turn a torch-style index (with Tensors, lists, bools) into a NumPy/CuPy index tuple.

    A 0-dim integer tensor is an int (as in torch: the result is a view), and so is one used as a
    slice's start, stop or step (`data[i:i + block_size]`, ng-video-lecture's get_batch)."""
    if type(key) is not tuple:
        key = (key,)
    out = []
    for k in key:
        kind = type(k)
        if kind is builtins.int or k is None:
            out.append(k)
        elif kind is slice:
            out.append(k if _plain_slice(k) else slice(_bound(k.start), _bound(k.stop), _bound(k.step)))
        elif isinstance(k, TensorBase):
            _same_device("index", t, k)
            data = k._data
            out.append(int(data) if data.ndim == 0 and data.dtype.kind in "iu" else data)
        elif isinstance(k, (list, np.ndarray)):
            out.append(array_module(t._data).asarray(k))
        elif isinstance(k, range):
            out.append(array_module(t._data).arange(k.start, k.stop, k.step))
        elif isinstance(k, (np.integer,)):
            out.append(builtins.int(k))
        else:
            out.append(k)
    return tuple(out)


def _plain_slice(k):
    return not (isinstance(k.start, TensorBase) or isinstance(k.stop, TensorBase) or isinstance(k.step, TensorBase))


def _bound(v):
    """A slice bound as NumPy takes it: a 0-dim integer tensor as its int (else Tensor.__index__ raises)."""
    if v is None or type(v) is builtins.int or not isinstance(v, TensorBase):
        return v
    data = v._data
    return data.item() if data.ndim == 0 and data.dtype.kind in "iu" else operator.index(v)


def _return_type(name, fields=("values", "indices")):
    """torch.return_types.<name>: a named tuple of tensors, by default the (values, indices) pair
    that max(dim) returns; histogram's is (hist, bin_edges)."""
    base = collections.namedtuple(name, fields)

    def __repr__(self):
        listed = ",\n".join(f"{field}={value!r}" for field, value in zip(fields, self))
        return f"{package_name()}.return_types.{name}(\n{listed})"
    return type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__module__": "tinytorch.return_types"})


_RETURN_TYPES = {name: _return_type(name) for name in ("max", "min", "topk", "sort")}


def _ValuesIndices(values, indices, name="max"):
    kind = _RETURN_TYPES.get(name)
    if kind is None:
        kind = _RETURN_TYPES[name] = _return_type(name)
    return kind(values, indices)
