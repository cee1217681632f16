"""torch's CPU generator (ATen's CPUGeneratorImpl): MT19937 plus torch's transformations.

Every draw returns a new array of the requested NumPy dtype, its values in C order: what torch
writes, element after element, into a contiguous tensor of that shape (a caller filling a strided
tensor passes the shape in memory order). Raw draws are the engine's 32-bit words, or 64-bit ones
made of two words, high first. The transformations, from ATen's TransformationHelper.h,
DistributionsHelper.h and cpu/DistributionTemplates.h (torch 2.13, x86 AVX2 build):

uniform [from, to)   x = (word & (2^d - 1)) / 2^d, d = 24 (float, half: 32-bit words) or 53
                     (double: 64-bit words); fma(x, to - from, from) in float / double; a value
                     that rounds to `to` becomes `from`.
normal               normal.py: blocks of 16 when there are 16 or more contiguous elements, else
                     per element with a cached second sample (double).
integers [lo, hi)    (word % (hi - lo)) + lo, a 64-bit word when hi - lo >= 2^28, else a 32-bit
                     one; float dtypes first round lo up and hi down to representable integers.
random_()            word % (max + 1): 64-bit words for int64 and double, else 32-bit; floats use
                     max = 2^mantissa digits, bool takes the lowest bit.
permutation          n < 2^32 / 20: Fisher-Yates, swapping i with i + word % (n - i) for i < n - 1
                     (32-bit words); larger n: the inside-out shuffle with 64-bit words % (i + 1).
bernoulli p          [u < p] with a double u (scalar p, or a float64 p tensor), else a float u.
exponential lambda   -1 / lambda * log1p(-u), u a double uniform.

(torch's MKL paths for bernoulli_(p) and exponential_ are disabled in its public builds, so these
are the kernels that run.)
"""
import math
import os

import numpy as np

from . import cpu_state
from ..kernels.numpy.fused_multiply_add import fma
from .mt19937 import MT19937
from .normal import box_muller_pairs, normal_blocks

DEFAULT_SEED = 67280421310721
_RANGE_NEEDING_64_BITS = 1 << 28
_SMALL_PERMUTATION = (2 ** 32 - 1) // 20
_INT64_MIN = -2 ** 63
_NORMAL_CHUNK = 1 << 16  # elements transformed at a time: the transform's temporaries stay in cache


def _opmath(dtype):
    """The type torch computes a float dtype's draws in: double for float64, float otherwise."""
    return np.float64 if np.dtype(dtype) == np.float64 else np.float32


def _digits(dtype):
    """Binary digits of a float dtype's significand, implicit bit included (24, 53, 11)."""
    return np.finfo(dtype).nmant + 1


def _is_float(dtype):
    return np.dtype(dtype).kind == "f"


def _check_int_range(low, high_inclusive, dtype):
    """torch's check_from_to_in_range for integer dtypes (floats only warn in torch)."""
    if _is_float(dtype) or np.dtype(dtype) == np.bool_:
        return
    info = np.iinfo(dtype)
    if low < info.min or high_inclusive > info.max:
        raise RuntimeError(f"random_ expects [from, to - 1] = [{low}, {high_inclusive}] to lie in the range of "
                           f"{np.dtype(dtype).name}, [{info.min}, {info.max}]")


def _float_bounds(low, high, dtype):
    """torch's update_from / update_to: integer bounds moved inside what `dtype` represents
    exactly, so that low and high - 1 survive the cast."""
    digits = _digits(dtype)
    as_float = lambda v: int(np.array(v, np.int64).astype(dtype))  # noqa: E731
    if as_float(low + 1) < low:
        low = as_float(low + 1) + (1 << (abs(low + 1).bit_length() - 1 - digits + 1))
    if high is not None and as_float(high - 1) >= high:
        high = as_float(high - 1) - (1 << (abs(high - 1).bit_length() - 1 - digits + 1))
    return low, high


class CPUGenerator:
    """One CPU random stream: an MT19937 engine and the cached normal samples."""

    def __init__(self, seed=DEFAULT_SEED):
        self.manual_seed(seed)

    def manual_seed(self, seed):
        """Restart from `seed` (an integer in [-2^63, 2^64); negative ones wrap, as in torch)."""
        seed = int(seed)
        if not _INT64_MIN <= seed < 2 ** 64:
            raise ValueError("Overflow when unpacking long long")
        self.engine = MT19937(seed % 2 ** 64)
        self.double_normal = self.float_normal = None

    def initial_seed(self):
        return self.engine.seed

    def seed(self):
        """Reseed from the operating system's entropy (64 bits, as torch's CPU generator)."""
        self.manual_seed(int.from_bytes(os.urandom(8), "little"))
        return self.initial_seed()

    def get_state(self):
        e = self.engine
        return cpu_state.pack(e.seed, e.left, e.next, e.state, self.double_normal, self.float_normal)

    def set_state(self, state):
        seed, left, next_, words, self.double_normal, self.float_normal = cpu_state.unpack(state)
        self.engine = MT19937(seed, words, left, next_)

    # -- uniforms in [0, 1) -----------------------------------------------------------------
    def _unit_uniforms(self, n, opmath):
        if opmath is np.float64:
            return (self.engine.words64(n) & np.uint64(2 ** 53 - 1)).astype(np.float64) * 2.0 ** -53
        return (self.engine.words(n) & np.uint32(2 ** 24 - 1)).astype(np.float32) * np.float32(2.0 ** -24)

    # -- the draws ----------------------------------------------------------------------------
    def uniform(self, shape, dtype, low=0.0, high=1.0):
        if not low <= high:
            raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={low} > to={high}")
        opmath = _opmath(dtype)
        x = self._unit_uniforms(math.prod(shape), opmath)
        if (low, high) != (0.0, 1.0):
            x = fma(x, opmath(high) - opmath(low), low, opmath)
        values = x.astype(dtype)
        values[values == np.array(high).astype(dtype)] = np.array(low).astype(dtype)
        return values.reshape(shape)

    def normal(self, shape, dtype, mean=0.0, std=1.0, contiguous=True):
        """N(mean, std^2) samples: torch's blocks of 16 for 16 or more contiguous elements, else its
        per-element path (see normal.py)."""
        if not std >= 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        n = math.prod(shape)
        if n >= 16 and contiguous:
            return self._normal_blocks(n, dtype, mean, std).reshape(shape)
        return fma(self._standard_normals(n), std, mean, np.float64).astype(dtype).reshape(shape)

    def _normal_blocks(self, n, dtype, mean, std):
        """normal_fill: float and double draw all n uniforms, then transform them 16 at a time;
        half draws 16 per block. A last partial block is redone over the last 16 elements from
        16 new uniforms."""
        opmath = _opmath(dtype)
        full = n - n % 16
        uniforms = self._unit_uniforms(n if np.dtype(opmath) == np.dtype(dtype) else full, opmath)
        out = np.empty(n, opmath)
        for start in range(0, full, _NORMAL_CHUNK):
            end = min(start + _NORMAL_CHUNK, full)
            out[start:end] = normal_blocks(uniforms[start:end], mean, std)
        if n % 16:
            out[n - 16:] = normal_blocks(self._unit_uniforms(16, opmath), mean, std)
        return out.astype(dtype, copy=False)

    def _standard_normals(self, n):
        """n standard normal doubles from the per-element path, using and refilling the cache."""
        head = [] if self.double_normal is None or n == 0 else [self.double_normal]
        if head:
            self.double_normal = None
        pairs = (n - len(head) + 1) // 2
        u = self._unit_uniforms(2 * pairs, np.float64).reshape(pairs, 2)
        cos, sin = box_muller_pairs(u[:, 0], u[:, 1])
        samples = np.concatenate([head, np.stack([cos, sin], axis=1).reshape(-1)])
        if len(samples) > n:
            self.double_normal = float(samples[-1])
        return samples[:n]

    def integers(self, low, high, shape, dtype):
        """Integers in [low, high), or in [low, the dtype's largest] when high is None (torch's
        random_(from, to)), as `dtype` (floats included)."""
        if high is None and low == _INT64_MIN:  # all 2^64 values: the 64-bit word as an int64
            return self.engine.words64(math.prod(shape)).view(np.int64).astype(dtype).reshape(shape)
        if _is_float(dtype):
            low, high = _float_bounds(low, high, dtype)
        if high is None:
            high = 1 + (1 if np.dtype(dtype) == np.bool_ else
                        2 ** _digits(dtype) if _is_float(dtype) else int(np.iinfo(dtype).max))
        if not low < high:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
        _check_int_range(low, high - 1, dtype)
        span = high - low
        n = math.prod(shape)
        words = self.engine.words64(n) if span >= _RANGE_NEEDING_64_BITS else self.engine.words(n)
        values = (words % np.array(span, words.dtype)).astype(np.int64) + np.int64(low)
        return values.astype(dtype).reshape(shape)

    def random(self, shape, dtype):
        """torch's random_() without bounds: [0, max] for integers, [0, 2^digits] for floats,
        {False, True} for bool."""
        n = math.prod(shape)
        if np.dtype(dtype) == np.bool_:
            return (self.engine.words(n) & 1).astype(bool).reshape(shape)
        wide = np.dtype(dtype) in (np.dtype(np.int64), np.dtype(np.float64))
        words = self.engine.words64(n) if wide else self.engine.words(n).astype(np.uint64)
        top = 2 ** _digits(dtype) if _is_float(dtype) else int(np.iinfo(dtype).max)
        return (words % np.uint64(top + 1)).astype(dtype).reshape(shape)

    def permutation(self, n, dtype):
        if n < _SMALL_PERMUTATION:
            order = list(range(n))
            offsets = (self.engine.words(max(n - 1, 0)).astype(np.int64)
                       % np.arange(n, 1, -1, dtype=np.int64)).tolist()
            for i, offset in enumerate(offsets):
                j = i + offset
                order[i], order[j] = order[j], order[i]
        else:
            order = [0] * n
            picks = (self.engine.words64(n) % np.arange(1, n + 1, dtype=np.uint64)).tolist()
            for i, j in enumerate(picks):
                order[i] = order[j]
                order[j] = i
        return np.array(order, dtype=dtype)

    def bernoulli(self, shape, p, dtype):
        """[u < p] as `dtype`: p a number (u double), or an array broadcast to `shape` (u double
        when p is float64, else float). For a number, u < p exactly when k < ceil(p 2^53), k the
        draw's low 53 bits (u = k 2^-53; the proof is in kernels/numpy/mt19937.py), which the
        kernel mt19937_bernoulli tests as it draws."""
        n = math.prod(shape)
        if isinstance(p, np.ndarray):
            p = np.broadcast_to(p, shape).reshape(-1)
            opmath = np.float64 if p.dtype == np.float64 else np.float32
            return (self._unit_uniforms(n, opmath) < p.astype(opmath)).astype(dtype).reshape(shape)
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        keep = self.engine.bernoulli(n, math.ceil(float(p) * 2.0 ** 53))
        return keep.astype(dtype, copy=False).reshape(shape)

    def exponential(self, shape, dtype, lambd=1.0):
        if not lambd > 0:
            raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
        u = self._unit_uniforms(math.prod(shape), np.float64)
        return ((-1.0 / lambd) * np.log1p(-u)).astype(dtype).reshape(shape)
