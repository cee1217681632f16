"""Tensor factories: tensor, zeros, ones, full, arange, randn, rand, randint, randperm, normal, bernoulli, *_like."""
import builtins
import math
import numbers

import numpy as np

from . import dtypes as _dt
from .autograd import no_grad
from .device import xp_for
from .random import generator_for
from .tensor import Tensor
from .tensor_data import array_from_data, filled_array, new_shape


def _finish(data, requires_grad):
    t = Tensor._wrap(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of `data` (nested lists, scalars, NumPy arrays or tensors)."""
    return _finish(array_from_data(data, dtype, device), requires_grad)


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


def _filled(size, fill, dtype, device, requires_grad, op):
    return _finish(filled_array(size, fill, dtype, device, op), requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None):
    return _filled(size, 0, dtype, device, requires_grad, "zeros")


def ones(*size, dtype=None, device=None, requires_grad=False, out=None):
    return _filled(size, 1, dtype, device, requires_grad, "ones")


def empty(*size, dtype=None, device=None, requires_grad=False, out=None):
    return _filled(size, None, dtype, device, requires_grad, "empty")


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    if not isinstance(fill_value, (numbers.Number, np.bool_, Tensor)):
        raise TypeError(f"full(): argument 'fill_value' must be a number, not {type(fill_value).__name__}")
    if dtype is None:
        dtype = _dt._python_scalar_dtype(fill_value.item() if isinstance(fill_value, Tensor) else fill_value)
    return _filled((size,) if isinstance(size, int) else size, fill_value, dtype, device, requires_grad, "full")


def zeros_like(input, dtype=None, device=None, requires_grad=False):
    _expect_tensor(input, "zeros_like")
    return zeros(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False):
    _expect_tensor(input, "ones_like")
    return ones(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False):
    return zeros_like(input, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    _expect_tensor(input, "full_like")
    return full(input.shape, fill_value, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def _expect_tensor(input, op):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values from start (inclusive) to end (exclusive); int64 unless an argument is a float."""
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = values
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if not all(math.isfinite(v) for v in values):
        raise RuntimeError(f"arange: unsupported range: {start} -> {end} (step {step})")
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: upper bound and lower bound inconsistent with step sign (from {start} to {end} "
                           f"by {step})")
    if dtype is None:
        dtype = _dt.get_default_dtype() if any(isinstance(v, builtins.float) for v in values) else _dt.int64
    return _finish(xp_for(device).arange(*values, dtype=_dt.to_numpy(dtype)), requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    np_dtype = _dt.to_numpy(dtype) or _dt.get_default_dtype().np
    return _finish(xp_for(device).linspace(start, end, steps, dtype=np_dtype), requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    for name, size in (("n", n), ("m", m)):
        if size is not None and size < 0:
            raise RuntimeError(f"eye: {name} must be greater or equal to 0, got {size}")
    np_dtype = _dt.to_numpy(dtype) or _dt.get_default_dtype().np
    return _finish(xp_for(device).eye(n, m, dtype=np_dtype), requires_grad)


def _random_factory(size, dtype, op):
    """(shape, NumPy dtype) of a new random tensor: `size` as torch reads it, the default float
    dtype when none is given."""
    return new_shape(size, op), _dt.to_numpy(dtype) or _dt.get_default_dtype().np


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples (float32 by default), torch's empty(size).normal_()."""
    shape, np_dtype = _random_factory(size, dtype, "randn")
    return _finish(generator_for(device or "cpu", generator).normal(shape, np_dtype), requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1), torch's empty(size).uniform_()."""
    shape, np_dtype = _random_factory(size, dtype, "rand")
    return _finish(generator_for(device or "cpu", generator).uniform(shape, np_dtype), requires_grad)


def randint(*args, size=None, generator=None, dtype=None, device=None, requires_grad=False, low=None, high=None):
    """randint(high, size) or randint(low, high, size): integers in [low, high), int64 by default
    (torch's empty(size).random_(low, high))."""
    if size is None:
        *bounds, size = args
    else:
        bounds = list(args)
    if high is not None:
        bounds = ([low] if low is not None else []) + [high]
    lo, hi = (0, bounds[0]) if len(bounds) == 1 else bounds
    if hi <= lo:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={lo} >= to={hi}")
    shape = new_shape((size,), "randint")
    np_dtype = _dt.to_numpy(dtype) or np.int64
    return _finish(generator_for(device or "cpu", generator).integers(int(lo), int(hi), shape, np_dtype),
                   requires_grad)


def randperm(n, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0 .. n-1 (torch's Fisher-Yates draws, see random/cpu_generator.py)."""
    if n < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    np_dtype = _dt.to_numpy(dtype) or np.int64
    return _finish(generator_for(device or "cpu", generator).permutation(int(n), np_dtype), requires_grad)


def randn_like(input, dtype=None, device=None, requires_grad=False):
    return randn(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def rand_like(input, dtype=None, device=None, requires_grad=False):
    return rand(input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, dtype=None, device=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=dtype or input.dtype, device=device or input.device)


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Samples of N(mean, std^2), as torch.normal: numbers mean and std with a `size`
    (empty(size).normal_(mean, std)), or tensors broadcast together: standard normals of the
    broadcast shape, times std, plus mean (a tensor mean with a number std: normal_(0, std),
    plus mean)."""
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        if size is None:
            raise TypeError("normal(): with a number mean and std, a size is required")
        shape, np_dtype = _random_factory((size,), dtype, "normal")
        draws = generator_for(device or "cpu", generator).normal(shape, np_dtype, mean, std)
        return _finish(draws, requires_grad)
    like = mean if isinstance(mean, Tensor) else std
    if isinstance(std, Tensor) and (std._data < 0).any():
        raise RuntimeError("normal expects all elements of std >= 0.0")
    shape = np.broadcast_shapes(*(t.shape for t in (mean, std) if isinstance(t, Tensor)))
    out = empty(shape, dtype=like.dtype, device=like.device)
    with no_grad():
        if isinstance(std, Tensor):
            out.normal_(generator=generator).mul_(std)
        else:
            out.normal_(0.0, std, generator=generator)
        out.add_(mean)
    return out


def bernoulli(input, p=None, *, generator=None):
    """0s and 1s, 1 with probability input (elementwise), or with probability p when given."""
    return input.bernoulli(p, generator=generator)
