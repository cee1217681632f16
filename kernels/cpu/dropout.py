"""Dropout's product by its noise, x * (scale where keep, else 0), in one pass with Numba (float32).

The NumPy entry (kernels/numpy/dropout.py, the definition) writes the noise keep * scale to a
temporary and multiplies: two passes. This reads x and keep once and writes the product once, with
the same float32 product per element (x * 0 where dropped: inf and NaN give NaN). In parallel when
the array fills more than one thread (threads.py).
"""
import numpy as np
from numba import njit, prange

from ..shapes import check_masked_scale
from .threads import use_threads_for


@njit(parallel=True, cache=True)
def _masked_scale(x, keep, scale, out):
    zero = np.float32(0)
    for i in prange(x.shape[0]):
        out[i] = x[i] * (scale if keep[i] else zero)


def masked_scale(x, keep, scale):
    """x * (scale where keep, else 0), C-contiguous, of x's shape."""
    check_masked_scale("masked_scale", x, keep)
    x, keep = np.ascontiguousarray(x), np.ascontiguousarray(keep)
    out = np.empty_like(x)
    use_threads_for(x.size)
    _masked_scale(x.reshape(-1), keep.reshape(-1), np.float32(scale), out.reshape(-1))
    return out
