"""Samplers yield dataset indices; `BatchSampler` groups them into batches.

Random samplers draw from tinytorch's generators exactly as torch's samplers draw from torch's,
so after the same `manual_seed` they yield torch's indices.
"""
import itertools

import numpy as np

from ... import creation, dtypes, functions
from ...random import Generator, generator_for


class Sampler:
    """Yields dataset indices. Subclasses define `__iter__` and `__len__`."""

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


_DRAW_BLOCK = 32  # RandomSampler's draws with replacement, a block at a time (as torch)


def _check_positive_int(owner, name, value):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{owner}: {name} should be a positive integer value, but got {name}={value!r}")


def draw_seed(generator=None):
    """torch.empty((), dtype=torch.int64).random_(generator=generator).item(): 63 random bits, from
    `generator` or the default CPU generator."""
    return int(generator_for("cpu", generator).random((), np.int64))


def _epoch_generator(generator):
    """The given generator, or a fresh one seeded from the default generator (as torch does, so
    that each epoch shuffles differently and `manual_seed` fixes the whole sequence)."""
    if generator is not None:
        return generator
    return Generator().manual_seed(draw_seed())


class RandomSampler(Sampler):
    """Random indices into data_source, from `generator` or else a fresh generator seeded from the
    default one each epoch (torch's order of draws).

    Without replacement: a fresh permutation of all n indices for each n samples, and one more
    permutation cut to the remaining `num_samples % n` (drawn even when that is 0, as torch does).
    With replacement: `num_samples` uniform draws from [0, n), 32 at a time.
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a boolean value, but got replacement={replacement!r}")
        if num_samples is not None:
            _check_positive_int("RandomSampler", "num_samples", num_samples)
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n, total = len(self.data_source), self.num_samples
        if n == 0:
            raise ValueError("RandomSampler: cannot sample from an empty dataset")
        gen = _epoch_generator(self.generator)
        if self.replacement:
            for size in itertools.chain(itertools.repeat(_DRAW_BLOCK, total // _DRAW_BLOCK), [total % _DRAW_BLOCK]):
                yield from creation.randint(0, n, (size,), generator=gen).tolist()
        else:
            for _ in range(total // n):
                yield from creation.randperm(n, generator=gen).tolist()
            yield from creation.randperm(n, generator=gen).tolist()[:total % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices, in a random order each epoch (a permutation drawn from `generator`, or
    the default generator)."""

    def __init__(self, indices, generator=None):
        self.indices = list(indices)
        self.generator = generator

    def __iter__(self):
        order = creation.randperm(len(self.indices), generator=self.generator).tolist()
        return (self.indices[i] for i in order)

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """`num_samples` indices drawn with probability proportional to `weights`."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        _check_positive_int("WeightedRandomSampler", "num_samples", num_samples)
        self.weights = creation.as_tensor(weights, dtype=dtypes.float64)
        if self.weights.ndim != 1:
            raise ValueError(f"WeightedRandomSampler: weights should be a 1d sequence, got shape {tuple(self.weights.shape)}")
        self.num_samples, self.replacement, self.generator = num_samples, replacement, generator

    def __iter__(self):
        draws = functions.multinomial(self.weights, self.num_samples, self.replacement, generator=self.generator)
        return iter(draws.tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of `sampler` into lists of `batch_size`; the last, shorter list is
    kept unless `drop_last`."""

    def __init__(self, sampler, batch_size, drop_last):
        _check_positive_int("BatchSampler", "batch_size", batch_size)
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last should be a boolean value, but got drop_last={drop_last!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        yield from _batches(iter(self.sampler), self.batch_size, self.drop_last)

    def __len__(self):
        return _batch_count(len(self.sampler), self.batch_size, self.drop_last)


def _batches(items, batch_size, drop_last):
    while batch := list(itertools.islice(items, batch_size)):
        if len(batch) == batch_size or not drop_last:
            yield batch


def _batch_count(n, batch_size, drop_last):
    return n // batch_size if drop_last else -(-n // batch_size)
