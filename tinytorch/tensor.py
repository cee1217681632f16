"""`Tensor`: an n-dimensional array (NumPy or CuPy) that records the ops applied to it.

Arithmetic follows PyTorch: broadcasting, torch's type promotion (a float32 tensor times a
Python float stays float32; int / int is float), and errors that name the op and the shapes.

This file holds the core (construction, attributes, conversion, autograd) on top of
`autograd.TensorBase` (the array, the graph node, the gradient) and assembles the class from
mixins: `tensor_arithmetic` (operators, in-place updates), `tensor_math` (unary math,
reductions) and `tensor_shape` (views, indexing, sorting) and `tensor_random` (draws), with helpers in
`tensor_helpers` and `tensor_data`. `nn.functional` installs the methods it owns (softmax, ...).
"""
import builtins
import numbers

import numpy as np

from . import dtypes as _dt
from .autograd import TensorBase, run_backward
from .device import array_module, device as _device, device_of, xp_for
from .ops import elementwise as E, movement as M
from .ops.errors import shapes_error
from .ops.torch_names import dtype_name_of_type_name, legacy_type_name
from .tensor_arithmetic import ArithmeticMixin
from .tensor_data import array_from_data, filled_array
from .namespace import package_name
from .printing import tensor_format, tensor_repr
from .tensor_helpers import _one_axis, _raw
from .tensor_math import MathMixin
from .tensor_random import RandomMixin
from .tensor_shape import ShapeMixin


def parse_to_args(args, kwargs, op):
    """(device, dtype) from the arguments of `.to(...)`: a device, a dtype, both, or a tensor."""
    dev, dt = kwargs.get("device"), kwargs.get("dtype")
    for a in args:
        if isinstance(a, _dt.dtype):
            dt = a
        elif isinstance(a, TensorBase):
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
        return f"{package_name()}.Size({list(self)})"


class Tensor(TensorBase, ArithmeticMixin, MathMixin, ShapeMixin, RandomMixin, _dt.ConversionShortcuts):
    __slots__ = ()
    __array_priority__ = 1000  # so ndarray + Tensor defers to Tensor.__radd__

    def __init__(self, *data, dtype=None, device=None, requires_grad=False):
        """The legacy constructor, as torch's: Tensor([1, 2]) copies data as the default float
        dtype, Tensor(2, 3) or Tensor(Size([2, 3])) is a zero-filled tensor of that shape."""
        dtype = dtype or _dt.get_default_dtype()
        if all(isinstance(d, numbers.Integral) for d in data) or len(data) == 1 and isinstance(data[0], Size):
            self._data = filled_array(data, 0, dtype, device, "Tensor")
        elif len(data) == 1:
            self._data = array_from_data(data[0], dtype, device)
        else:
            raise TypeError(f"Tensor(): expected data or a shape of ints, got {data!r}")
        self.grad = None
        self._ctx = None
        self._out_index = 0
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

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
        return self._data.dtype.kind in _dt.FLOAT_KINDS

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
        self._data = value._data if isinstance(value, TensorBase) else xp_for(self.device).asarray(value)

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
        return iter(self.unbind(0))

    def __hash__(self):
        return id(self)

    def __repr__(self):
        return tensor_repr(self)

    def __format__(self, spec):
        return tensor_format(self, spec, plain=type(self) is Tensor)

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
        try:
            return self._data.item()
        except ValueError:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar") from None

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
        """The legacy type name ('tinytorch.FloatTensor'), or a copy converted to `dtype` (a dtype or
        such a name)."""
        if dtype is None:
            return legacy_type_name(self._data)
        return self.to(_dt.from_name(dtype_name_of_type_name(dtype)) if isinstance(dtype, str) else dtype)

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
            inputs = (inputs,) if isinstance(inputs, TensorBase) else tuple(inputs)
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
        if requires_grad and self._data.dtype.kind not in _dt.FLOAT_KINDS:
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

    # ---- new tensors like this one ------------------------------------------------------------
    def _new(self, data, requires_grad):
        t = Tensor._wrap(data)
        return t.requires_grad_(True) if requires_grad else t

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return self._new(filled_array(size, 0, dtype or self.dtype, device or self.device, "new_zeros"), requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return self._new(filled_array(size, 1, dtype or self.dtype, device or self.device, "new_ones"), requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        size = (size,) if isinstance(size, numbers.Integral) else size
        return self._new(filled_array(size, fill_value, dtype or self.dtype, device or self.device, "new_full"),
                         requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return self.new_zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        return self._new(array_from_data(data, dtype or self.dtype, device or self.device), requires_grad)
