"""Tensor factories: tensor, zeros, ones, full, arange, randn, rand, randint, randperm, *_like."""
import builtins

import numpy as np

from . import dtypes as _dt
from .device import xp_for
from .random import generator_for
from .tensor import Tensor, _shape_args


def _finish(data, requires_grad):
    t = Tensor._wrap(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _infer_dtype(data):
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
    if isinstance(data, Tensor):
        return data._host()
    if isinstance(data, (list, tuple)) and any(isinstance(d, (Tensor, list, tuple)) for d in data):
        return [_unwrap_nested(d) for d in data]
    return data


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of `data` (nested lists, scalars, NumPy arrays or tensors)."""
    if isinstance(data, Tensor):
        dev = device if device is not None else data.device
        return _finish(xp_for(dev).array(data._data if dev == data.device else data._host(),
                                         dtype=_dt.to_numpy(dtype) or data._data.dtype), requires_grad)
    data = _unwrap_nested(data)
    if hasattr(data, "__cuda_array_interface__"):  # a CuPy array: stays on the GPU unless told otherwise
        device = "cuda" if device is None else device
        data = data if xp_for(device) is not np else data.get()
    np_dtype = _dt.to_numpy(dtype) or _infer_dtype(data)
    _dt.from_numpy(np_dtype)
    return _finish(xp_for(device).array(data, dtype=np_dtype), requires_grad)


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    if isinstance(data, np.ndarray) and device in (None, "cpu") and dtype is None:
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array):
    """A tensor sharing memory with the NumPy array (like torch.from_numpy)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(array).__name__})")
    _dt.from_numpy(array.dtype)
    return Tensor._wrap(array)


def _sizes(size, op):
    """The shape of a new tensor: ints given as f(2, 3), f((2, 3)) or f(Size), none negative."""
    shape = _shape_args(size, op)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"{op}: Dimension size must be non-negative (got {shape})")
    return shape


def _filled(size, fill, dtype, device, requires_grad, op):
    shape = _sizes(size, op)
    np_dtype = _dt.to_numpy(dtype) or _dt.get_default_dtype().np
    xp = xp_for(device)
    if fill is None:
        return _finish(xp.empty(shape, dtype=np_dtype), requires_grad)
    if fill == 0:
        return _finish(xp.zeros(shape, dtype=np_dtype), requires_grad)
    return _finish(xp.full(shape, fill, dtype=np_dtype), requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None):
    return _filled(size, 0, dtype, device, requires_grad, "zeros")


def ones(*size, dtype=None, device=None, requires_grad=False, out=None):
    return _filled(size, 1, dtype, device, requires_grad, "ones")


def empty(*size, dtype=None, device=None, requires_grad=False, out=None):
    return _filled(size, None, dtype, device, requires_grad, "empty")


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    if dtype is None:
        dtype = _dt._python_scalar_dtype(fill_value.item() if isinstance(fill_value, Tensor) else fill_value)
    return _filled((size,) if isinstance(size, int) else size, fill_value, dtype, device, requires_grad, "full")


def zeros_like(input, dtype=None, device=None, requires_grad=False):
    return zeros(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False):
    return ones(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False):
    return zeros_like(input, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    return full(input.shape, fill_value, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values from start (inclusive) to end (exclusive); int64 unless an argument is a float."""
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if dtype is None:
        dtype = _dt.get_default_dtype() if any(isinstance(v, builtins.float) for v in values) else _dt.int64
    return _finish(xp_for(device).arange(*values, dtype=_dt.to_numpy(dtype)), requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    np_dtype = _dt.to_numpy(dtype) or _dt.get_default_dtype().np
    return _finish(xp_for(device).linspace(start, end, steps, dtype=np_dtype), requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    np_dtype = _dt.to_numpy(dtype) or _dt.get_default_dtype().np
    return _finish(xp_for(device).eye(n, m, dtype=np_dtype), requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples (float32 by default) from the device's generator."""
    shape = _sizes(size, "randn")
    np_dtype = _dt.to_numpy(dtype) or _dt.get_default_dtype().np
    return _finish(generator_for(device or "cpu", generator).normal(shape, np_dtype), requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1)."""
    shape = _sizes(size, "rand")
    np_dtype = _dt.to_numpy(dtype) or _dt.get_default_dtype().np
    return _finish(generator_for(device or "cpu", generator).uniform(shape, np_dtype), requires_grad)


def randint(*args, size=None, generator=None, dtype=None, device=None, requires_grad=False, low=None, high=None):
    """randint(high, size) or randint(low, high, size): integers in [low, high), int64 by default."""
    if size is None:
        *bounds, size = args
    else:
        bounds = list(args)
    if high is not None:
        bounds = ([low] if low is not None else []) + [high]
    lo, hi = (0, bounds[0]) if len(bounds) == 1 else bounds
    if hi <= lo:
        raise RuntimeError(f"randint: expected low < high, but got low={lo}, high={hi}")
    shape = _sizes((size,), "randint")
    np_dtype = _dt.to_numpy(dtype) or np.int64
    return _finish(generator_for(device or "cpu", generator).integers(lo, hi, shape, np_dtype), requires_grad)


def randperm(n, generator=None, dtype=None, device=None, requires_grad=False):
    np_dtype = _dt.to_numpy(dtype) or np.int64
    return _finish(generator_for(device or "cpu", generator).permutation(n, np_dtype), requires_grad)


def randn_like(input, dtype=None, device=None, requires_grad=False):
    return randn(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def rand_like(input, dtype=None, device=None, requires_grad=False):
    return rand(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, dtype=None, device=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=dtype or input.dtype, device=device or input.device)


def normal(mean, std, size=None, generator=None, dtype=None, device=None):
    """Samples of N(mean, std^2) with scalar mean and std (torch.normal(mean, std, size))."""
    return randn(size, generator=generator, dtype=dtype, device=device) * std + mean
