"""Random number generation: one default Generator per device, seeded by `manual_seed`.

CPU tensors draw from a NumPy `Generator` (PCG64); CUDA tensors from CuPy's cuRAND Philox,
freshly seeded for every draw from (seed, number of draws so far), so that a CUDA generator's
whole state is two integers that a checkpoint can save and restore. As in torch, the default
seed is fixed, so a script without `manual_seed` is still reproducible.
"""
import numpy as np

from .device import device as _device, xp_for

DEFAULT_SEED = 67280421310721


class Generator:
    """torch.Generator: `Generator().manual_seed(2147483647)` gives an independent stream."""

    def __init__(self, device="cpu"):
        self.device = _device(device)
        self._seed = DEFAULT_SEED
        self._state = None
        self._draws = 0
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed):
        seed = int(seed)
        self._seed, self._draws = seed, 0
        if self.device.type == "cpu":
            self._state = np.random.Generator(np.random.PCG64(seed))
        return self

    def _next_cuda_draw(self):
        """CuPy's RandomState for the next draw on the GPU (see the module's docstring)."""
        cupy = xp_for(self.device)
        seed = np.random.SeedSequence([self._seed % 2 ** 64, self._draws]).generate_state(1, np.uint64)[0] >> 1
        self._draws += 1
        return cupy.random.RandomState(int(seed), method=cupy.cuda.curand.CURAND_RNG_PSEUDO_PHILOX4_32_10)

    def initial_seed(self):
        return self._seed

    def seed(self):
        return self.manual_seed(np.random.SeedSequence().entropy % (2 ** 63)).initial_seed()

    def get_state(self):
        """The generator's state as a dict of plain values (JSON-serialisable)."""
        if self.device.type != "cpu":
            return {"seed": self._seed, "draws": self._draws}
        return self._state.bit_generator.state

    def set_state(self, state):
        if self.device.type != "cpu":
            self._seed, self._draws = int(state["seed"]), int(state["draws"])
        else:
            self._state.bit_generator.state = state

    # -- draws, returning raw arrays of the requested NumPy dtype -------------------------------
    def normal(self, shape, dtype):
        if self.device.type == "cpu":
            if dtype in (np.float32, np.float64):
                return self._state.standard_normal(shape, dtype=dtype)
            return self._state.standard_normal(shape).astype(dtype)
        return self._next_cuda_draw().standard_normal(shape, dtype=dtype)

    def uniform(self, shape, dtype):
        if self.device.type == "cpu":
            if dtype in (np.float32, np.float64):
                return self._state.random(shape, dtype=dtype)
            return self._state.random(shape).astype(dtype)
        return self._next_cuda_draw().random_sample(shape).astype(dtype, copy=False)

    def integers(self, low, high, shape, dtype):
        """Integers in [low, high), returned as `dtype` (which may be a float type, as in torch)."""
        draw_as = dtype if np.dtype(dtype).kind in "iu" else np.int64
        if self.device.type == "cpu":
            out = self._state.integers(low, high, shape, dtype=draw_as)
        else:
            out = self._next_cuda_draw().randint(low, high, shape, dtype=draw_as)
        return out.astype(dtype, copy=False)

    def permutation(self, n, dtype):
        draws = self._state if self.device.type == "cpu" else self._next_cuda_draw()
        return draws.permutation(n).astype(dtype, copy=False)


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


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


def get_cuda_rng_state():
    """The default CUDA generator's state, or None if nothing has drawn on the GPU yet."""
    return None if _cuda_generator is None else _cuda_generator.get_state()


def set_cuda_rng_state(state):
    generator_for("cuda").set_state(state)
