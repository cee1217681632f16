"""`RandomMixin`: Tensor's random methods: the in-place draws (`normal_`, `uniform_`, `bernoulli_`)
and `multinomial`, all from a `Generator` (random.py)."""
import numpy as np

from .ops import sampling as S
from .random import generator_for


class RandomMixin:
    """Tensor's random methods (tensor.py mixes this class into Tensor)."""

    __slots__ = ()

    def normal_(self, mean=0.0, std=1.0, generator=None):
        draw = generator_for(self.device, generator).normal(self._data.shape, self._data.dtype)
        return self._inplace("normal_", draw * std + mean)

    def uniform_(self, a=0.0, b=1.0, generator=None):
        draw = generator_for(self.device, generator).uniform(self._data.shape, self._data.dtype)
        return self._inplace("uniform_", draw * (b - a) + a)

    def bernoulli_(self, p=0.5, generator=None):
        draw = generator_for(self.device, generator).uniform(self._data.shape, np.float32)
        return self._inplace("bernoulli_", (draw < p).astype(self._data.dtype))

    def multinomial(self, num_samples, replacement=False, generator=None):
        """Category indices drawn from each row of non-negative weights (ops/sampling.py)."""
        gen = generator_for(self.device, generator)
        return self._wrap(S.multinomial_indices(self._data, num_samples, replacement, gen))
