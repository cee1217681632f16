"""Random number generation with torch's streams: one default Generator per device.

A CPU generator is torch's: the MT19937 engine (mt19937.py) seeded as torch seeds it, and torch's
transformations from its 32- and 64-bit words to uniforms, normals, integers, permutations,
Bernoulli and exponential draws (cpu_generator.py), so `manual_seed(s)` followed by the same
calls gives torch's numbers, and the state is torch's 5056-byte layout (cpu_state.py). A CUDA
generator draws from CuPy's Philox (cuda_generator.py). As in torch, the default seed is fixed,
so a script without `manual_seed` is still reproducible.

Generators work on raw arrays: every draw returns a new NumPy (or CuPy) array in C order, which
callers lay out in the order torch fills a tensor (layout.py), and `get_state` returns the state
as a uint8 array (tinytorch.get_rng_state wraps it in a tensor, as torch returns a ByteTensor).
Float32 normals and bounded uniforms reproduce the rounding of torch's x86 AVX2 kernels
(kernels/numpy/avx_mathfun.py and fused_multiply_add.py, with a Numba twin in kernels/cpu/normal.py),
which AVX-512 machines run too.
"""
import ml_dtypes
import numpy as np

from ..device import device as _device
from .cpu_generator import CPUGenerator
from .cuda_generator import CUDAGenerator


_BFLOAT16 = np.dtype(ml_dtypes.bfloat16)


def _require_floating(op, dtype):
    if np.dtype(dtype).kind != "f" and np.dtype(dtype) != _BFLOAT16:
        raise NotImplementedError(f'"{op}" not implemented for dtype {np.dtype(dtype).name} (it needs a floating one)')


class Generator:
    """torch.Generator: `Generator().manual_seed(2147483647)` gives an independent stream.

    The draws (`uniform`, `normal`, `integers`, `random`, `permutation`, `bernoulli`,
    `exponential`) take a shape and a NumPy dtype and return a new array; see CPUGenerator."""

    def __init__(self, device="cpu"):
        self.device = _device(device)
        self._impl = CPUGenerator() if self.device.type == "cpu" else CUDAGenerator(self.device)

    def manual_seed(self, seed):
        self._impl.manual_seed(seed)
        return self

    def initial_seed(self):
        return self._impl.initial_seed()

    def seed(self):
        return self._impl.seed()

    def get_state(self):
        """The state as a uint8 array (CPU: torch's 5056-byte layout)."""
        return self._impl.get_state()

    def set_state(self, new_state):
        """Restore a state from `get_state` (a uint8 array, tensor, or torch ByteTensor)."""
        self._impl.set_state(new_state)
        return self

    def uniform(self, shape, dtype, low=0.0, high=1.0):
        _require_floating("uniform_", dtype)
        return self._impl.uniform(shape, dtype, low, high)

    def normal(self, shape, dtype, mean=0.0, std=1.0, contiguous=True):
        _require_floating("normal_", dtype)
        return self._impl.normal(shape, dtype, mean, std, contiguous)

    def integers(self, low, high, shape, dtype):
        return self._impl.integers(low, high, shape, dtype)

    def random(self, shape, dtype):
        return self._impl.random(shape, dtype)

    def permutation(self, n, dtype):
        return self._impl.permutation(n, dtype)

    def bernoulli(self, shape, p, dtype):
        return self._impl.bernoulli(shape, p, dtype)

    def exponential(self, shape, dtype, lambd=1.0):
        _require_floating("exponential_", dtype)
        return self._impl.exponential(shape, dtype, lambd)


default_generator = Generator("cpu")
_cuda_generator = None


def generator_for(device, generator=None):
    """The generator to draw from for `device` (the default one unless one is given)."""
    global _cuda_generator
    if generator is not None:
        if generator.device.type != _device(device).type:
            raise RuntimeError(f"Expected a '{_device(device).type}' generator, got a '{generator.device.type}' one")
        return generator
    if _device(device).type == "cpu":
        return default_generator
    if _cuda_generator is None:
        _cuda_generator = Generator("cuda").manual_seed(default_generator.initial_seed())
    return _cuda_generator


def cuda_generator_if_used():
    """The default CUDA generator, or None if nothing has drawn on the GPU yet."""
    return _cuda_generator


def manual_seed(seed):
    """Seed every default generator (CPU now, CUDA when it is first used or already is)."""
    default_generator.manual_seed(seed)
    if _cuda_generator is not None:
        _cuda_generator.manual_seed(seed)
    return default_generator


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()

