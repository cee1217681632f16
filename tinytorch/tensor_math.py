"""`MathMixin`: Tensor's unary math (exp, tanh, clamp, masked_fill, ...), reductions (sum,
max, argmax, ...), running products and extremes (cumprod, cummax), lerp, diff and histograms
(histc, histogram, bincount); and `where`."""
import builtins
import math
import numbers
import warnings

import numpy as np

from . import autocast_mode as autocast
from . import dtypes as _dt
from .autograd import TensorBase
from .device import array_module
from .ops import cumulative as C, elementwise as E, histograms as H, lerp as L, movement as M, reduction as R
from .ops.errors import shapes_error
from .tensor_helpers import (_SCALARS, _ValuesIndices, _as_tensor, _binary, _cast, _item, _normalize_axis, _one_axis,
                             _operand_dtype, _raw_binary, _return_type, _same_device, _scalar, _shape_of,
                             numpy_argument_names)

_Histogram = _return_type("histogram", ("hist", "bin_edges"))


class MathMixin:
    """Tensor's unary math and reductions (tensor.py mixes this class into Tensor)."""

    __slots__ = ()

    # ---- unary math -------------------------------------------------------------------------
    def neg(self):
        if self._data.dtype == np.bool_:
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. "
                               "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")
        return E.Neg.apply(self)

    negative = neg

    def exp(self):
        return E.Exp.apply(self._floating())

    def log(self):
        return E.Log.apply(self._floating())

    def log2(self):
        return E.Log2.apply(self._floating())

    def log10(self):
        return E.Log10.apply(self._floating())

    def log1p(self):
        return E.Log1p.apply(self._floating())

    def sqrt(self):
        return E.Sqrt.apply(self._floating())

    def rsqrt(self):
        return E.Rsqrt.apply(self._floating())

    def abs(self):
        return E.Abs.apply(self)

    absolute = abs

    def sin(self):
        return E.Sin.apply(self._floating())

    def cos(self):
        return E.Cos.apply(self._floating())

    def tanh(self):
        return E.Tanh.apply(self._floating())

    def sigmoid(self):
        return E.Sigmoid.apply(self._floating())

    def relu(self):
        return E.Relu.apply(self)

    def square(self):
        return self * self

    def sign(self):
        a = self._data
        if a.dtype.kind in "fV":  # torch's (0 < x) - (x < 0): NaN's sign is 0, not NaN
            return self._wrap((a > 0).astype(a.dtype) - (a < 0))
        return self._wrap(a.copy() if a.dtype.kind == "b" else array_module(a).sign(a))

    def floor(self):
        return self._wrap(array_module(self._data).floor(self._data))

    def ceil(self):
        return self._wrap(array_module(self._data).ceil(self._data))

    def round(self):
        return self._wrap(array_module(self._data).round(self._data))

    def isnan(self):
        return self._wrap(array_module(self._data).isnan(self._data))

    def isinf(self):
        return self._wrap(array_module(self._data).isinf(self._data))

    def isfinite(self):
        return self._wrap(array_module(self._data).isfinite(self._data))

    def logical_not(self):
        return self._wrap(array_module(self._data).logical_not(self._data))

    def logical_and(self, other):
        return _raw_binary(np.logical_and, self, other, "logical_and")

    def logical_or(self, other):
        return _raw_binary(np.logical_or, self, other, "logical_or")

    def clamp(self, min=None, max=None):
        if min is None and max is None:
            raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
        if isinstance(min, TensorBase) or isinstance(max, TensorBase):
            out = self if min is None else self.maximum(_as_tensor(min, self))
            return out if max is None else out.minimum(_as_tensor(max, self))
        lo, hi = _item(min), _item(max)
        for name, bound in (("min", lo), ("max", hi)):
            if bound is not None and not isinstance(bound, _SCALARS):
                raise TypeError(f"clamp(): argument '{name}' must be a number or a Tensor, not {type(bound).__name__}")
        x = self
        if x._data.dtype.kind in "biu" and any(isinstance(b, builtins.float) for b in (lo, hi)):
            x = x.to(_dt.get_default_dtype())
        return E.Clamp.apply(x, lo, hi)

    clip = clamp

    def clamp_min(self, min):
        return self.clamp(min=min)

    def clamp_max(self, max):
        return self.clamp(max=max)

    @numpy_argument_names
    def norm(self, p="fro", dim=None, keepdim=False):
        """The p-norm (p = 2 or "fro", 1, or inf) over dim (everything when None)."""
        if p in ("fro", 2):
            return (self * self).sum(dim, keepdim).sqrt()
        if p == 1:
            return self.abs().sum(dim, keepdim)
        if p == float("inf"):
            return self.abs().amax(() if dim is None else dim, keepdim)
        raise RuntimeError(f"norm: p={p!r} is not supported by tinytorch (use 1, 2, 'fro' or inf)")

    def maximum(self, other):
        return _binary(E.Maximum, self, other, "maximum")

    def minimum(self, other):
        return _binary(E.Minimum, self, other, "minimum")

    def where(self, condition, y):
        return where(condition, self, y)

    def masked_fill(self, mask, value):
        mask = _as_tensor(mask, self, "masked_fill")
        if mask._data.dtype != np.bool_:
            raise RuntimeError(f"masked_fill: expected a bool mask, got {mask.dtype}")
        if isinstance(value, TensorBase) and value.ndim == 0 and not value.requires_grad:
            value = value.item()
        if isinstance(value, TensorBase):
            return where(mask, value, self)
        value = _item(value)
        if not isinstance(value, _SCALARS):
            raise TypeError(f"masked_fill(): argument 'value' must be a number or a Tensor, not {type(value).__name__}")
        fill = np.asarray(value, dtype=self._data.dtype) if isinstance(self._data, np.ndarray) else value
        try:
            return E.Where.apply(mask, fill, self, op="MaskedFill")
        except ValueError:
            raise shapes_error("masked_fill", mask.shape, self.shape, why="cannot be broadcast (mask, tensor)") from None

    def _floating(self):
        return self if self._data.dtype.kind in "fcV" else self.to(_dt.get_default_dtype())

    # ---- reductions -------------------------------------------------------------------------
    @numpy_argument_names
    def sum(self, dim=None, keepdim=False, dtype=None):
        x = self._as_dtype(dtype, "sum")
        if x._data.dtype.kind in "bi" and dtype is None and x._data.dtype != np.int64:
            x = x.to(_dt.int64)
        return R.Sum.apply(x, _reduced_axes(dim, x.ndim, "sum"), keepdim)

    @numpy_argument_names
    def mean(self, dim=None, keepdim=False, dtype=None):
        x = self._as_dtype(dtype, "mean")
        if x._data.dtype.kind not in "fcV":
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating point "
                               f"or complex dtype. Got: {x.dtype.name.capitalize()}")
        return R.Mean.apply(x, _reduced_axes(dim, x.ndim, "mean"), keepdim)

    @numpy_argument_names
    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return self._variance("var", dim, unbiased, keepdim, correction)

    @numpy_argument_names
    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return self._variance("std", dim, unbiased, keepdim, correction).sqrt()

    def _variance(self, op, dim, unbiased, keepdim, correction):
        """The variance behind var and std; with no degrees of freedom left it warns as torch does."""
        if isinstance(unbiased, builtins.bool) or unbiased is None:
            c = 1 if correction is None and unbiased is None else (correction if correction is not None else builtins.int(unbiased))
        else:
            raise TypeError(f"{op}(): 'unbiased' must be a bool, got {unbiased!r}")
        if self._data.dtype.kind not in "fcV":
            raise RuntimeError(f"{op}(): std and var only support floating point and complex dtypes, got {self.dtype}")
        axis = _reduced_axes(dim, self.ndim, op)
        n = self._data.size if axis is None else math.prod(self._data.shape[d] for d in axis)
        if n - c <= 0:
            warnings.warn(f"{op}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction "
                          "factor (input numel divided by output numel).", UserWarning, stacklevel=4)
        return R.Var.apply(self, axis, c, keepdim)

    def _minmax(self, dim, keepdim, is_max, op):
        if isinstance(dim, TensorBase):  # torch.max(a, b) is the elementwise maximum
            return self.maximum(dim) if is_max else self.minimum(dim)
        if dim is None:
            if self._data.size == 0:
                raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0. "
                                   "Specify the reduction dim with the 'dim' argument.")
            return R.MaxAll.apply(self, is_max)
        if self.ndim == 0:
            values, indices = self._as_vector(op, dim)._minmax(0, False, is_max, op)
            return _ValuesIndices(values, indices, op)
        axis = _one_axis(dim, self.ndim, op)
        try:
            values, indices = R.MaxDim.apply(self, axis, keepdim, is_max)
        except ValueError:  # NumPy's "attempt to get argmax of an empty sequence"
            raise _empty_dim_error(op, axis) from None
        return _ValuesIndices(values, indices, op)

    @numpy_argument_names
    def max(self, dim=None, keepdim=False):
        return self._minmax(dim, keepdim, True, "max")

    @numpy_argument_names
    def min(self, dim=None, keepdim=False):
        return self._minmax(dim, keepdim, False, "min")

    @numpy_argument_names
    def amax(self, dim=(), keepdim=False):
        return self._amaxmin(dim, keepdim, True)

    @numpy_argument_names
    def amin(self, dim=(), keepdim=False):
        return self._amaxmin(dim, keepdim, False)

    def _amaxmin(self, dim, keepdim, is_max):
        op = "amax" if is_max else "amin"
        axis = _reduced_axes(dim, self.ndim, op)
        if axis is None:
            if self._data.size == 0:
                raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0. "
                                   "Specify the reduction dim with the 'dim' argument.")
            axis = tuple(range(self.ndim))
        elif self._data.size == 0:
            for given, d in zip((dim,) if isinstance(dim, numbers.Integral) else dim, axis):
                if self._data.shape[d] == 0:
                    raise _empty_dim_error(op, given)
        if len(axis) == 1:
            out = self._minmax(axis[0], True, is_max, op).values
            return out if keepdim else out.squeeze(axis[0])
        flat = self.permute(*[d for d in range(self.ndim) if d not in axis], *axis)
        flat = flat.reshape(*flat.shape[:self.ndim - len(axis)], -1)
        out = flat._minmax(-1, False, is_max, op).values
        return out.reshape(*[1 if d in axis else s for d, s in enumerate(self.shape)]) if keepdim else out

    @numpy_argument_names
    def argmax(self, dim=None, keepdim=False):
        return self._arg(dim, keepdim, True)

    @numpy_argument_names
    def argmin(self, dim=None, keepdim=False):
        return self._arg(dim, keepdim, False)

    def _arg(self, dim, keepdim, is_max):
        a, op = self._data, "argmax" if is_max else "argmin"
        if dim is None:
            if a.size == 0:
                raise IndexError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0.")
            idx = a.argmax() if is_max else a.argmin()
            return self._wrap(array_module(a).asarray(idx, dtype=np.int64).reshape((1,) * a.ndim if keepdim else ()))
        if a.ndim == 0:
            return self._as_vector(op, dim)._arg(0, False, is_max)
        axis = _one_axis(dim, a.ndim, op)
        try:
            idx = a.argmax(axis=axis) if is_max else a.argmin(axis=axis)
        except ValueError:  # NumPy's "attempt to get argmax of an empty sequence"
            raise _empty_dim_error(op, axis) from None
        return self._wrap(array_module(a).expand_dims(idx, axis) if keepdim else idx)

    @numpy_argument_names
    def logsumexp(self, dim, keepdim=False):
        if dim is None:
            raise TypeError("logsumexp(): argument 'dim' must be tuple of ints, not NoneType")
        axis = _reduced_axes(dim, self.ndim, "logsumexp")
        if axis is None and not keepdim and self.ndim:  # torch reduces every dim for dim=() only with keepdim
            raise RuntimeError(f"logsumexp(): output with shape [] doesn't match the broadcast shape {[1] * self.ndim} "
                               f"(dim={dim!r} reduces every dim only with keepdim=True)")
        return R.LogSumExp.apply(self._floating(), axis, keepdim)

    @numpy_argument_names
    def cumsum(self, dim, dtype=None):
        x = self._as_dtype(dtype, "cumsum")
        if x.ndim == 0:
            return x._as_vector("cumsum", dim).cumsum(0).reshape(())
        return R.CumSum.apply(x, _one_axis(dim, self.ndim, "cumsum"))

    def _as_dtype(self, dtype, op):
        """self converted to a reduction's `dtype=` argument (None: as it is)."""
        if dtype is None:
            return self
        if not isinstance(dtype, _dt.dtype):
            raise TypeError(f"{op}(): argument 'dtype' must be a dtype such as float64, not "
                            f"{type(dtype).__name__} {dtype!r}")
        return self.to(dtype)

    def _as_vector(self, op, dim):
        """A 0-d tensor seen as shape (1,), for ops along one dim (torch accepts dim 0 or -1)."""
        _normalize_axis(dim, 0, op)
        return self.reshape(1)

    @numpy_argument_names
    @autocast.policy("prod")
    def prod(self, dim=None, keepdim=False, dtype=None):
        x = self._as_dtype(dtype, "prod")
        if x._data.dtype.kind in "bi" and dtype is None and x._data.dtype != np.int64:
            x = x.to(_dt.int64)
        return R.Prod.apply(x, None if dim is None else _one_axis(dim, x.ndim, "prod"), keepdim)

    @numpy_argument_names
    def all(self, dim=None, keepdim=False):
        return self._wrap(array_module(self._data).asarray(self._data.all(axis=_normalize_axis(dim, self.ndim, "all"),
                                                                          keepdims=keepdim)))

    @numpy_argument_names
    def any(self, dim=None, keepdim=False):
        return self._wrap(array_module(self._data).asarray(self._data.any(axis=_normalize_axis(dim, self.ndim, "any"),
                                                                          keepdims=keepdim)))

    @numpy_argument_names
    def count_nonzero(self, dim=None):
        return self._wrap(array_module(self._data).asarray(
            array_module(self._data).count_nonzero(self._data, axis=_reduced_axes(dim, self.ndim, "count_nonzero")),
            dtype=np.int64))

    def nonzero(self, as_tuple=False):
        if self.ndim == 0:  # one entry or none, with no dims to index (NumPy refuses 0-d arrays)
            found = builtins.int(builtins.bool(self._data))
            xp = array_module(self._data)
            if as_tuple:
                return (self._wrap(xp.zeros(found, dtype=np.int64)),)
            return self._wrap(xp.zeros((found, 0), dtype=np.int64))
        idx = array_module(self._data).nonzero(self._data)
        if as_tuple:
            return tuple(self._wrap(i) for i in idx)
        return self._wrap(array_module(self._data).stack(idx, axis=1).astype(np.int64))

    # ---- running products and extremes, interpolation, differences ----------------------------
    @numpy_argument_names
    def cumprod(self, dim, dtype=None):
        """y_j = prod_{i<=j} x_i along dim (ops/cumulative.py); integers as int64, as in torch."""
        x = self._as_dtype(dtype, "cumprod")
        if x._data.dtype.kind in "bi" and dtype is None and x._data.dtype != np.int64:
            x = x.to(_dt.int64)
        if x.ndim == 0:
            return x._as_vector("cumprod", dim).cumprod(0).reshape(())
        return C.Cumprod.apply(x, _one_axis(dim, x.ndim, "cumprod"))

    @numpy_argument_names
    def cummax(self, dim):
        """(values, indices) of the running maximum along dim (ops/cumulative.py)."""
        return self._running_extreme(dim, C.Cummax, "cummax")

    @numpy_argument_names
    def cummin(self, dim):
        """(values, indices) of the running minimum along dim."""
        return self._running_extreme(dim, C.Cummin, "cummin")

    def _running_extreme(self, dim, fn, op):
        if self.ndim == 0:
            values, indices = self._as_vector(op, dim)._running_extreme(0, fn, op)
            return _ValuesIndices(values.reshape(()), indices.reshape(()), op)
        values, indices = fn.apply(self, _one_axis(dim, self.ndim, op))
        return _ValuesIndices(values, indices, op)

    def lerp(self, end, weight):
        """self + weight * (end - self), weight a number or a tensor (ops/lerp.py)."""
        _same_device("lerp", self, end, *([weight] if isinstance(weight, TensorBase) else []))
        for name, t in (("end", end), ("weight", weight)):
            if isinstance(t, TensorBase) and t._data.dtype != self._data.dtype:
                raise RuntimeError(f"lerp(): expected dtype {self.dtype} for `{name}` but got dtype {t.dtype}")
        if not isinstance(weight, TensorBase):
            weight = builtins.float(_item(weight))
        try:
            return L.Lerp.apply(self, end, weight)
        except ValueError:
            raise shapes_error("lerp", self.shape, end.shape, _shape_of(weight),
                               why="cannot be broadcast together (self, end, weight)") from None

    def lerp_(self, end, weight):
        return self._apply_in_place("lerp_", lambda old: old.lerp(end, weight), end, weight)

    def diff(self, n=1, dim=-1, prepend=None, append=None):
        """The n-th forward difference along dim, x[i + 1] - x[i] applied n times (for bools,
        x[i + 1] != x[i]), after `prepend` and `append` are joined on at either end."""
        axis = _one_axis(dim, self.ndim, "diff")
        if n == 0:  # torch then leaves out prepend and append
            return self.clone()
        parts = [t for t in (prepend, self, append) if t is not None]
        x = self
        if len(parts) > 1:
            dt = _dt.promote(*[t._data.dtype for t in parts])
            x = M.Cat.apply(axis, *[_cast(t, dt) for t in parts])
        for _ in range(n):
            length = x.shape[axis]
            if not length:
                break
            later, earlier = x.narrow(axis, 1, length - 1), x.narrow(axis, 0, length - 1)
            x = later != earlier if x._data.dtype == np.bool_ else later - earlier
        return x

    # ---- histograms (not differentiable: their results never require grad) ------------------
    def histc(self, bins=100, min=0, max=0):
        """Counts in `bins` equal-width bins from min to max (the data's extremes when min == max),
        in this tensor's floating dtype; values outside are left out (ops/histograms.py)."""
        _expect_int(bins, "histc", "bins")
        for name, value in (("min", min), ("max", max)):
            if not isinstance(_item(value), numbers.Real):
                raise TypeError(f"histc(): argument '{name}' must be a number, not {type(value).__name__}")
        return self._wrap(H.histc(self._data, builtins.int(bins), _item(min), _item(max)))

    def histogram(self, bins=100, *, range=None, weight=None, density=False):
        """(hist, bin_edges) as `tinytorch.return_types.histogram`: `bins` equal-width bins over
        `range` (default: the data's extremes), or the edges given as a tensor; `weight` adds a
        weight per element instead of 1; `density` normalises to integrate to 1 (ops/histograms.py)."""
        if isinstance(bins, TensorBase):
            if range is not None:
                raise TypeError("histogram(): 'range' cannot be given with a bins tensor (its edges set the range)")
            _same_device("histogram", self, bins)
            bins = bins._data
        else:
            _expect_int(bins, "histogram", "bins", "int or Tensor")
            bins = builtins.int(bins)
            if range is not None and not (isinstance(range, (tuple, list))
                                          and builtins.all(isinstance(v, numbers.Real) for v in range)):
                raise TypeError(f"histogram(): argument 'range' must be a tuple of floats, not {range!r}")
        if weight is not None:
            _expect_tensor(weight, "histogram", "weight")
            _same_device("histogram", self, weight)
        hist, edges = H.histogram(self._data, bins, range, None if weight is None else weight._data, density)
        return _Histogram(self._wrap(hist), self._wrap(edges))

    def bincount(self, weights=None, minlength=0):
        """How often each of 0, 1, ..., max occurs in this 1-d non-negative integer tensor (int64),
        or the sum of the `weights` at its places; at least `minlength` long (ops/histograms.py)."""
        _expect_int(minlength, "bincount", "minlength")
        if weights is not None:
            _expect_tensor(weights, "bincount", "weights")
            _same_device("bincount", self, weights)
        return self._wrap(H.bincount(self._data, None if weights is None else weights._data, builtins.int(minlength)))


def _in_place_version(name):
    """torch's `name_`: self <- self.name(*args), in place (ArithmeticMixin._apply_in_place)."""
    def method(self, *args, **kwargs):
        return self._apply_in_place(f"{name}_", lambda old: getattr(old, name)(*args, **kwargs), *args,
                                    *kwargs.values())
    method.__name__ = method.__qualname__ = f"{name}_"
    method.__doc__ = f"In place: self <- self.{name}(...), by torch's in-place rules."
    return method


for _name in ("neg exp log log2 log10 log1p sqrt rsqrt abs sin cos tanh sigmoid relu square sign floor ceil round "
              "clamp_min clamp_max").split():
    setattr(MathMixin, f"{_name}_", _in_place_version(_name))


def _reduced_axes(dim, ndim, op):
    """The axes a reduction over `dim` reduces: None (every dim) for None and, as in torch, for an
    empty tuple or list; else the checked, non-negative tuple of _normalize_axis."""
    if dim is None or isinstance(dim, (tuple, list)) and not dim:
        return None
    return _normalize_axis(dim, ndim, op)


def _empty_dim_error(op, dim):
    return IndexError(f"{op}(): Expected reduction dim {dim} to have non-zero size.")


def _expect_int(value, op, name, allowed="int"):
    if not isinstance(value, numbers.Integral) or isinstance(value, builtins.bool):
        raise TypeError(f"{op}(): argument '{name}' must be {allowed}, not {type(value).__name__}")


def _expect_tensor(value, op, name):
    if not isinstance(value, TensorBase):
        raise TypeError(f"{op}(): argument '{name}' must be Tensor, not {type(value).__name__}")


def where(condition, input=None, other=None):
    """where(cond, x, y): x where cond, else y (x, y tensors or scalars); where(cond): nonzero."""
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    like = next(v for v in (input, other, condition) if isinstance(v, TensorBase))
    for name, v in (("input", input), ("other", other)):
        if not isinstance(v, (TensorBase, *_SCALARS)):
            raise TypeError(f"where(): argument '{name}' must be a Tensor or a number, not {type(v).__name__}")
    _same_device("where", *[v for v in (condition, input, other) if isinstance(v, TensorBase)])
    cond = _as_tensor(condition, like, "where")
    if cond._data.dtype != np.bool_:
        raise RuntimeError(f"where: expected a bool condition, got {cond.dtype}")
    x = input if isinstance(input, TensorBase) else None
    y = other if isinstance(other, TensorBase) else None
    parts = [p for p in (x, y) if p is not None]
    dt = _dt.promote(*[_operand_dtype(p) for p in parts], *[_scalar(v) for v in (input, other) if not isinstance(v, TensorBase)])
    xa = _cast(x, dt) if x is not None else array_module(like._data).asarray(input, dtype=dt)
    ya = _cast(y, dt) if y is not None else array_module(like._data).asarray(other, dtype=dt)
    try:
        return E.Where.apply(cond, xa, ya)
    except ValueError:
        raise shapes_error("where", cond.shape, _shape_of(xa) if isinstance(xa, TensorBase) else xa.shape,
                           _shape_of(ya) if isinstance(ya, TensorBase) else ya.shape, why="cannot be broadcast together") from None
