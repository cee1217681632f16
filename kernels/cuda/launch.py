"""Host-side helpers shared by the CUDA launchers: array module, row views, block sizes."""
import math

import numpy as np


def array_module(x):
    """cupy for arrays on the GPU (anything with __cuda_array_interface__), numpy otherwise.

    NumPy arrays are for the simulator (NUMBA_ENABLE_CUDASIM=1); on a real GPU Numba copies
    them to the device and back at every launch.
    """
    if hasattr(x, "__cuda_array_interface__"):
        import cupy
        return cupy
    return np


def as_rows(xp, x):
    """x (..., C) as a C-contiguous (rows, C) array."""
    return xp.ascontiguousarray(x).reshape(math.prod(x.shape[:-1]), x.shape[-1])


def cdiv(a, b):
    return -(-a // b)


def check_block_size(op, block_size, power_of_two=False):
    """Threads per block: a multiple of the 32-lane warp, at most 1024 (and a power of two)."""
    ok = isinstance(block_size, int) and 32 <= block_size <= 1024 and block_size % 32 == 0
    if power_of_two:
        ok = ok and block_size & (block_size - 1) == 0
    if not ok:
        kind = "a power of two" if power_of_two else "a multiple of 32"
        raise ValueError(f"{op}: block_size must be {kind} in [32, 1024], got {block_size!r}")
