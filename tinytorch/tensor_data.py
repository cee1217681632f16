"""The raw arrays behind new tensors: a copy of Python data (`tensor(data)`, `Tensor(data)`,
`t.new_tensor(data)`) or a shape filled with one value (`zeros`, `t.new_ones(...)`, ...)."""
import builtins
import math

import numpy as np

from . import dtypes as _dt
from .autograd import TensorBase
from .device import xp_for
from .ops.quiet import quiet
from .tensor_helpers import _shape_args

_PYTHON_NUMBERS = frozenset((builtins.bool, builtins.int, builtins.float))
_LARGEST = {np.dtype(np.float16): 65504.0, np.dtype(np.float32): float(np.finfo(np.float32).max)}


def array_from_data(data, dtype=None, device=None):
    """A new array holding a copy of `data` (nested lists, scalars, NumPy or CuPy arrays, tensors),
    of `dtype` (inferred as torch.tensor does when None, see `infer_dtype`) on `device` (data's own
    device when None and data is a tensor or a CuPy array, else the CPU)."""
    if type(data) in _PYTHON_NUMBERS:  # tensor(3.0): the shortest way through
        found = {type(data)}
    elif isinstance(data, TensorBase):
        dev = device if device is not None else data.device
        return _array(xp_for(dev), data._data if dev == data.device else data._host(),
                      _dt.to_numpy(dtype) or data._data.dtype, data._data.dtype.kind in "fV")
    elif hasattr(data, "__cuda_array_interface__"):  # a CuPy array: stays on the GPU unless told otherwise
        xp = xp_for("cuda" if device is None else device)
        return _array(xp, data if xp is not np else data.get(), _dt.to_numpy(dtype) or data.dtype,
                      data.dtype.kind in "fV")
    elif isinstance(data, (str, bytes)):
        raise TypeError(f"tensor(): invalid data type '{type(data).__name__}': expected numbers, nested lists of "
                        "them, arrays or tensors")
    else:
        found = set()
        data = _scan(data, found)
    inferred = infer_dtype(found)  # floating exactly when data holds floats
    np_dtype = _dt.to_numpy(dtype) or inferred
    _dt.from_numpy(np_dtype)
    try:
        return _array(xp_for(device), data, np_dtype, inferred.kind in "fV")
    except (OverflowError, ValueError) as e:
        raise _conversion_error(e, data, np_dtype) from None


def _scan(data, found):
    """data with every tensor in it replaced by its NumPy array; adds to `found` what decides its
    dtype: the type of each Python number and the dtype of each NumPy scalar, array or tensor."""
    if isinstance(data, (list, tuple)):
        types = set(map(type, data))
        if types <= _PYTHON_NUMBERS:  # the common case: a flat list of Python numbers
            found |= types
            return data
        return [_scan(d, found) for d in data]
    if isinstance(data, TensorBase):
        found.add(data._data.dtype)
        return data._host()
    if isinstance(data, (np.ndarray, np.generic)):
        found.add(data.dtype)
    elif type(data) in _PYTHON_NUMBERS:
        found.add(type(data))
    elif isinstance(data, (str, bytes)):
        raise ValueError(f"tensor(): too many dimensions '{type(data).__name__}': a string is not a number ({data!r})")
    else:  # another sequence (a range, an array-like) as NumPy reads it
        kind, data = type(data), np.asarray(data)
        if data.dtype.kind == "O":
            raise RuntimeError(f"tensor(): Could not infer dtype of {kind.__name__}")
        found.add(data.dtype)
    return data


def infer_dtype(found):
    """torch.tensor's dtype for data holding the types or dtypes `found` (see `_scan`): a Python
    bool is bool, an int int64, a float the default float dtype, a NumPy scalar, array or tensor
    its own dtype; together, torch's promotion (float over integer over bool, then the wider);
    nothing (an empty list) is the default float dtype."""
    if len(found) == 1:
        return _dtype_of(next(iter(found)))
    return _dt.promote(*map(_dtype_of, found)) if found else _dt.get_default_dtype().np


def _dtype_of(kind):
    if kind is builtins.float:
        return _dt.get_default_dtype().np
    if kind is builtins.int:
        return np.dtype(np.int64)
    if kind is builtins.bool:
        return np.dtype(np.bool_)
    return kind


def _array(xp, data, np_dtype, floats):
    """xp.array(data, np_dtype) of data holding `floats` or not: floats that do not fit a narrower
    float become inf (and those that do not fit an integer dtype an unspecified integer), silently
    as in torch. One Python float warns only if it is finite and beyond np_dtype's largest value."""
    if not floats or np_dtype.kind == "b" or np_dtype.itemsize == 8 and np_dtype.kind in "fV" or (
            type(data) is builtins.float and not _LARGEST.get(np_dtype, math.inf) < abs(data) < math.inf):
        return xp.array(data, dtype=np_dtype)
    return _quiet_array(xp, data, np_dtype)


@quiet
def _quiet_array(xp, data, np_dtype):
    return xp.array(data, dtype=np_dtype)


def _conversion_error(error, data, np_dtype):
    """torch's error for data that NumPy could not convert to np_dtype: a Python int beyond int64,
    a number that does not fit np_dtype (NaN or inf into an integer, 300 into uint8), or ragged lists."""
    big = _find(data, lambda v: type(v) is builtins.int and not -2**63 <= v < 2**63)
    if big is not None:
        return ValueError(f"Overflow when unpacking long long: tensor() takes integers from -2**63 to 2**63 - 1, "
                          f"not {big}")
    if isinstance(error, OverflowError) or _find(data, math.isnan) is not None:
        return RuntimeError(f"tensor(): value cannot be converted to type {_dt.from_numpy(np_dtype).name} without "
                            f"overflow ({error})")
    return ValueError(f"tensor(): expected nested lists of equal lengths at each depth ({error})")


def _find(data, test):
    """The first number in nested lists `data` that passes `test`, or None."""
    if isinstance(data, (list, tuple)):
        for d in data:
            found = _find(d, test)
            if found is not None:
                return found
        return None
    return data if isinstance(data, (builtins.int, builtins.float)) and test(data) else None


def new_shape(size, op):
    """The shape of a new tensor: ints given as f(2, 3), f((2, 3)) or f(Size), none negative."""
    shape = _shape_args(size, op)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"{op}: Dimension size must be non-negative (got {shape})")
    return shape


def filled_array(size, fill, dtype, device, op):
    """An array of shape `size` (as new_shape reads it) filled with `fill` (None: uninitialised),
    of `dtype` (the default float dtype when None) on `device`."""
    shape = new_shape(size, op)
    np_dtype = _dt.to_numpy(dtype) or _dt.get_default_dtype().np
    xp = xp_for(device)
    if fill is None:
        return xp.empty(shape, dtype=np_dtype)
    if fill == 0:
        return xp.zeros(shape, dtype=np_dtype)
    return xp.full(shape, fill, dtype=np_dtype)
