"""`RandomMixin`: Tensor's random methods: the in-place draws (`uniform_`, `normal_`, `random_`,
`bernoulli_`, `exponential_`), `bernoulli` and `multinomial`, from a Generator (random/).

A strided tensor gets its draws in memory order, as torch fills it (random/layout.py).
"""
from .device import array_module
from .ops import sampling as S
from .random import generator_for
from .random.layout import draw_in_order, memory_order


def _torch_bounds(name, positional, keywords, defaults):
    """(from, to) given positionally or as the keywords `from` and `to` (a Python keyword,
    so torch's own spelling needs **{"from": ...})."""
    unknown = set(keywords) - {"from", "to"}
    if unknown:
        raise TypeError(f"{name}() got an unexpected keyword argument {sorted(unknown)[0]!r}")
    values = dict(zip(("from", "to"), positional), **keywords)
    return values.get("from", defaults[0]), values.get("to", defaults[1])


class RandomMixin:
    """Tensor's random methods (tensor.py mixes this class into Tensor)."""

    __slots__ = ()

    def _fill_with(self, op, draw):
        """self <- draw(shape), the values of `draw` given in C order for `shape`: self's shape,
        its axes in memory order (see the module's docstring)."""
        return self._replace(op, draw_in_order(self._data, memory_order(self._data), draw))

    def uniform_(self, *bounds, generator=None, **keywords):
        """U[from, to) (default [0, 1)), in place."""
        low, high = _torch_bounds("uniform_", bounds, keywords, (0.0, 1.0))
        gen = generator_for(self.device, generator)
        return self._fill_with("uniform_", lambda shape: gen.uniform(shape, self._data.dtype, low, high))

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """N(mean, std^2), in place (torch's blocks of 16 when contiguous with 16 or more elements)."""
        gen = generator_for(self.device, generator)
        contiguous = self._data.flags.c_contiguous
        return self._fill_with("normal_", lambda shape: gen.normal(shape, self._data.dtype, mean, std, contiguous))

    def random_(self, *bounds, generator=None, **keywords):
        """Integers, in place: random_() over [0, 2^mantissa] (floats) or [0, max] (integers),
        random_(to) over [0, to), random_(from, to) over [from, to), random_(from, None) over
        [from, max]."""
        gen = generator_for(self.device, generator)
        dtype = self._data.dtype
        if not bounds and not keywords:
            return self._fill_with("random_", lambda shape: gen.random(shape, dtype))
        if len(bounds) == 1 and not keywords:
            bounds = (0, bounds[0])
        low, high = _torch_bounds("random_", bounds, keywords, (0, None))
        return self._fill_with("random_", lambda shape: gen.integers(int(low), high if high is None else int(high),
                                                                     shape, dtype))

    def exponential_(self, lambd=1.0, *, generator=None):
        """Exp(lambd) samples, in place."""
        gen = generator_for(self.device, generator)
        return self._fill_with("exponential_", lambda shape: gen.exponential(shape, self._data.dtype, lambd))

    def bernoulli_(self, p=0.5, *, generator=None):
        """1 with probability p (a number, or a tensor broadcast to self's shape), else 0, in place."""
        gen = generator_for(self.device, generator)
        if hasattr(p, "_data"):
            probs = array_module(p._data).broadcast_to(p._data, self._data.shape).transpose(memory_order(self._data))
            return self._fill_with("bernoulli_", lambda shape: gen.bernoulli(shape, probs, self._data.dtype))
        return self._fill_with("bernoulli_", lambda shape: gen.bernoulli(shape, p, self._data.dtype))

    def bernoulli(self, p=None, *, generator=None):
        """A new tensor of 0s and 1s: with probabilities self (torch.bernoulli(input)), or p."""
        if p is None and self._data.dtype.kind not in "fV":
            raise RuntimeError(f"bernoulli: expected a floating point tensor of probabilities, got {self.dtype}")
        out = self._wrap(array_module(self._data).empty(self._data.shape, self._data.dtype))
        return out.bernoulli_(self.detach() if p is None else p, generator=generator)

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        """Category indices drawn from each row of non-negative weights (ops/sampling.py)."""
        gen = generator_for(self.device, generator)
        return self._wrap(S.multinomial_indices(self._data, num_samples, replacement, gen))

