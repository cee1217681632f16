"""The CUDA generator: CuPy's cuRAND Philox, freshly seeded for every draw.

Each draw seeds a new Philox4x32-10 stream from (seed, number of draws so far), so the whole state
is two integers that a checkpoint saves and restores (16 bytes: seed, draws, little-endian
uint64). The streams are CuPy's, not torch's CUDA ones. The draws mirror CPUGenerator's signatures.
"""
import os

import numpy as np

from ..device import device as _device, xp_for
from .cpu_generator import DEFAULT_SEED


class CUDAGenerator:
    def __init__(self, device, seed=DEFAULT_SEED):
        self.device = device
        self.manual_seed(seed)

    def manual_seed(self, seed):
        self._seed, self._draws = int(seed) % 2 ** 64, 0

    def initial_seed(self):
        return self._seed

    def seed(self):
        self.manual_seed(int.from_bytes(os.urandom(8), "little"))
        return self._seed

    def get_state(self):
        return np.array([self._seed, self._draws], dtype="<u8").view(np.uint8)

    def set_state(self, state):
        raw = np.asarray(state)
        if raw.dtype != np.uint8 or raw.shape != (16,):
            raise RuntimeError(f"set_rng_state: expected the 16 bytes of a CUDA generator state, got {raw.dtype} "
                               f"of shape {tuple(raw.shape)}")
        self._seed, self._draws = (int(v) for v in raw.view("<u8"))

    def _next_stream(self):
        """CuPy's RandomState for the next draw (see the module's docstring)."""
        cupy = xp_for(_device(self.device))
        seed = np.random.SeedSequence([self._seed, self._draws]).generate_state(1, np.uint64)[0] >> 1
        self._draws += 1
        return cupy.random.RandomState(int(seed), method=cupy.cuda.curand.CURAND_RNG_PSEUDO_PHILOX4_32_10)

    def uniform(self, shape, dtype, low=0.0, high=1.0):
        return (self._next_stream().random_sample(shape) * (high - low) + low).astype(dtype, copy=False)

    def normal(self, shape, dtype, mean=0.0, std=1.0, contiguous=True):
        return (self._next_stream().standard_normal(shape) * std + mean).astype(dtype, copy=False)

    def integers(self, low, high, shape, dtype):
        draw_as = dtype if np.dtype(dtype).kind in "iu" else np.int64
        high = int(np.iinfo(draw_as).max) + 1 if high is None else high
        return self._next_stream().randint(low, high, shape, dtype=draw_as).astype(dtype, copy=False)

    def random(self, shape, dtype):
        top = 2 ** (np.finfo(dtype).nmant + 1) if np.dtype(dtype).kind == "f" else (
            1 if np.dtype(dtype) == np.bool_ else int(np.iinfo(dtype).max))
        return self.integers(0, top + 1, shape, dtype)

    def permutation(self, n, dtype):
        return self._next_stream().permutation(n).astype(dtype, copy=False)

    def bernoulli(self, shape, p, dtype):
        return (self._next_stream().random_sample(shape) < p).astype(dtype)

    def exponential(self, shape, dtype, lambd=1.0):
        return (self._next_stream().standard_exponential(shape) / lambd).astype(dtype, copy=False)
