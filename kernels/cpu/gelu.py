"""GPT-2's GELU (the tanh approximation), forward and backward, on the CPU with Numba.

Versions (each validated against kernels.reference before it is timed):
  forward v1   the oracle's formula element by element with libm tanh; serial
  forward v2   one pass, vectorized: (1 + tanh u) / 2 is sigmoid(2u) = 1 / (1 + exp(-2u)), and
               the float32 exp of vectormath vectorizes where libm tanh does not; in parallel
  backward v1  the oracle's formula element by element; serial
  backward v2  one pass recomputing a = sigmoid(2u) from x (nothing but x is kept from the
               forward pass), vectorized, in parallel
NumPy needs seven passes over the array for the forward and ten for the backward, each a
read and a write of memory; these need one. The v2 loops are prange loops over the elements
themselves: Numba hands a parallel loop's arrays to LLVM as not aliasing one another, which
is what lets it vectorize them (the same loop under range() stays scalar, 7x slower).
`gelu_forward` is v2 and `gelu_backward` is v2.

`gelu_backward_and_forward_` is v2's
backward that also writes the GELU itself, for an op that keeps x alone and recomputes the
activation in its backward (nn/fused_layers.GELULinear): the gate a it needs is already there.
"""
import numpy as np
from numba import njit, prange

from ..reference import GELU_C, GELU_K
from ..shapes import check_gelu_backward, check_gelu_forward
from .target import FASTMATH
from .threads import use_threads_for
from .vectormath import exp


@njit(cache=True)
def _forward_v1(x, out):
    for i in range(x.shape[0]):
        out[i] = x[i] * (1 + np.tanh(GELU_K * (x[i] + GELU_C * x[i] ** 3))) / 2


@njit(cache=True)
def _backward_v1(dout, x, dx):
    for i in range(x.shape[0]):
        a = (1 + np.tanh(GELU_K * (x[i] + GELU_C * x[i] ** 3))) / 2
        dx[i] = dout[i] * a * (1 + 2 * (1 - a) * x[i] * GELU_K * (1 + 3 * GELU_C * x[i] ** 2))


@njit(fastmath=FASTMATH, inline="always")
def _gate(x, one, k, c):
    """a = sigmoid(2u) = (1 + tanh u) / 2, u = k x (1 + c x^2), in the dtype of x."""
    return one / (one + exp(-(k + k) * x * (one + c * x * x)))


@njit(fastmath=FASTMATH, parallel=True, cache=True)
def _forward_v2(x, out):
    one, k, c = x.dtype.type(1), x.dtype.type(GELU_K), x.dtype.type(GELU_C)
    for i in prange(x.shape[0]):
        out[i] = x[i] * _gate(x[i], one, k, c)


@njit(fastmath=FASTMATH, parallel=True, cache=True)
def _backward_v2(dout, x, dx):
    one, k, c = x.dtype.type(1), x.dtype.type(GELU_K), x.dtype.type(GELU_C)
    two, three = x.dtype.type(2), x.dtype.type(3)
    for i in prange(x.shape[0]):
        xi = x[i]
        a = _gate(xi, one, k, c)
        dx[i] = dout[i] * a * (one + two * (one - a) * xi * k * (one + three * c * xi * xi))


@njit(fastmath=FASTMATH, parallel=True, cache=True)
def _backward_and_forward(dout, x, dx, y):
    one, k, c = x.dtype.type(1), x.dtype.type(GELU_K), x.dtype.type(GELU_C)
    two, three = x.dtype.type(2), x.dtype.type(3)
    for i in prange(x.shape[0]):
        xi = x[i]
        a = _gate(xi, one, k, c)
        y[i] = xi * a
        dx[i] = dout[i] * a * (one + two * (one - a) * xi * k * (one + three * c * xi * xi))


def _flat(a):
    return np.ascontiguousarray(a).reshape(-1)


def _forward(kernel, x):
    check_gelu_forward("gelu_forward", x)
    out = np.empty(x.shape, x.dtype)
    use_threads_for(x.size)
    kernel(_flat(x), out.reshape(-1))
    return out


def _backward(kernel, dout, x):
    check_gelu_backward("gelu_backward", dout, x)
    dx = np.empty(x.shape, x.dtype)
    use_threads_for(x.size)
    kernel(_flat(dout), _flat(x), dx.reshape(-1))
    return dx


def gelu_forward_v1(x):
    """GELU (tanh form) of x, any shape: libm tanh per element, serial."""
    return _forward(_forward_v1, x)


def gelu_forward_v2(x):
    """GELU (tanh form) of x, any shape: one vectorized pass, in parallel."""
    return _forward(_forward_v2, x)


def gelu_backward_v1(dout, x):
    """dx of GELU (tanh form) for dout and x of one shape: per element, serial."""
    return _backward(_backward_v1, dout, x)


def gelu_backward_v2(dout, x):
    """dx of GELU (tanh form): one vectorized pass recomputing the gate, in parallel."""
    return _backward(_backward_v2, dout, x)


gelu_forward = gelu_forward_v2
gelu_backward = gelu_backward_v2


def gelu_backward_and_forward_(dout, x):
    """(dx, y): the GELU backward for dout and x of one shape, written over dout (contiguous),
    and y = GELU(x), from one pass that computes each gate once."""
    check_gelu_backward("gelu_backward_and_forward_", dout, x)
    if not dout.flags.c_contiguous:
        raise ValueError(f"gelu_backward_and_forward_: dout {dout.shape} must be C-contiguous (written in place)")
    y = np.empty(x.shape, x.dtype)
    use_threads_for(x.size)
    _backward_and_forward(dout.reshape(-1), _flat(x), dout.reshape(-1), y.reshape(-1))
    return dout, y
