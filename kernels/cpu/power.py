"""a ** b for a float array a and a Python-number exponent b, forward and backward, on the CPU with
Numba: the cases where NumPy needs several passes over memory (and a temporary per pass) and one
loop does it.

The oracle is kernels/numpy/power.py; each product here is rounded in its order (compiled without
fast-math), so the results are its bits:

    power(a, 3)              (a a) a                       NumPy: two passes
    power_backward(g, a, 2)  g * (2 a)                     NumPy: three passes
    power_backward(g, a, 3)  g * (3 (a a))                 NumPy: three passes

Every other exponent goes to the oracle (torch's other shortcuts are one NumPy pass already:
a a, 1 / a, sqrt a; the rest by repeated squaring or NumPy's power).
"""
import numpy as np
from numba import njit, prange

from ..numpy import power as oracle
from .threads import use_threads_for


@njit(parallel=True, cache=True)
def _cube(a, out):
    for i in prange(a.shape[0]):
        out[i] = a[i] * a[i] * a[i]


@njit(parallel=True, cache=True)
def _square_backward(g, a, dx):
    two = a.dtype.type(2)
    for i in prange(a.shape[0]):
        dx[i] = g[i] * (two * a[i])


@njit(parallel=True, cache=True)
def _cube_backward(g, a, dx):
    three = a.dtype.type(3)
    for i in prange(a.shape[0]):
        dx[i] = g[i] * (three * (a[i] * a[i]))


def _flat(x):
    return np.ascontiguousarray(x).reshape(-1)


def power(a, b):
    if b != 3:
        return oracle.power(a, b)
    out = np.empty(a.shape, a.dtype)
    use_threads_for(a.size)
    _cube(_flat(a), out.reshape(-1))
    return out


def power_backward(g, a, b):
    kernel = {2: _square_backward, 3: _cube_backward}.get(b)
    if kernel is None:
        return oracle.power_backward(g, a, b)
    dx = np.empty(a.shape, a.dtype)
    use_threads_for(a.size)
    kernel(_flat(g), _flat(a), dx.reshape(-1))
    return dx
