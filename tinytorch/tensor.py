"""`Tensor`: an n-dimensional array (NumPy or CuPy) that records the ops applied to it.

Arithmetic follows PyTorch: broadcasting, torch's type promotion (a float32 tensor times a
Python float stays float32; int / int is float), and errors that name the op and the shapes.
"""
import builtins
import collections
import functools
import numbers
import operator

import numpy as np

from . import dtypes as _dt
from .autograd import is_grad_enabled, run_backward
from .device import array_module, device as _device, device_of, xp_for
from .ops import elementwise as E, indexing as I, linalg as L, movement as M, reduction as R
from .ops.errors import devices_error, shapes_error

_SCALARS = (builtins.int, builtins.float, builtins.bool, np.number, np.bool_)


def parse_to_args(args, kwargs, op):
    """(device, dtype) from the arguments of `.to(...)`: a device, a dtype, both, or a tensor."""
    dev, dt = kwargs.get("device"), kwargs.get("dtype")
    for a in args:
        if isinstance(a, _dt.dtype):
            dt = a
        elif isinstance(a, Tensor):
            dev, dt = a.device, a.dtype
        elif isinstance(a, (str, _device)):
            dev = a
        else:
            raise TypeError(f"{op}(): unexpected argument {a!r}")
    return dev, dt


class Size(tuple):
    """torch.Size: a tuple of dimensions with `numel()`."""

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, key):
        out = tuple.__getitem__(self, key)
        return Size(out) if isinstance(key, slice) else out

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))

    def __mul__(self, n):
        return Size(tuple(self) * n)

    __rmul__ = __mul__

    def __repr__(self):
        return f"tinytorch.Size({list(self)})"


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


class Tensor(_dt.ConversionShortcuts):
    __slots__ = ("_data", "requires_grad", "grad", "_ctx", "_out_index", "__weakref__", "__dict__")
    __array_priority__ = 1000  # so ndarray + Tensor defers to Tensor.__radd__

    def __init__(self, *data, dtype=None, device=None, requires_grad=False):
        """The legacy constructor, as torch's: Tensor([1, 2]) copies data as the default float
        dtype, Tensor(2, 3) or Tensor(Size([2, 3])) is a zero-filled tensor of that shape."""
        from .creation import tensor, zeros
        dtype = dtype or _dt.get_default_dtype()
        if all(isinstance(d, numbers.Integral) for d in data) or len(data) == 1 and isinstance(data[0], Size):
            t = zeros(*data, dtype=dtype, device=device)
        elif len(data) == 1:
            t = tensor(data[0], dtype=dtype, device=device)
        else:
            raise TypeError(f"Tensor(): expected data or a shape of ints, got {data!r}")
        self._data = t._data
        self.grad = None
        self._ctx = None
        self._out_index = 0
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, data, node=None, index=0):
        """A tensor around a raw array; `node` is the graph node that produced it, if any."""
        if type(data) is not np.ndarray and isinstance(data, (np.generic, builtins.float, builtins.int)):
            data = np.asarray(data)
        t = object.__new__(cls)
        t._data = data
        t.grad = None
        t._out_index = index
        if node is not None and data.dtype.kind in "fc":
            t._ctx = node
            t.requires_grad = True
        else:
            t._ctx = None
            t.requires_grad = False
        return t

    # ---- attributes -------------------------------------------------------------------------
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_one_axis(dim, self._data.ndim, "size")]

    @property
    def dtype(self):
        return _dt.from_numpy(self._data.dtype)

    @property
    def device(self):
        return device_of(self._data)

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    def numel(self):
        return builtins.int(self._data.size)

    nelement = numel

    def element_size(self):
        return self._data.itemsize

    def stride(self, dim=None):
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[_one_axis(dim, self._data.ndim, "stride")]

    def is_contiguous(self):
        return builtins.bool(self._data.flags.c_contiguous)

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    @property
    def is_leaf(self):
        return self._ctx is None

    @property
    def grad_fn(self):
        return self._ctx

    @property
    def data(self):
        """A tensor sharing this one's storage but outside the graph (`p.data -= lr * p.grad`)."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value):
        self._data = value._data if isinstance(value, Tensor) else xp_for(self.device).asarray(value)

    @property
    def T(self):
        return M.Permute.apply(self, tuple(range(self._data.ndim - 1, -1, -1)))

    @property
    def mT(self):
        return self.transpose(-2, -1)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __hash__(self):
        return id(self)

    def __repr__(self):
        return _format(self)

    def __format__(self, spec):
        if self._data.ndim == 0 and spec:
            return format(self.item(), spec)
        return repr(self) if not spec else format(self.tolist(), spec)

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy(force=True)
        return arr if dtype is None else arr.astype(dtype)

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self._data.size} values is ambiguous")
        return builtins.bool(self._data.reshape(()))

    def __float__(self):
        return builtins.float(self.item())

    def __int__(self):
        return builtins.int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return builtins.int(self.item())

    # ---- conversion -------------------------------------------------------------------------
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        return self._host().tolist()

    def numpy(self, force=False):
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._host()

    def _host(self):
        return self._data if isinstance(self._data, np.ndarray) else self._data.get()

    def to(self, *args, **kwargs):
        """to(device), to(dtype), to(device, dtype), to(other), with keyword forms too."""
        dev, dt = parse_to_args(args, kwargs, "to")
        out = self
        if dev is not None and _device(dev).type != self.device.type:
            out = E.ToDevice.apply(out, xp_for(dev))
        if dt is not None and _dt.to_numpy(dt) != out._data.dtype:
            out = E.Cast.apply(out, _dt.to_numpy(dt))
        return out

    def type(self, dtype=None):
        return self.to(dtype) if dtype is not None else f"tinytorch.{self.dtype.name}"

    def type_as(self, other):
        return self.to(other.dtype)

    def long(self):
        return self.to(_dt.int64)

    def int(self):
        return self.to(_dt.int32)

    def bool(self):
        return self.to(_dt.bool_)

    # ---- autograd ---------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) . gradient into every leaf's `.grad` (only `inputs`' if given)."""
        if create_graph:
            raise RuntimeError("tinytorch: higher-order gradients (create_graph=True) are not supported")
        if inputs is not None:
            inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
        run_backward(self, self._seed_gradient(gradient, "backward"), builtins.bool(retain_graph), inputs)

    def _seed_gradient(self, gradient, op):
        """The array that starts backpropagation from self: ones for a scalar, else `gradient`."""
        if not self.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError(f"{op}: grad can be implicitly created only for scalar outputs "
                                   f"(got a tensor of shape {tuple(self._data.shape)})")
            return array_module(self._data).ones(self._data.shape, dtype=self._data.dtype)
        g = _raw(gradient, self)
        if g.shape != self._data.shape:
            raise shapes_error(op, g.shape, self._data.shape, why="differ: the gradient must have the tensor's shape")
        return g.astype(self._data.dtype, copy=False)

    def detach(self):
        return Tensor._wrap(self._data)

    def detach_(self):
        self._ctx = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients (got {self.dtype})")
        if not requires_grad and self._ctx is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self):
        if self._ctx is not None:
            if self._ctx.retained is None:
                self._ctx.retained = []
            if not any(t is self for t in self._ctx.retained):
                self._ctx.retained.append(self)

    @property
    def retains_grad(self):
        return self._ctx is not None and self._ctx.retained is not None and any(t is self for t in self._ctx.retained)

    def clone(self):
        return E.Copy.apply(self)

    def contiguous(self):
        return self if self._data.flags.c_contiguous else E.Copy.apply(self)

    # ---- arithmetic -------------------------------------------------------------------------
    def __add__(self, other):
        return _binary(E.Add, self, other, "add")

    def __radd__(self, other):
        return _binary(E.Add, other, self, "add")

    def __sub__(self, other):
        return _binary(E.Sub, self, other, "sub")

    def __rsub__(self, other):
        return _binary(E.Sub, other, self, "sub")

    def __mul__(self, other):
        return _binary(E.Mul, self, other, "mul")

    def __rmul__(self, other):
        return _binary(E.Mul, other, self, "mul")

    def __truediv__(self, other):
        return _binary(E.Div, self, other, "div", true_divide=True)

    def __rtruediv__(self, other):
        return _binary(E.Div, other, self, "div", true_divide=True)

    def __pow__(self, other):
        return _binary(E.Pow, self, other, "pow")

    def __rpow__(self, other):
        return _binary(E.Pow, other, self, "pow")

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(_as_tensor(other, self), self)

    def __floordiv__(self, other):
        return _raw_binary(np.floor_divide, self, other, "floor_divide")

    def __rfloordiv__(self, other):
        return _raw_binary(np.floor_divide, other, self, "floor_divide")

    def __mod__(self, other):
        return _raw_binary(np.remainder, self, other, "remainder")

    def __neg__(self):
        return self.neg()

    def __pos__(self):
        return self

    def __abs__(self):
        return E.Abs.apply(self)

    def __invert__(self):
        if self._data.dtype.kind not in "biu":
            raise TypeError(f"bitwise_not: not supported for {self.dtype} tensors")
        return Tensor._wrap(~self._data)

    def __and__(self, other):
        return _raw_binary(np.bitwise_and, self, other, "bitwise_and")

    __rand__ = __and__

    def __or__(self, other):
        return _raw_binary(np.bitwise_or, self, other, "bitwise_or")

    __ror__ = __or__

    def __xor__(self, other):
        return _raw_binary(np.bitwise_xor, self, other, "bitwise_xor")

    __rxor__ = __xor__

    def __eq__(self, other):
        if other is None:
            return False
        return _raw_binary(np.equal, self, other, "eq")

    def __ne__(self, other):
        if other is None:
            return True
        return _raw_binary(np.not_equal, self, other, "ne")

    def __lt__(self, other):
        return _raw_binary(np.less, self, other, "lt")

    def __le__(self, other):
        return _raw_binary(np.less_equal, self, other, "le")

    def __gt__(self, other):
        return _raw_binary(np.greater, self, other, "gt")

    def __ge__(self, other):
        return _raw_binary(np.greater_equal, self, other, "ge")

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__
    greater, less, greater_equal, less_equal, not_equal = gt, lt, ge, le, ne

    def add(self, other, alpha=1):
        return self + (other * alpha if alpha != 1 else other)

    def sub(self, other, alpha=1):
        return self - (other * alpha if alpha != 1 else other)

    subtract = sub

    def mul(self, other):
        return self * other

    multiply = mul

    def div(self, other, rounding_mode=None):
        if rounding_mode is None:
            return self / other
        if rounding_mode == "floor":
            return self // other
        if rounding_mode == "trunc":
            return _raw_binary(lambda a, b: array_module(a).trunc(a / b).astype(np.result_type(a, b)), self, other, "div")
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found {rounding_mode!r}")

    divide = true_divide = div

    def pow(self, exponent):
        return self ** exponent

    def matmul(self, other):
        return matmul(self, other)

    def dot(self, other):
        if self.ndim != 1 or other.ndim != 1:
            raise shapes_error("dot", self.shape, other.shape, why="must both be 1-D")
        return matmul(self, other)

    mm = bmm = matmul

    # ---- in-place ---------------------------------------------------------------------------
    def _check_inplace(self, op):
        if self.requires_grad and is_grad_enabled():
            raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in an in-place operation."
                               if self._ctx is None else
                               f"{op}: tinytorch does not record in-place ops on tensors that need a gradient")

    def _inplace(self, op, result):
        self._check_inplace(op)
        r = result._data if isinstance(result, Tensor) else result
        if r.shape != self._data.shape:
            try:
                r = array_module(r).broadcast_to(r, self._data.shape)
            except ValueError:
                raise shapes_error(op, r.shape, self._data.shape, why="do not match for an in-place op") from None
        self._data[...] = r
        return self

    def _update(self, op, ufunc, other, alpha=1):
        """self = ufunc(self, other * alpha) in place; torch's rule: the result must be castable
        to self's dtype (no float into an int tensor), and other must broadcast to self's shape."""
        self._check_inplace(op)
        o = _raw_operand(other, self)
        if alpha != 1:
            o = o * alpha
        try:
            getattr(array_module(self._data), ufunc)(self._data, o, out=self._data, casting="same_kind")
        except TypeError:
            result = _dt.promote(self._data.dtype, _scalar(o) if isinstance(o, _SCALARS) else o.dtype)
            raise RuntimeError(f"{op}: result type {_dt.from_numpy(result).name} can't be cast to the desired "
                               f"output type {self.dtype.name}") from None
        except ValueError:
            raise shapes_error(op, _shape_of(other) if isinstance(other, Tensor) else np.shape(o), self.shape,
                               why="do not match for an in-place op (other must broadcast to self)") from None
        return self

    def _iop(self, op, ufunc, other, out_of_place):
        """x op= other: in place, except on a tensor in the graph, which gets a new node instead."""
        if self.requires_grad and is_grad_enabled() and self._ctx is not None:
            return out_of_place(self, other)
        return self._update(op, ufunc, other)

    def __iadd__(self, other):
        return self._iop("add_", "add", other, Tensor.__add__)

    def __isub__(self, other):
        return self._iop("sub_", "subtract", other, Tensor.__sub__)

    def __imul__(self, other):
        return self._iop("mul_", "multiply", other, Tensor.__mul__)

    def __itruediv__(self, other):
        return self._iop("div_", "true_divide", other, Tensor.__truediv__)

    def add_(self, other, alpha=1):
        return self._update("add_", "add", other, alpha)

    def sub_(self, other, alpha=1):
        return self._update("sub_", "subtract", other, alpha)

    def mul_(self, other):
        return self._update("mul_", "multiply", other)

    def div_(self, other):
        return self._update("div_", "true_divide", other)

    def pow_(self, other):
        return self._update("pow_", "power", other)

    def clamp_(self, min=None, max=None):
        return self._inplace("clamp_", array_module(self._data).clip(self._data, min, max))

    def zero_(self):
        return self._inplace("zero_", array_module(self._data).zeros((), dtype=self._data.dtype))

    def fill_(self, value):
        return self._inplace("fill_", array_module(self._data).asarray(_item(value), dtype=self._data.dtype))

    def copy_(self, src):
        src_data = src._data if isinstance(src, Tensor) else src
        moved = E._transfer(src_data, array_module(self._data)).astype(self._data.dtype, copy=False)
        return self._inplace("copy_", moved)

    def masked_fill_(self, mask, value):
        return self._inplace("masked_fill_", array_module(self._data).where(_raw(mask, self, "masked_fill_"), _item(value),
                                                                             self._data))

    def normal_(self, mean=0.0, std=1.0, generator=None):
        from .random import generator_for
        draw = generator_for(self.device, generator).normal(self._data.shape, self._data.dtype)
        return self._inplace("normal_", draw * std + mean)

    def uniform_(self, a=0.0, b=1.0, generator=None):
        from .random import generator_for
        draw = generator_for(self.device, generator).uniform(self._data.shape, self._data.dtype)
        return self._inplace("uniform_", draw * (b - a) + a)

    def bernoulli_(self, p=0.5, generator=None):
        from .random import generator_for
        draw = generator_for(self.device, generator).uniform(self._data.shape, np.float32)
        return self._inplace("bernoulli_", (draw < p).astype(self._data.dtype))

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
        return Tensor._wrap(array_module(self._data).sign(self._data))

    def floor(self):
        return Tensor._wrap(array_module(self._data).floor(self._data))

    def ceil(self):
        return Tensor._wrap(array_module(self._data).ceil(self._data))

    def round(self):
        return Tensor._wrap(array_module(self._data).round(self._data))

    def isnan(self):
        return Tensor._wrap(array_module(self._data).isnan(self._data))

    def isinf(self):
        return Tensor._wrap(array_module(self._data).isinf(self._data))

    def isfinite(self):
        return Tensor._wrap(array_module(self._data).isfinite(self._data))

    def logical_not(self):
        return Tensor._wrap(array_module(self._data).logical_not(self._data))

    def logical_and(self, other):
        return _raw_binary(np.logical_and, self, other, "logical_and")

    def logical_or(self, other):
        return _raw_binary(np.logical_or, self, other, "logical_or")

    def clamp(self, min=None, max=None):
        if min is None and max is None:
            raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            out = self if min is None else self.maximum(_as_tensor(min, self))
            return out if max is None else out.minimum(_as_tensor(max, self))
        lo, hi = _item(min), _item(max)
        x = self
        if x._data.dtype.kind in "biu" and any(isinstance(b, builtins.float) for b in (lo, hi)):
            x = x.to(_dt.get_default_dtype())
        return E.Clamp.apply(x, lo, hi)

    clip = clamp

    def clamp_min(self, min):
        return self.clamp(min=min)

    def clamp_max(self, max):
        return self.clamp(max=max)

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
        if isinstance(value, Tensor) and value.ndim == 0 and not value.requires_grad:
            value = value.item()
        if isinstance(value, Tensor):
            return where(mask, value, self)
        value = _item(value)
        fill = np.asarray(value, dtype=self._data.dtype) if isinstance(self._data, np.ndarray) else value
        try:
            return E.Where.apply(mask, fill, self)
        except ValueError:
            raise shapes_error("masked_fill", mask.shape, self.shape, why="cannot be broadcast (mask, tensor)") from None

    def _floating(self):
        return self if self._data.dtype.kind in "fc" else self.to(_dt.get_default_dtype())

    # ---- reductions -------------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, dtype=None):
        x = self.to(dtype) if dtype is not None else self
        if x._data.dtype.kind in "bi" and dtype is None and x._data.dtype != np.int64:
            x = x.to(_dt.int64)
        return R.Sum.apply(x, _normalize_axis(dim, x.ndim, "sum"), keepdim)

    def mean(self, dim=None, keepdim=False, dtype=None):
        x = self.to(dtype) if dtype is not None else self
        if x._data.dtype.kind not in "fc":
            raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating point "
                               f"or complex dtype. Got: {x.dtype.name.capitalize()}")
        return R.Mean.apply(x, _normalize_axis(dim, x.ndim, "mean"), keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        if isinstance(unbiased, builtins.bool) or unbiased is None:
            c = 1 if correction is None and unbiased is None else (correction if correction is not None else builtins.int(unbiased))
        else:
            raise TypeError(f"var(): 'unbiased' must be a bool, got {unbiased!r}")
        return R.Var.apply(self._floating(), _normalize_axis(dim, self.ndim, "var"), c, keepdim)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return self.var(dim, unbiased, keepdim, correction=correction).sqrt()

    def _minmax(self, dim, keepdim, is_max, op):
        if isinstance(dim, Tensor):  # torch.max(a, b) is the elementwise maximum
            return self.maximum(dim) if is_max else self.minimum(dim)
        if dim is None:
            if self._data.size == 0:
                raise RuntimeError(f"{op}(): Expected reduction dim to be specified for input.numel() == 0.")
            return R.MaxAll.apply(self, is_max)
        if self.ndim == 0:
            values, indices = self._as_vector(op, dim)._minmax(0, False, is_max, op)
            return _ValuesIndices(values, indices, op)
        axis = _one_axis(dim, self.ndim, op)
        values, indices = R.MaxDim.apply(self, axis, keepdim, is_max)
        return _ValuesIndices(values, indices, op)

    def max(self, dim=None, keepdim=False):
        return self._minmax(dim, keepdim, True, "max")

    def min(self, dim=None, keepdim=False):
        return self._minmax(dim, keepdim, False, "min")

    def amax(self, dim=(), keepdim=False):
        return self._amaxmin(dim, keepdim, True)

    def amin(self, dim=(), keepdim=False):
        return self._amaxmin(dim, keepdim, False)

    def _amaxmin(self, dim, keepdim, is_max):
        axis = _normalize_axis(dim, self.ndim) if dim not in ((), None) else tuple(range(self.ndim))
        keep = self.max(axis[0], keepdim=True).values if len(axis) == 1 else None
        if keep is None:
            flat = self.permute(*[d for d in range(self.ndim) if d not in axis], *axis)
            flat = flat.reshape(*flat.shape[:self.ndim - len(axis)], -1)
            out = flat._minmax(-1, False, is_max, "amax").values
            return out.reshape(*[1 if d in axis else s for d, s in enumerate(self.shape)]) if keepdim else out
        out = self._minmax(axis[0], True, is_max, "amax").values
        return out if keepdim else out.squeeze(axis[0])

    def argmax(self, dim=None, keepdim=False):
        return self._arg(dim, keepdim, True)

    def argmin(self, dim=None, keepdim=False):
        return self._arg(dim, keepdim, False)

    def _arg(self, dim, keepdim, is_max):
        a = self._data
        if dim is None:
            idx = a.argmax() if is_max else a.argmin()
            return Tensor._wrap(array_module(a).asarray(idx, dtype=np.int64).reshape((1,) * a.ndim if keepdim else ()))
        if a.ndim == 0:
            return self._as_vector("argmax", dim)._arg(0, False, is_max)
        axis = _one_axis(dim, a.ndim, "argmax")
        idx = a.argmax(axis=axis) if is_max else a.argmin(axis=axis)
        return Tensor._wrap(array_module(a).expand_dims(idx, axis) if keepdim else idx)

    def logsumexp(self, dim, keepdim=False):
        return R.LogSumExp.apply(self._floating(), _normalize_axis(dim, self.ndim, "logsumexp"), keepdim)

    def cumsum(self, dim, dtype=None):
        x = self.to(dtype) if dtype is not None else self
        if x.ndim == 0:
            return x._as_vector("cumsum", dim).cumsum(0).reshape(())
        return R.CumSum.apply(x, _one_axis(dim, self.ndim, "cumsum"))

    def _as_vector(self, op, dim):
        """A 0-d tensor seen as shape (1,), for ops along one dim (torch accepts dim 0 or -1)."""
        _normalize_axis(dim, 0, op)
        return self.reshape(1)

    def prod(self, dim=None, keepdim=False, dtype=None):
        x = self.to(dtype) if dtype is not None else self
        if x._data.dtype.kind in "bi" and dtype is None and x._data.dtype != np.int64:
            x = x.to(_dt.int64)
        return R.Prod.apply(x, None if dim is None else _one_axis(dim, x.ndim, "prod"), keepdim)

    def all(self, dim=None, keepdim=False):
        return Tensor._wrap(array_module(self._data).asarray(self._data.all(axis=_normalize_axis(dim, self.ndim), keepdims=keepdim)))

    def any(self, dim=None, keepdim=False):
        return Tensor._wrap(array_module(self._data).asarray(self._data.any(axis=_normalize_axis(dim, self.ndim), keepdims=keepdim)))

    def count_nonzero(self, dim=None):
        return Tensor._wrap(array_module(self._data).asarray(
            array_module(self._data).count_nonzero(self._data, axis=_normalize_axis(dim, self.ndim)), dtype=np.int64))

    def nonzero(self, as_tuple=False):
        idx = array_module(self._data).nonzero(self._data)
        if as_tuple:
            return tuple(Tensor._wrap(i) for i in idx)
        return Tensor._wrap(array_module(self._data).stack(idx, axis=1).astype(np.int64))

    # ---- shape ------------------------------------------------------------------------------
    def view(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], _dt.dtype):
            raise RuntimeError("view(dtype): reinterpreting bits is not supported by tinytorch yet")
        shape = _resolve_shape(_shape_args(shape, "view"), self._data.size, "view", self.shape)
        if not _viewable(self._data, shape):
            raise RuntimeError(f"view size is not compatible with input tensor's size and stride (shape {tuple(self.shape)}"
                               f" -> {shape}). Use .reshape(...) instead.")
        return M.Reshape.apply(self, shape)

    def reshape(self, *shape):
        return M.Reshape.apply(self, _resolve_shape(_shape_args(shape, "reshape"), self._data.size, "reshape", self.shape))

    def view_as(self, other):
        return self.view(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def transpose(self, dim0, dim1):
        d0, d1 = _normalize_axis((dim0, dim1), self.ndim, "transpose", unique=False)
        return M.Transpose.apply(self, d0, d1)

    swapaxes = swapdims = transpose

    def t(self):
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return self if self.ndim < 2 else self.transpose(0, 1)

    def permute(self, *dims):
        dims = _shape_args(dims, "permute")
        axes = _normalize_axis(dims, self.ndim, "permute")
        if sorted(axes) != list(range(self.ndim)):
            raise RuntimeError(f"permute: dims {dims} are not a permutation of the {self.ndim} dimensions of shape {tuple(self.shape)}")
        return M.Permute.apply(self, axes)

    def squeeze(self, dim=None):
        shape = self._data.shape
        if dim is None:
            new = tuple(s for s in shape if s != 1)
        else:
            axes = _normalize_axis(dim, self.ndim, "squeeze")
            new = tuple(s for i, s in enumerate(shape) if not (i in axes and s == 1))
        return M.Reshape.apply(self, new)

    def unsqueeze(self, dim):
        nd = self.ndim + 1
        axis = _one_axis(dim, nd, "unsqueeze")
        shape = self._data.shape
        return M.Reshape.apply(self, shape[:axis] + (1,) + shape[axis:])

    def expand(self, *sizes):
        sizes = _shape_args(sizes, "expand")
        shape = self._data.shape
        if len(sizes) < len(shape):
            raise shapes_error("expand", shape, sizes, why="cannot be expanded: fewer target dimensions than the tensor has")
        lead = len(sizes) - len(shape)
        target = tuple(s if s != -1 else (shape[i - lead] if i >= lead else -1) for i, s in enumerate(sizes))
        for i, s in enumerate(shape):
            if s != 1 and s != target[i + lead]:
                raise shapes_error("expand", shape, sizes, why=f"cannot be expanded (size {s} at dim {i} is not 1)")
        return M.Expand.apply(self, target)

    def expand_as(self, other):
        return self.expand(other.shape)

    def broadcast_to(self, shape):
        return self.expand(shape)

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        s, e = _normalize_axis((start_dim, end_dim), self.ndim, "flatten", unique=False)
        if s > e:
            raise RuntimeError(f"flatten() has invalid args: start_dim ({start_dim}) cannot come after end_dim ({end_dim})")
        shape = self._data.shape
        n = 1
        for d in shape[s:e + 1]:
            n *= d
        return M.Reshape.apply(self, shape[:s] + (n,) + shape[e + 1:])

    def unflatten(self, dim, sizes):
        axis = _one_axis(dim, self.ndim, "unflatten")
        shape = self._data.shape
        sizes = _resolve_shape(tuple(sizes), shape[axis], "unflatten", (shape[axis],))
        return M.Reshape.apply(self, shape[:axis] + sizes + shape[axis + 1:])

    def split(self, split_size_or_sections, dim=0):
        axis = _one_axis(dim, self.ndim, "split")
        n = self._data.shape[axis]
        if isinstance(split_size_or_sections, numbers.Integral):
            step = builtins.int(split_size_or_sections)
            if step <= 0:
                raise RuntimeError(f"split: split_size must be positive, got {step}")
            sizes = [min(step, n - i) for i in range(0, n, step)] or [0]
        else:
            sizes = [builtins.int(s) for s in split_size_or_sections]
            if sum(sizes) != n:
                raise RuntimeError(f"split: split_with_sizes expects split_sizes to sum exactly to {n} "
                                   f"(input tensor's size at dimension {dim}), but got split_sizes={sizes}")
        return M.Split.apply(self, tuple(sizes), axis)

    def chunk(self, chunks, dim=0):
        axis = _one_axis(dim, self.ndim, "chunk")
        if chunks <= 0:
            raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
        n = self._data.shape[axis]
        step = -(-n // chunks) if n else 1
        return self.split(step, axis)

    def unbind(self, dim=0):
        axis = _one_axis(dim, self.ndim, "unbind")
        return tuple(p.squeeze(axis) for p in self.split(1, axis))

    def roll(self, shifts, dims=None):
        if dims is None:
            return self.flatten().roll(shifts, 0).view(self.shape)
        shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else shifts
        dims = _normalize_axis(dims, self.ndim, "roll", unique=False)
        if len(shifts if isinstance(shifts, tuple) else (shifts,)) != len(dims):
            raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {shifts}, dims: {dims}")
        return M.Roll.apply(self, shifts, dims if isinstance(shifts, tuple) else dims[0])

    def flip(self, *dims, **kwargs):
        dims = _shape_args(dims or (kwargs.pop("dims"),), "flip")
        return M.Flip.apply(self, _normalize_axis(dims, self.ndim, "flip"))

    def tril(self, diagonal=0):
        return M.Tri.apply(self._matrices("tril"), diagonal, True)

    def triu(self, diagonal=0):
        return M.Tri.apply(self._matrices("triu"), diagonal, False)

    def _matrices(self, op):
        if self.ndim < 2:
            raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions (got shape {tuple(self.shape)})")
        return self

    def repeat(self, *sizes):
        sizes = _shape_args(sizes, "repeat")
        if len(sizes) < self.ndim:
            raise RuntimeError(f"repeat: number of repeat dims ({len(sizes)}) can not be smaller than the tensor's ({self.ndim})")
        return M.Repeat.apply(self, sizes)

    # ---- indexing ---------------------------------------------------------------------------
    def __getitem__(self, key):
        key = _index_key(key, self)
        try:
            return I.GetItem.apply(self, key)
        except IndexError as e:
            raise IndexError(f"index {key!r} is out of bounds for tensor of shape {tuple(self.shape)}: {e}") from None

    def __setitem__(self, key, value):
        self._check_inplace("__setitem__")
        key = _index_key(key, self)
        self._data[key] = _raw(value, self, "__setitem__")

    def gather(self, dim, index):
        axis = _one_axis(dim, self.ndim, "gather")
        idx = _raw(index, self, "gather")
        if idx.dtype != np.int64:
            raise RuntimeError(f"gather(): Expected dtype int64 for index, got {_dt.from_numpy(idx.dtype)}")
        if idx.ndim != self.ndim or any(i > s for d, (i, s) in enumerate(zip(idx.shape, self._data.shape)) if d != axis):
            raise shapes_error("gather", self.shape, idx.shape, why=f"(input, index) do not fit: index must have the "
                               f"input's number of dims and be no larger in every dim except {dim}")
        return I.Gather.apply(self, axis, idx)

    def index_select(self, dim, index):
        return I.IndexSelect.apply(self, _one_axis(dim, self.ndim, "index_select"),
                                    _raw(index, self, "index_select"))

    def topk(self, k, dim=-1, largest=True, sorted=True):
        from .ops.sampling import topk
        return topk(self, k, dim, largest, sorted)

    def sort(self, dim=-1, descending=False):
        from .ops.sampling import sort
        return sort(self, dim, descending)

    def argsort(self, dim=-1, descending=False):
        return self.sort(dim, descending).indices

    def multinomial(self, num_samples, replacement=False, generator=None):
        from .ops.sampling import multinomial
        return multinomial(self, num_samples, replacement, generator=generator)

    # ---- nn shortcuts (defined in nn.functional) --------------------------------------------
    def softmax(self, dim, dtype=None):
        from .nn import functional as F
        return F.softmax(self, dim, dtype=dtype)

    def log_softmax(self, dim, dtype=None):
        from .nn import functional as F
        return F.log_softmax(self, dim, dtype=dtype)

    # ---- new tensors like this one ------------------------------------------------------------
    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        from .creation import zeros
        return zeros(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        from .creation import ones
        return ones(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        from .creation import full
        return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return self.new_zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        from .creation import tensor
        return tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


def _numpy_argument_names(method):
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


for _name in ("sum", "mean", "var", "std", "max", "min", "amax", "amin", "argmax", "argmin", "logsumexp", "cumsum",
              "prod", "all", "any", "squeeze", "count_nonzero", "norm"):
    setattr(Tensor, _name, _numpy_argument_names(getattr(Tensor, _name)))


def _return_type(name):
    """torch.return_types.<name>: a named (values, indices) pair, e.g. what max(dim) returns."""
    pair = collections.namedtuple(name, ("values", "indices"))

    def __repr__(self):
        return f"tinytorch.return_types.{name}(\nvalues={self[0]!r},\nindices={self[1]!r})"
    return type(name, (pair,), {"__slots__": (), "__repr__": __repr__, "__module__": "tinytorch.return_types"})


_RETURN_TYPES = {name: _return_type(name) for name in ("max", "min", "topk", "sort")}


def _ValuesIndices(values, indices, name="max"):
    kind = _RETURN_TYPES.get(name)
    if kind is None:
        kind = _RETURN_TYPES[name] = _return_type(name)
    return kind(values, indices)


# ---- helpers ------------------------------------------------------------------------------
def _item(v):
    return v.item() if isinstance(v, Tensor) else v


def _same_device(op, *tensors):
    """Raise a DeviceError naming both devices unless all tensors' arrays live on one device."""
    kind = type(tensors[0]._data)
    for t in tensors[1:]:
        if type(t._data) is not kind:
            raise devices_error(op, tensors[0].device, t.device)


def _raw(v, like=None, op="op"):
    """The raw array behind v (a Tensor, array, list or scalar), on like's device if given."""
    if isinstance(v, Tensor):
        if like is not None:
            _same_device(op, like, v)
        return v._data
    xp = np if like is None else array_module(like._data)
    return xp.asarray(v)


def _as_tensor(v, like, op="op"):
    """v as a Tensor on like's device; Python scalars take torch's promoted dtype."""
    if isinstance(v, Tensor):
        _same_device(op, like, v)
        return v
    if isinstance(v, (str, bytes)) or v is None:
        raise TypeError(f"unsupported operand: a tensor and {type(v).__name__} {v!r}")
    xp = array_module(like._data)
    if isinstance(v, _SCALARS):
        return Tensor._wrap(xp.asarray(v, dtype=_dt.promote(like._data.dtype, _scalar(v))))
    arr = xp.asarray(v)
    if arr.dtype == np.float64 and not isinstance(v, np.ndarray):
        arr = arr.astype(_dt.get_default_dtype().np)
    return Tensor._wrap(arr)


def _scalar(v):
    if isinstance(v, (np.bool_, builtins.bool)):
        return builtins.bool(v)
    if isinstance(v, numbers.Integral):
        return builtins.int(v)
    return builtins.float(v)


def _operand_dtype(t):
    return t._data.dtype if t._data.ndim else ("0d", t._data.dtype)


def _binary(fn, a, b, name, true_divide=False):
    """Apply a differentiable binary Function with torch's promotion and clear shape errors."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        ad, bd = a._data, b._data
        if type(ad) is not type(bd):
            raise devices_error(name, a.device, b.device)
        if ad.dtype != bd.dtype:
            dt = _dt.promote(_operand_dtype(a), _operand_dtype(b))
            a, b = _cast(a, dt), _cast(b, dt)
    elif isinstance(b, Tensor):
        if not isinstance(a, _SCALARS):
            a = _as_tensor(a, b, name)
            return _binary(fn, a, b, name, true_divide)
        a = _scalar(a)
        dt = _dt.promote(b._data.dtype, a)
        b = _cast(b, dt)
    else:
        if not isinstance(b, _SCALARS):
            b = _as_tensor(b, a, name)
            return _binary(fn, a, b, name, true_divide)
        b = _scalar(b)
        dt = _dt.promote(a._data.dtype, b)
        a = _cast(a, dt)
    if true_divide:
        t = a if isinstance(a, Tensor) else b
        if t._data.dtype.kind in "biu":
            f = _dt.get_default_dtype().np
            a = _cast(a, f) if isinstance(a, Tensor) else builtins.float(a)
            b = _cast(b, f) if isinstance(b, Tensor) else builtins.float(b)
    try:
        return fn.apply(a, b)
    except ValueError:
        raise shapes_error(name, _shape_of(a), _shape_of(b), why="cannot be broadcast together") from None


def _shape_of(x):
    return tuple(x._data.shape) if isinstance(x, Tensor) else ()


def _cast(t, np_dtype):
    if not isinstance(t, Tensor) or t._data.dtype == np_dtype:
        return t
    return E.Cast.apply(t, np_dtype)


def _raw_binary(ufunc, a, b, name):
    """A non-differentiable binary op (comparison, bitwise, floor division) on raw arrays."""
    t = a if isinstance(a, Tensor) else b
    ad, bd = _raw_operand(a, t), _raw_operand(b, t)
    f = getattr(array_module(t._data), ufunc.__name__) if isinstance(ufunc, np.ufunc) else ufunc
    try:
        return Tensor._wrap(f(ad, bd))
    except ValueError:
        raise shapes_error(name, _shape_of(a), _shape_of(b), why="cannot be broadcast together") from None


def _raw_operand(v, t):
    if isinstance(v, Tensor) or not isinstance(v, _SCALARS):
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
    """Turn a torch-style index (with Tensors, lists, bools) into a NumPy/CuPy index tuple."""
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    for k in key:
        if isinstance(k, Tensor):
            _same_device("index", t, k)
            out.append(k._data)
        elif isinstance(k, (list, np.ndarray)):
            out.append(array_module(t._data).asarray(k))
        elif isinstance(k, range):
            out.append(array_module(t._data).arange(k.start, k.stop, k.step))
        elif isinstance(k, (np.integer,)):
            out.append(builtins.int(k))
        else:
            out.append(k)
    return tuple(out)


def matmul(a, b):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"matmul: expected Tensors, got {type(a).__name__} and {type(b).__name__}")
    L.check_matmul_shapes(a._data.shape, b._data.shape)
    _same_device("matmul", a, b)
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"matmul: expected both tensors to have the same dtype, but got {a.dtype} and {b.dtype}")
    return L.MatMul.apply(a, b)


def where(condition, input=None, other=None):
    """where(cond, x, y): x where cond, else y (x, y tensors or scalars); where(cond): nonzero."""
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    like = next(v for v in (input, other, condition) if isinstance(v, Tensor))
    _same_device("where", *[v for v in (condition, input, other) if isinstance(v, Tensor)])
    cond = _as_tensor(condition, like, "where")
    if cond._data.dtype != np.bool_:
        raise RuntimeError(f"where: expected a bool condition, got {cond.dtype}")
    x = input if isinstance(input, Tensor) else None
    y = other if isinstance(other, Tensor) else None
    parts = [p for p in (x, y) if p is not None]
    dt = _dt.promote(*[_operand_dtype(p) for p in parts], *[_scalar(v) for v in (input, other) if not isinstance(v, Tensor)])
    xa = _cast(x, dt) if x is not None else array_module(like._data).asarray(input, dtype=dt)
    ya = _cast(y, dt) if y is not None else array_module(like._data).asarray(other, dtype=dt)
    try:
        return E.Where.apply(cond, xa, ya)
    except ValueError:
        raise shapes_error("where", cond.shape, _shape_of(xa) if isinstance(xa, Tensor) else xa.shape,
                           _shape_of(ya) if isinstance(ya, Tensor) else ya.shape, why="cannot be broadcast together") from None


def _format(t):
    """torch-like repr: tensor([...], dtype=..., requires_grad=True)."""
    a = t._host()
    if a.dtype.kind == "f":
        body = np.array2string(a, separator=", ", prefix="tensor(", precision=4, floatmode="maxprec_equal",
                               threshold=1000, edgeitems=3)
    else:
        body = np.array2string(a, separator=", ", prefix="tensor(", threshold=1000, edgeitems=3)
    extras = []
    if t._data.dtype not in (_dt.get_default_dtype().np, np.int64, np.bool_) or (a.size == 0 and a.dtype != _dt.get_default_dtype().np):
        extras.append(f"dtype={t.dtype!r}")
    if t.device.type != "cpu":
        extras.append("device='cuda:0'")
    if t._ctx is not None:
        extras.append(f"grad_fn=<{t._ctx.name}Backward>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"
