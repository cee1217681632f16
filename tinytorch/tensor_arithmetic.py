"""`ArithmeticMixin`: Tensor's operators (+ - * / ** @, comparisons, bitwise ops) and in-place
updates (`add_`, `x += y`, `fill_`, `copy_`, ...), products (addmm, baddbmm, outer, kron), and
`matmul`."""
import numpy as np

from . import autocast_mode as autocast
from . import dtypes as _dt
from .autograd import TensorBase, no_grad
from .device import array_module
from .inplace import check_inplace, modify, records, write
from .ops import elementwise as E
from .ops import linalg as L
from .ops.errors import shapes_error
from .ops.quiet import quiet
from .tensor_helpers import (
    _SCALARS,
    _as_tensor,
    _binary,
    _cast,
    _item,
    _raw,
    _raw_binary,
    _raw_operand,
    _same_device,
    _scalar,
    _shape_of,
)
from .versions import bump


class ArithmeticMixin:
    """Tensor's arithmetic and in-place methods (tensor.py mixes this class into Tensor)."""

    __slots__ = ()

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
        if type(other) is int and other < 0 and self._data.dtype.kind in "biu":
            raise RuntimeError(f"pow: Integers to negative integer powers are not allowed ({self.dtype} tensor ** "
                               f"{other}).")
        return _quiet_binary(E.Pow, self, other, "pow")

    def __rpow__(self, other):
        return _quiet_binary(E.Pow, other, self, "pow")

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(_as_tensor(other, self), self)

    def __floordiv__(self, other):
        return _rounded_division(E.FloorDivide, self, other, "floor_divide")

    def __rfloordiv__(self, other):
        return _rounded_division(E.FloorDivide, other, self, "floor_divide")

    def __mod__(self, other):
        return _rounded_division(E.Remainder, self, other, "remainder")

    def __rmod__(self, other):
        return _rounded_division(E.Remainder, other, self, "remainder")

    def __neg__(self):
        return self.neg()

    def __pos__(self):
        return self

    def __abs__(self):
        return E.Abs.apply(self)

    def __invert__(self):
        if self._data.dtype.kind not in "biu":
            raise TypeError(f"bitwise_not: not supported for {self.dtype} tensors")
        return self._wrap(~self._data)

    def __and__(self, other):
        return _bitwise(np.bitwise_and, self, other, "bitwise_and")

    __rand__ = __and__

    def __or__(self, other):
        return _bitwise(np.bitwise_or, self, other, "bitwise_or")

    __ror__ = __or__

    def __xor__(self, other):
        return _bitwise(np.bitwise_xor, self, other, "bitwise_xor")

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
            return _rounded_division(E.TruncDivide, self, other, "div")
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found {rounding_mode!r}")

    divide = true_divide = div

    def pow(self, exponent):
        return self ** exponent

    def matmul(self, other):
        return matmul(self, other)

    def dot(self, other):
        if self.ndim != 1 or other.ndim != 1:
            raise shapes_error("dot", self.shape, other.shape, why="must both be 1-D")
        return matmul.__wrapped__(self, other)  # dot is on no autocast list

    mm = bmm = matmul

    # ---- products: scaled sums of matrix products, outer and Kronecker products --------------
    @autocast.policy("addmm")
    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        """beta * self + alpha * (mat1 @ mat2) for matrices mat1 (n, k), mat2 (k, p) (ops/linalg.py)."""
        return self._scaled_product("addmm", 2, mat1, mat2, beta, alpha, L.Addmm)

    @autocast.policy("baddbmm")
    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        """beta * self + alpha * (batch1 @ batch2) for batches (b, n, k) and (b, k, p)."""
        return self._scaled_product("baddbmm", 3, batch1, batch2, beta, alpha, L.Baddbmm)

    def _scaled_product(self, op, ndim, a, b, beta, alpha, fn):
        for name, t in (("first", a), ("second", b)):
            if not isinstance(t, TensorBase) or t.ndim != ndim:
                raise RuntimeError(f"{op}: the {name} operand must be a {ndim}-D tensor, got "
                                   f"{getattr(t, 'ndim', type(t).__name__)}-D")
        _same_device(op, self, a, b)
        if a.shape[:-2] != b.shape[:-2] or a.shape[-1] != b.shape[-2]:
            raise shapes_error(op, a.shape, b.shape, why="cannot be multiplied (batch dims must be equal and the "
                               "inner dimensions agree)")
        product_shape = tuple(a.shape[:-1]) + (b.shape[-1],)
        try:
            fits = np.broadcast_shapes(tuple(self.shape), product_shape) == product_shape
        except ValueError:
            fits = False
        if not fits:
            raise shapes_error(op, self.shape, product_shape, why="do not match: self must broadcast to the product's")
        if not self._data.dtype == a._data.dtype == b._data.dtype:
            raise RuntimeError(f"{op}: expected self, and both operands to have one dtype, got {self.dtype}, {a.dtype} "
                               f"and {b.dtype}")
        return fn.apply(self, a, b, _item(beta), _item(alpha))

    def outer(self, vec2):
        """self_i * vec2_j for two vectors (torch's own composite: a column times a row)."""
        if self.ndim != 1 or not isinstance(vec2, TensorBase) or vec2.ndim != 1:
            raise RuntimeError(f"outer: expected two 1-D tensors, got {self.ndim}-D and "
                               f"{getattr(vec2, 'ndim', type(vec2).__name__)}-D")
        return self.reshape(-1, 1) * vec2

    ger = outer

    def kron(self, other):
        """The Kronecker product: block (i, j, ...) of the result is self[i, j, ...] * other, for
        operands of any dims (the fewer padded with leading ones)."""
        nd = max(self.ndim, other.ndim)
        a = self.reshape((1,) * (nd - self.ndim) + tuple(self.shape))
        b = other.reshape((1,) * (nd - other.ndim) + tuple(other.shape))
        spread_a = a.reshape(tuple(s for n in a.shape for s in (n, 1)))
        spread_b = b.reshape(tuple(s for n in b.shape for s in (1, n)))
        return (spread_a * spread_b).reshape(tuple(m * n for m, n in zip(a.shape, b.shape)))

    # ---- in-place ---------------------------------------------------------------------------
    # torch's rules (refused on a leaf that requires grad, recorded in the graph when something
    # requires grad, the version bumped) are inplace.py's; these methods say what each op computes.

    def _update(self, op, ufunc, other, alpha, out_of_place, keep_old):
        """self = ufunc(self, other * alpha) in place; torch's rule: the result must be castable
        to self's dtype (no float into an int tensor), and other must broadcast to self's shape.
        Recorded as `out_of_place(old)` when it joins the graph; `keep_old`: its backward needs
        self's old values."""
        check_inplace(self, op)
        if records(self, other):
            return modify(self, op, out_of_place, keep_old)
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
            raise shapes_error(op, _shape_of(other) if isinstance(other, TensorBase) else np.shape(o), self.shape,
                               why="do not match for an in-place op (other must broadcast to self)") from None
        bump(self._data)
        return self

    def _replace(self, op, values, mask=None):
        """self <- values (an array, scalar or Tensor broadcast to self's shape), where `mask`
        (a boolean array) if given, in place. In the graph: where(mask, values, old), so old's
        gradient is zero where values went."""
        check_inplace(self, op)
        if records(self, values):
            new = values if isinstance(values, TensorBase) else self._wrap(array_module(self._data).asarray(values))
            if new.ndim > self.ndim:  # leading dims of 1 go, as torch's copy into a slice drops them
                new = new.reshape(new.shape[new.ndim - self.ndim:])
            cond = array_module(self._data).ones((), dtype=bool) if mask is None else mask
            return modify(self, op, lambda old: E.Where.apply(cond, _cast(new, self._data.dtype), old), keep_old=False)
        raw = values._data if isinstance(values, TensorBase) else values
        if mask is not None:
            raw = array_module(self._data).where(mask, raw, self._data)
        write(self, op, raw)
        return self

    def _apply_in_place(self, op, out_of_place, *operands):
        """self <- out_of_place(self) in place, for any op (exp_, clamp_, ...)."""
        check_inplace(self, op)
        if records(self, *operands):
            return modify(self, op, out_of_place)
        with no_grad():
            result = out_of_place(self)
        write(self, op, result._data)
        return self

    def add_(self, other, alpha=1):
        return self._update("add_", "add", other, alpha, lambda old: old.add(other, alpha=alpha), keep_old=False)

    def sub_(self, other, alpha=1):
        return self._update("sub_", "subtract", other, alpha, lambda old: old.sub(other, alpha=alpha), keep_old=False)

    def mul_(self, other):
        return self._update("mul_", "multiply", other, 1, lambda old: old * other, keep_old=_requires_grad(other))

    def div_(self, other):
        return self._update("div_", "true_divide", other, 1, lambda old: old / other, keep_old=False)

    def pow_(self, other):
        return self._update("pow_", "power", other, 1, lambda old: old ** other, keep_old=True)

    __iadd__, __isub__, __imul__, __itruediv__ = add_, sub_, mul_, div_

    def clamp_(self, min=None, max=None):
        return self._apply_in_place("clamp_", lambda old: old.clamp(min, max), min, max)

    def zero_(self):
        return self._replace("zero_", array_module(self._data).zeros((), dtype=self._data.dtype))

    def fill_(self, value):
        if isinstance(value, TensorBase) and value._data.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value._data.ndim} dimensions.")
        if not isinstance(value, TensorBase):
            value = array_module(self._data).asarray(value, dtype=self._data.dtype)
        return self._replace("fill_", value)

    def copy_(self, src, non_blocking=False):
        if isinstance(src, TensorBase):
            if src.device != self.device:
                src = src.to(self.device)
            return self._replace("copy_", src)
        return self._replace("copy_", array_module(self._data).asarray(src))

    def masked_fill_(self, mask, value):
        return self._replace("masked_fill_", value if isinstance(value, TensorBase) else _item(value),
                             _raw(mask, self, "masked_fill_"))


def _requires_grad(x):
    return isinstance(x, TensorBase) and x.requires_grad


_quiet_binary = quiet(_binary)  # pow: 0 ** -1 = inf and (-8) ** (1/3) = nan, without NumPy's warnings


def _bitwise(ufunc, a, b, name):
    """A bitwise op of integer or bool operands; floating ones are refused as torch refuses them."""
    try:
        return _raw_binary(ufunc, a, b, name)
    except TypeError:
        if any(isinstance(v, float) or isinstance(v, TensorBase) and v._data.dtype.kind in "fV" for v in (a, b)):
            raise NotImplementedError(f"{name}: not implemented for floating-point operands "
                                      f"({_operand_names(a)} and {_operand_names(b)})") from None
        raise


def _operand_names(v):
    return f"a {v.dtype} tensor" if isinstance(v, TensorBase) else f"{type(v).__name__} {v!r}"


def _rounded_division(fn, a, b, name):
    """fn (E.FloorDivide, E.Remainder or E.TruncDivide) of a and b with torch's promotion; a tensor
    and a Python number that leave its dtype as it is (int with an int tensor, any number with a
    floating one) go straight to fn, skipping _binary's promotion."""
    t, v = (a, b) if isinstance(a, TensorBase) else (b, a)
    kind = t._data.dtype.kind
    if type(v) is int and kind in "iu" or type(v) in (int, float) and kind in "fV":
        return fn.apply(a, b)
    return _binary(fn, a, b, name)


@autocast.policy("matmul")
def matmul(a, b):
    if not isinstance(a, TensorBase) or not isinstance(b, TensorBase):
        raise TypeError(f"matmul: expected Tensors, got {type(a).__name__} and {type(b).__name__}")
    L.check_matmul_shapes(a._data.shape, b._data.shape)
    _same_device("matmul", a, b)
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"matmul: expected both tensors to have the same dtype, but got {a.dtype} and {b.dtype}")
    return L.MatMul.apply(a, b)
