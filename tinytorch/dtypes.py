"""Tensor element types, named and printed as PyTorch's (`tinytorch.float32`, `tinytorch.long`, ...).

bfloat16 arrays use the `ml_dtypes` package's NumPy dtype. NumPy files it under kind "V" (not "f"), so
code that asks whether an array holds floats checks `kind in FLOAT_KINDS`. Its ufuncs compute each
element in float32 and round the result to bfloat16, as torch's CPU kernels do.
"""
import builtins

import ml_dtypes
import numpy as np

from .namespace import package_name


class dtype:
    """A tinytorch dtype: a thin name over a NumPy dtype (CuPy uses the same dtype objects)."""

    __slots__ = ("name", "np", "is_floating_point", "itemsize")

    def __init__(self, name, np_dtype, is_floating_point):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = is_floating_point
        self.itemsize = self.np.itemsize

    def __repr__(self):
        return f"{package_name()}.{self.name}"

    def __reduce__(self):
        return (from_name, (self.name,))


float16 = dtype("float16", np.float16, True)
float32 = dtype("float32", np.float32, True)
float64 = dtype("float64", np.float64, True)
uint8 = dtype("uint8", np.uint8, False)
int16 = dtype("int16", np.int16, False)
int32 = dtype("int32", np.int32, False)
int64 = dtype("int64", np.int64, False)
bool_ = dtype("bool", np.bool_, False)
bfloat16 = dtype("bfloat16", ml_dtypes.bfloat16, True)

ALL = (float16, bfloat16, float32, float64, uint8, int16, int32, int64, bool_)
FLOAT_KINDS = "fV"  # NumPy's kinds of the floating dtypes above: "V" is bfloat16 (the one "V" dtype in ALL)
_BY_NP = {d.np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}
_DEFAULT_FLOAT = float32


def from_name(name):
    return _BY_NAME[name]


def from_numpy(np_dtype):
    """The tinytorch dtype of a NumPy/CuPy array dtype (raises for unsupported ones)."""
    try:
        return _BY_NP[np.dtype(np_dtype)]
    except KeyError:
        raise TypeError(f"tinytorch does not support arrays of dtype {np.dtype(np_dtype)}") from None


def to_numpy(d):
    """NumPy dtype for a tinytorch dtype, a Python type (float -> float64, int -> int64, bool, as
    in torch) or a NumPy dtype (accepted for convenience); None stays None."""
    if d is None:
        return None
    if isinstance(d, dtype):
        return d.np
    if d is builtins.float:
        return float64.np
    if d is builtins.int:
        return int64.np
    if d is builtins.bool:
        return bool_.np
    if isinstance(d, str):
        raise TypeError(f"argument 'dtype' must be a tinytorch.dtype, not str ({d!r})")
    return np.dtype(d)


def get_default_dtype():
    return _DEFAULT_FLOAT


def set_default_dtype(d):
    global _DEFAULT_FLOAT
    if not (isinstance(d, dtype) and d.is_floating_point):
        raise TypeError(f"set_default_dtype: only floating point dtypes are supported, got {d}")
    _DEFAULT_FLOAT = d


def category(np_dtype):
    """0 for bool, 1 for integers, 2 for floating point: the order of type promotion."""
    kind = np_dtype.kind
    return 2 if kind in FLOAT_KINDS else (0 if kind == "b" else 1)


def promote(*participants):
    """PyTorch's result dtype for an op over mixed operands.

    `participants` are NumPy dtypes of tensors with dimensions, 0-dim tensors (pass them as
    `("0d", dtype)`) and Python scalars (pass the scalar itself). As in torch, a higher category
    (bool < int < float) always wins, but within one category dimensioned tensors decide over
    0-dim tensors, which decide over Python scalars (a float32 tensor times 2.5 stays float32).
    The answer depends only on the dtypes, the scalars' types and the default dtype: it is
    remembered per combination (ops ask at every call).
    """
    key = tuple([type(p) if type(p) in (builtins.bool, builtins.int, builtins.float) else p
                 for p in participants]) + (_DEFAULT_FLOAT,)
    try:
        return _PROMOTED[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable participant
        return _promote(participants)
    result = _PROMOTED[key] = _promote(participants)
    return result


_PROMOTED = {}


def _promote(participants):
    groups = ([], [], [])  # dimensioned, zero-dim, python scalars
    for p in participants:
        if isinstance(p, tuple):
            groups[1].append(p[1])
        elif isinstance(p, (builtins.bool, builtins.int, builtins.float)):
            groups[2].append(_python_scalar_dtype(p))
        else:
            groups[0].append(p)
    result = None
    for group in groups:
        if not group:
            continue
        top = max(category(d) for d in group)
        candidate = np.result_type(*[d for d in group if category(d) == top])
        if result is None or category(candidate) > category(result):
            result = candidate
    return result


def _python_scalar_dtype(x):
    if isinstance(x, builtins.bool):
        return bool_.np
    if isinstance(x, builtins.int):
        return int64.np
    return _DEFAULT_FLOAT.np


class ConversionShortcuts:
    """`.cpu() .cuda() .float() .double() .half() .bfloat16()` as `self.to(...)`, shared by Tensor and Module."""

    __slots__ = ()

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda")

    def float(self):
        return self.to(float32)

    def double(self):
        return self.to(float64)

    def half(self):
        return self.to(float16)

    def bfloat16(self):
        return self.to(bfloat16)
