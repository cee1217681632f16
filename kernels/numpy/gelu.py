"""GPT-2's GELU (the tanh form), forward and backward, in NumPy (or CuPy) over cache-sized blocks.

    gelu_forward(x)                      -> x a,  a = (1 + tanh u) / 2,  u = k x (1 + c x^2)
    gelu_backward(dout, x)               -> dout a (1 + 2 (1 - a) x k (1 + 3 c x^2))
    gelu_backward_and_forward_(dout, x)  -> (dx written over dout, GELU(x)): one gate for both

k = sqrt(2 / pi), c = 0.044715 (kernels/reference.py derives the backward). Only x is needed:
the backward recomputes the gate a rather than keeping an array of x's size from the forward.
Each pass runs in place over blocks that stay in cache.
"""
from ..reference import GELU_C, GELU_K
from ..shapes import check_gelu_backward, check_gelu_forward
from .arrays import array_module, row_blocks


def gelu_forward(x):
    check_gelu_forward("gelu_forward", x)
    xp = array_module(x)
    flat_x = xp.ascontiguousarray(x).reshape(-1)
    y = xp.empty(x.shape, x.dtype)
    flat_y = y.reshape(-1)
    for part, _ in row_blocks(flat_x.size, (), xp):
        tanh_gate(flat_x[part], flat_y[part])
        flat_y[part] *= flat_x[part]
    return y


def gelu_backward(dout, x):
    check_gelu_backward("gelu_backward", dout, x)
    xp = array_module(x)
    dx = xp.empty(x.shape, x.dtype)
    _backward_into(xp.ascontiguousarray(dout).reshape(-1), xp.ascontiguousarray(x).reshape(-1), dx.reshape(-1))
    return dx


def gelu_backward_and_forward_(dout, x):
    """(dx, y): the backward written over dout (C-contiguous), and y = GELU(x) from the same gates."""
    check_gelu_backward("gelu_backward_and_forward_", dout, x)
    if not dout.flags.c_contiguous:
        raise ValueError(f"gelu_backward_and_forward_: dout {dout.shape} must be C-contiguous (written in place)")
    xp = array_module(x)
    y = xp.empty(x.shape, x.dtype)
    _backward_into(dout.reshape(-1), xp.ascontiguousarray(x).reshape(-1), dout.reshape(-1), y.reshape(-1))
    return dout, y


def _backward_into(g, x, dx, y=None):
    """dx = g GELU'(x) over blocks (dx may be g itself); y = GELU(x) too when given."""
    xp = array_module(x)
    for part, (gate, slope, scratch) in row_blocks(x.size, (), xp, x.dtype, 3):
        tanh_gate(x[part], gate)
        if y is not None:
            xp.multiply(x[part], gate, out=y[part])
        tanh_slope(x[part], gate, slope, scratch)
        xp.multiply(g[part], slope, out=dx[part])


def tanh_gate(x, a):
    """a = (1 + tanh(k x (1 + c x^2))) / 2, in place into a."""
    xp = array_module(x)
    xp.multiply(x, x, out=a)
    a *= GELU_C * GELU_K
    a += GELU_K
    a *= x
    xp.tanh(a, out=a)
    a *= 0.5
    a += 0.5


def tanh_slope(x, a, out, scratch):
    """out = a (1 + 2 (1 - a) x k (1 + 3 c x^2)) = GELU'(x); scratch is shaped like x."""
    xp = array_module(x)
    xp.multiply(x, x, out=out)
    out *= 6 * GELU_C * GELU_K
    out += 2 * GELU_K
    out *= x
    xp.subtract(1, a, out=scratch)
    out *= scratch
    out += 1
    out *= a
