"""GPT-2's GELU (the tanh approximation), forward and backward, on the GPU with Numba-CUDA.

Versions (each validated against kernels.reference before it is timed):
  forward v1   one thread per element, one read and one write: out = x (1 + tanh u) / 2,
               u = k (x + c x^3)
  backward v1  one thread per element: the gate recomputed from x, times the slope and dout
One kernel in place of the seven (forward) and ten (backward) elementwise passes the same
formulas take as CuPy array expressions. Launchers take CuPy arrays (or NumPy arrays under
NUMBA_ENABLE_CUDASIM=1) and a block size. `gelu_forward` and `gelu_backward` are v1.
"""
import math

from numba import cuda, float32

from ..reference import GELU_C, GELU_K
from ..shapes import check_gelu_backward, check_gelu_forward
from .launch import array_module, cdiv, check_block_size, launch


@cuda.jit(device=True, inline=True)
def _gate(x):
    """a = (1 + tanh u) / 2 with u = k x (1 + c x^2)."""
    return float32(0.5) + float32(0.5) * math.tanh(float32(GELU_K) * x * (float32(1) + float32(GELU_C) * x * x))


@cuda.jit(fastmath=True, cache=True)
def _forward_v1(x, out):
    i = cuda.grid(1)
    if i < x.shape[0]:
        out[i] = x[i] * _gate(x[i])


@cuda.jit(fastmath=True, cache=True)
def _backward_v1(dout, x, dx):
    i = cuda.grid(1)
    if i < x.shape[0]:
        xi = x[i]
        a = _gate(xi)
        slope = float32(2) * (float32(1) - a) * xi * float32(GELU_K) * (float32(1) + float32(3 * GELU_C) * xi * xi)
        dx[i] = dout[i] * a * (float32(1) + slope)


def _flat(xp, a):
    return xp.ascontiguousarray(a).reshape(-1)


def gelu_forward_v1(x, block_size=256):
    """GELU (tanh form) of x, any shape: one thread per element."""
    check_gelu_forward("gelu_forward", x)
    check_block_size("gelu_forward", block_size)
    xp = array_module(x)
    out = xp.empty(x.shape, x.dtype)
    if x.size:
        launch(_forward_v1, cdiv(x.size, block_size), block_size, _flat(xp, x), out.reshape(-1))
    return out


def gelu_backward_v1(dout, x, block_size=256):
    """dx of GELU (tanh form) for dout and x of one shape: one thread per element."""
    check_gelu_backward("gelu_backward", dout, x)
    check_block_size("gelu_backward", block_size)
    xp = array_module(x)
    dx = xp.empty(x.shape, x.dtype)
    if x.size:
        launch(_backward_v1, cdiv(x.size, block_size), block_size, _flat(xp, dout), _flat(xp, x), dx.reshape(-1))
    return dx


gelu_forward = gelu_forward_v1
gelu_backward = gelu_backward_v1
