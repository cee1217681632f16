"""Host-side helpers shared by the CUDA launchers: the launch itself, array module, row views,
block sizes."""
import functools
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


def check_block_size(op, block_size, power_of_two=False, largest=1024):
    """Threads per block: a multiple of the 32-lane warp, at most `largest` (1024, or less for a
    kernel whose registers per thread allow fewer), and a power of two if asked."""
    ok = isinstance(block_size, int) and 32 <= block_size <= largest and block_size % 32 == 0
    if power_of_two:
        ok = ok and block_size & (block_size - 1) == 0
    if not ok:
        kind = "a power of two" if power_of_two else "a multiple of 32"
        raise ValueError(f"{op}: block_size must be {kind} in [32, {largest}], got {block_size!r}")


def launch(kernel, grid, block, *args):
    """kernel[grid, block](*args), on CuPy's current stream when the arrays are CuPy's.

    Handed a CuPy array, Numba reads its __cuda_array_interface__ and, by default, synchronises
    the stream named there before the launch: the host waits for all the GPU work queued so far,
    at every launch. Launching on that same stream keeps the order of CuPy's work and the
    kernel without the wait, so the arrays are taken with sync=False.
    """
    if not any(hasattr(a, "__cuda_array_interface__") for a in args):  # NumPy arrays: the simulator
        kernel[grid, block](*args)
        return
    from numba import cuda
    import cupy
    views = [cuda.as_cuda_array(a, sync=False) if hasattr(a, "__cuda_array_interface__") else a for a in args]
    kernel[grid, block, _numba_stream(cupy.cuda.get_current_stream().ptr)](*views)


@functools.lru_cache(maxsize=16)
def _numba_stream(pointer):
    """Numba's handle on the CUDA stream at `pointer` (0: the legacy default stream, CuPy's default)."""
    from numba import cuda
    return cuda.external_stream(pointer) if pointer else cuda.default_stream()
