"""Elementwise Functions: arithmetic with broadcasting, unary math, comparisons, where.

Each backward is the local derivative times the incoming gradient; the engine sums broadcast
gradients back to each input's shape, so these never have to. Forwards that turn finite inputs
into inf or nan (log(0), 0/0, exp(1000)) run `quiet`: torch gives those without a warning.
"""
import numpy as np

from .. import backends
from ..autograd import Function, unbroadcast
from ..device import array_module
from .quiet import quiet


class Add(Function):
    """y = a + b;  dy/da = 1, dy/db = 1."""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    """y = a - b;  dy/da = 1, dy/db = -1 (negated after reducing to b's shape: fewer elements)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.b_shape = np.shape(b)
        return a - b

    @staticmethod
    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        return g, (-unbroadcast(g, ctx.b_shape) if need_b else None)


class Mul(Function):
    """y = a * b;  dy/da = b, dy/db = a (yielded one at a time: one temporary alive, not two)."""

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad
        ctx.a, ctx.b = (a if need_b else None), (b if need_a else None)
        return a * b

    @staticmethod
    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        yield g * ctx.b if need_a else None
        yield g * ctx.a if need_b else None


class Div(Function):
    """y = a / b;  dy/da = 1/b, dy/db = -a/b^2 = -y/b (negated after reducing to b's shape)."""

    @staticmethod
    @quiet
    def forward(ctx, a, b):
        out = a / b
        ctx.b, ctx.out = b, out
        return out

    @staticmethod
    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        g_over_b = g / ctx.b
        gb = -unbroadcast(g_over_b * ctx.out, np.shape(ctx.b)) if need_b else None
        return (g_over_b if need_a else None), gb


def _rounded_division(name, op, compute, doc):
    """A not differentiable Function y = compute(xp, a, b) of two operands of one dtype (one may be
    a Python scalar), torch's `op`: bool operands are refused, an integer division by zero raises
    torch's ZeroDivisionError (NumPy would give 0), a floating one gives inf or nan without a warning."""

    quiet_compute = quiet(compute)

    def forward(ctx, a, b):
        array = a if hasattr(a, "dtype") else b
        kind = array.dtype.kind
        if kind == "b":
            raise NotImplementedError(f"{op}: not implemented for 'Bool' tensors")
        if kind in "iu":
            if (b == 0 and a.size) if type(b) is int else (b == 0).any():
                raise RuntimeError(f"ZeroDivisionError: {op} of an integer tensor by zero")
            if type(b) is int and b != -1:  # nothing can overflow (only the smallest integer // -1 does)
                return compute(array_module(array), a, b)
        return quiet_compute(array_module(array), a, b)

    return type(name, (Function,), {"forward": staticmethod(forward), "differentiable": False, "__doc__": doc})


def _truncated(xp, a, b):
    if (a if hasattr(a, "dtype") else b).dtype.kind in "fV":
        return xp.trunc(a / b)
    return (a - xp.fmod(a, b)) // b  # exact, where trunc(a / b) in float64 rounds integers beyond 2**53


FloorDivide = _rounded_division("FloorDivide", "floor_divide", lambda xp, a, b: xp.floor_divide(a, b),
                                "y = floor(a / b)")
Remainder = _rounded_division("Remainder", "remainder", lambda xp, a, b: xp.remainder(a, b), "y = a - b floor(a / b)")
TruncDivide = _rounded_division("TruncDivide", "div(rounding_mode='trunc')", _truncated,
                                "y = trunc(a / b), rounded toward zero")


class Pow(Function):
    """y = a ** b;  dy/da = b a^(b-1), dy/db = y ln a (a or b may be a Python scalar).

    A float tensor to a Python-number power runs the kernels power and power_backward: torch's
    shortcuts (a a for 2, a a a for 3, sqrt for 0.5, ...) and torch's backward, g * (b * a^(b-1))
    with the same shortcuts for a^(b-1). y is kept only when b is a tensor, which needs it.
    """

    @staticmethod
    def forward(ctx, a, b):  # run quiet by the Tensor's __pow__
        scalar_power = type(b) in (int, float) and a.dtype.kind in "fV"
        out = backends.kernel("power", a)(a, b) if scalar_power else a ** b
        ctx.a, ctx.b, ctx.scalar_power = a, b, scalar_power
        ctx.out = out if ctx.needs_input_grad[1] else None
        return out

    @staticmethod
    @quiet
    def backward(ctx, g):
        need_a, need_b = ctx.needs_input_grad
        a, b = ctx.a, ctx.b
        ga = gb = None
        if need_a:
            ga = backends.kernel("power_backward", g)(g, a, b) if ctx.scalar_power else g * b * a ** (b - 1)
        if need_b:
            xp = array_module(ctx.out)
            gb = g * ctx.out * xp.log(a)
        return ga, gb


class Maximum(Function):
    """y = max(a, b); the gradient goes to the larger input, split in half on ties (as torch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return array_module(a).maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        return _split_by_comparison(g, ctx.a, ctx.b, ctx.needs_input_grad)


class Minimum(Function):
    """y = min(a, b); the gradient goes to the smaller input, split in half on ties."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.a, ctx.b = a, b
        return array_module(a).minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        return _split_by_comparison(g, ctx.b, ctx.a, ctx.needs_input_grad)


def _split_by_comparison(g, winner, loser, needs):
    tie = (winner == loser) * 0.5
    ga = g * ((winner > loser) + tie).astype(g.dtype) if needs[0] else None
    gb = g * ((winner < loser) + tie).astype(g.dtype) if needs[1] else None
    return ga, gb


class Where(Function):
    """y = cond ? a : b;  dy/da = cond, dy/db = not cond (`op`: "MaskedFill" for masked_fill)."""

    @staticmethod
    def forward(ctx, cond, a, b, op="Where"):
        ctx.cond, ctx.op = cond, op
        return array_module(cond).where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        _, need_a, need_b = ctx.needs_input_grad
        xp = array_module(g)
        zero = g.dtype.type(0)
        return (None, (xp.where(ctx.cond, g, zero) if need_a else None), (xp.where(ctx.cond, zero, g) if need_b else None),
                None)


class Clamp(Function):
    """y = min(max(x, lo), hi);  dy/dx = 1 where lo <= x <= hi, else 0 (torch's convention)."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = array_module(x)
        ctx.x, ctx.lo, ctx.hi = x, lo, hi
        out = x
        if lo is not None:
            out = xp.maximum(out, lo)
        if hi is not None:
            out = xp.minimum(out, hi)
        return out if out is not x else x.copy()

    @staticmethod
    def backward(ctx, g):
        x, lo, hi = ctx.x, ctx.lo, ctx.hi
        mask = True
        if lo is not None:
            mask = x >= lo
        if hi is not None:
            mask = mask & (x <= hi)
        return g * mask, None, None


def _unary(name, forward, derivative, doc, saves="x", silent=False):
    """Build a one-input Function from y = forward(xp, x) and dy/dx = derivative(xp, x, y).

    `saves` says what the derivative reads, so only that is kept alive for backward; `silent`:
    forward runs `quiet` (it gives inf or nan for some inputs, as torch does, without a warning).
    """

    keep_x, keep_y = "x" in saves, "y" in saves

    def fwd(ctx, x):
        out = forward(array_module(x), x)
        if keep_x:
            ctx.x = x
        if keep_y:
            ctx.out = out
        return out

    def bwd(ctx, g):
        return g * derivative(array_module(g), ctx.x if keep_x else None, ctx.out if keep_y else None)

    forward_fn = quiet(fwd) if silent else fwd
    return type(name, (Function,), {"forward": staticmethod(forward_fn), "backward": staticmethod(bwd), "__doc__": doc})


Neg = _unary("Neg", lambda xp, x: -x, lambda xp, x, y: -1, "y = -x; dy/dx = -1", saves="")
Exp = _unary("Exp", lambda xp, x: xp.exp(x), lambda xp, x, y: y, "y = e^x; dy/dx = y", saves="y", silent=True)
Log = _unary("Log", lambda xp, x: xp.log(x), lambda xp, x, y: 1 / x, "y = ln x; dy/dx = 1/x", silent=True)
Log2 = _unary("Log2", lambda xp, x: xp.log2(x), lambda xp, x, y: 1 / (x * np.log(2)), "y = log2 x; dy/dx = 1/(x ln 2)",
              silent=True)
Log10 = _unary("Log10", lambda xp, x: xp.log10(x), lambda xp, x, y: 1 / (x * np.log(10)),
               "y = log10 x; dy/dx = 1/(x ln 10)", silent=True)
Log1p = _unary("Log1p", lambda xp, x: xp.log1p(x), lambda xp, x, y: 1 / (1 + x), "y = ln(1+x); dy/dx = 1/(1+x)",
               silent=True)
Sqrt = _unary("Sqrt", lambda xp, x: xp.sqrt(x), lambda xp, x, y: 0.5 / y, "y = sqrt x; dy/dx = 1/(2y)", saves="y",
              silent=True)
Rsqrt = _unary("Rsqrt", lambda xp, x: 1 / xp.sqrt(x), lambda xp, x, y: -0.5 * y * y * y,
               "y = x^(-1/2); dy/dx = -y^3/2", saves="y", silent=True)
Abs = _unary("Abs", lambda xp, x: xp.abs(x), lambda xp, x, y: xp.sign(x), "y = |x|; dy/dx = sign x (0 at 0)")
Sin = _unary("Sin", lambda xp, x: xp.sin(x), lambda xp, x, y: xp.cos(x), "y = sin x; dy/dx = cos x", silent=True)
Cos = _unary("Cos", lambda xp, x: xp.cos(x), lambda xp, x, y: -xp.sin(x), "y = cos x; dy/dx = -sin x", silent=True)
Tanh = _unary("Tanh", lambda xp, x: xp.tanh(x), lambda xp, x, y: 1 - y * y, "y = tanh x; dy/dx = 1 - y^2", saves="y")
Relu = _unary("Relu", lambda xp, x: xp.maximum(x, x.dtype.type(0)), lambda xp, x, y: y > 0,
              "y = max(x, 0); dy/dx = [x > 0]", saves="y")


def _sigmoid(xp, x):
    """1/(1+e^-x) computed without overflow: e^-|x| never exceeds 1."""
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


Sigmoid = _unary("Sigmoid", _sigmoid, lambda xp, x, y: y * (1 - y), "y = 1/(1+e^-x); dy/dx = y(1-y)", saves="y")


class Cast(Function):
    """Change dtype; the gradient is cast back to the input's dtype by the engine. A float that
    does not fit the new dtype becomes what torch makes of it (inf, or an unspecified integer),
    without NumPy's warning."""

    @staticmethod
    def forward(ctx, x, dtype):
        if x.dtype.kind in "fV" and not (dtype.kind in "fV" and dtype.itemsize >= x.dtype.itemsize):
            return _quiet_astype(x, dtype)
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return g, None


@quiet
def _quiet_astype(x, dtype):
    return x.astype(dtype)


class Copy(Function):
    """A copy of x (contiguous, C order); identity gradient."""

    @staticmethod
    def forward(ctx, x):
        return array_module(x).ascontiguousarray(x) if not x.flags.c_contiguous else x.copy()

    @staticmethod
    def backward(ctx, g):
        return g


class ToDevice(Function):
    """Move between NumPy and CuPy; the gradient moves back."""

    @staticmethod
    def forward(ctx, x, xp_to):
        ctx.back = array_module(x)
        return _transfer(x, xp_to)

    @staticmethod
    def backward(ctx, g):
        return _transfer(g, ctx.back), None


def _transfer(a, xp_to):
    if array_module(a) is xp_to:
        return a
    if xp_to is np:
        return a.get()
    return xp_to.asarray(a)
