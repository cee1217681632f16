"""The raw arrays behind new tensors: a copy of Python data (`tensor(data)`, `Tensor(data)`,
`t.new_tensor(data)`) or a shape filled with one value (`zeros`, `t.new_ones(...)`, ...)."""
import numpy as np

from . import dtypes as _dt
from .autograd import TensorBase
from .device import xp_for
from .tensor_helpers import _shape_args


def infer_dtype(data):
    """torch.tensor's dtype for Python data: floats -> default float, ints -> int64, bools -> bool.
    Arrays (NumPy's or CuPy's) keep their own."""
    if hasattr(data, "__cuda_array_interface__"):
        return data.dtype
    arr = np.asarray(data)
    if arr.dtype.kind == "f" and not isinstance(data, np.ndarray):
        return _dt.get_default_dtype().np
    if arr.dtype.kind in "iu" and not isinstance(data, np.ndarray):
        return np.int64
    if arr.dtype.kind == "O":
        raise TypeError(f"tensor(): could not infer a dtype for data of type {type(data).__name__}")
    return arr.dtype


def _unwrap_nested(data):
    if isinstance(data, TensorBase):
        return data._host()
    if isinstance(data, (list, tuple)) and any(isinstance(d, (TensorBase, list, tuple)) for d in data):
        return [_unwrap_nested(d) for d in data]
    return data


def array_from_data(data, dtype=None, device=None):
    """A new array holding a copy of `data` (nested lists, scalars, NumPy or CuPy arrays, tensors),
    of `dtype` (inferred as torch.tensor does when None) on `device` (data's own device when None
    and data is a tensor or a CuPy array, else the CPU)."""
    if isinstance(data, TensorBase):
        dev = device if device is not None else data.device
        return xp_for(dev).array(data._data if dev == data.device else data._host(),
                                 dtype=_dt.to_numpy(dtype) or data._data.dtype)
    data = _unwrap_nested(data)
    if hasattr(data, "__cuda_array_interface__"):  # a CuPy array: stays on the GPU unless told otherwise
        device = "cuda" if device is None else device
        data = data if xp_for(device) is not np else data.get()
    np_dtype = _dt.to_numpy(dtype) or infer_dtype(data)
    _dt.from_numpy(np_dtype)
    return xp_for(device).array(data, dtype=np_dtype)


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
