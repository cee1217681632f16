"""fma(a, b, c) = a * b + c with one rounding, elementwise in float32 or float64 (NumPy has no fma).

torch's x86 wheels build the random kernels for AVX2 with FMA, and GCC contracts `x * w + f` into
one fused multiply-add, so torch's uniform_ and normal_ round once where NumPy's `x * w + f`
rounds twice. This reproduces the single rounding.

float32: a * b is exact in float64, so a * b + c needs one float64 addition and the cast to
float32. That rounds twice, and two roundings differ from one only when the first lands exactly
on a float32 tie (the 29 low bits of the float64 are 1000...0) while the sum was inexact; those
few sums move one float64 ulp towards the exact value before the cast.

float64 (Boldo and Melquiond, "Emulation of FMA and correctly rounded sums: proved algorithms
using rounding to odd", IEEE TC 2008):

    (ph, pl) = a * b exactly, as a sum of two floats    (Dekker's product, Veltkamp's split)
    (sh, sl) = c + ph exactly                            (Knuth's two-sum)
    v        = sl + pl rounded to odd                    (nearest, then the odd neighbour if inexact)
    fma      = sh + v rounded to nearest

Rounding to odd keeps the information that round-to-nearest would lose at a tie, so the last
rounding lands where a single rounding of a*b + c would. Both are valid without overflow or
underflow, which is the case for the values of the random kernels.
"""
import numpy as np

_SPLITTER = 2.0 ** 27 + 1  # Veltkamp's constant for 53-bit doubles


def _two_sum(a, b):
    s = a + b
    b_part = s - a
    return s, (a - (s - b_part)) + (b - b_part)


def _two_product(a, b):
    p = a * b
    a_hi = a * _SPLITTER - (a * _SPLITTER - a)
    b_hi = b * _SPLITTER - (b * _SPLITTER - b)
    a_lo, b_lo = a - a_hi, b - b_hi
    return p, ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo


def _step_towards(s, err, where):
    """s moved one ulp towards s + err at `where` (a mask) where err != 0."""
    move = where & (err != 0)
    return np.where(move, np.nextafter(s, np.where(err > 0, np.inf, -np.inf)), s)


def _add_rounded_to_odd(a, b):
    """a + b (float64) rounded to the neighbour with an odd last bit when the sum is inexact."""
    s, err = _two_sum(a, b)
    return _step_towards(s, err, (s.view(np.int64) & 1) == 0)


def _fma_float32(a, b, c):
    s = np.multiply(a, b, dtype=np.float64)
    s += c
    tie = (s.view(np.int64) & 0x1FFFFFFF) == 0x10000000
    if tie.any():
        a, b, c = (np.broadcast_to(v, s.shape)[tie].astype(np.float64) for v in (a, b, c))
        s[tie] = _step_towards(s[tie], _two_sum(a * b, c)[1], True)
    return s.astype(np.float32)


def fma(a, b, c, dtype):
    """a * b + c, rounded once to `dtype` (np.float32 or np.float64); a, b, c (arrays or numbers,
    exact in `dtype`) broadcast together."""
    if np.dtype(dtype) == np.float32:
        return _fma_float32(*(np.asarray(v, np.float32) for v in (a, b, c)))
    a, b, c = np.broadcast_arrays(*(np.asarray(v, np.float64) for v in (a, b, c)))
    ph, pl = _two_product(a, b)
    sh, sl = _two_sum(c, ph)
    return sh + _add_rounded_to_odd(sl, pl)
