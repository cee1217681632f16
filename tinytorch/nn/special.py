"""The standard normal CDF Phi(x) = (1 + erf(x / sqrt 2)) / 2, for the exact GELU.

NumPy has no erf, so we build erfc on [0, inf) from one smooth function of t = 1 / (1 + z/2):

    erfc(z) = t * exp(P(t) - z^2),    P(t) = log(erfc(z) / t) + z^2.

P is analytic in t on (0, 1] (as z -> inf, erfc(z) ~ e^{-z^2} / (z sqrt(pi))), so a short
polynomial fits it. We fit it once per dtype, by least squares at Chebyshev nodes against the
standard library's `math.erfc`: degree 10 on z in [0, 10] (relative error 1e-8; erfc(10)
underflows float32 anyway) and degree 22 on [0, 26] (about 1e-14) for float64. Written in
powers of s (t mapped onto [-1, 1]) the coefficients sum to about 1.3 in absolute value, so
Horner's rule loses nothing. Then

    Phi(x) = erfc(|x| / sqrt 2) / 2 for x < 0,  1 - erfc(|x| / sqrt 2) / 2 for x >= 0,

relatively accurate deep in the left tail, where GELU = x Phi(x) is tiny. In float32 the
rounding of z^2 limits the relative error there to about 1e-6 (2e-7 absolute).
"""
import functools
import math

import numpy as np

from ..device import array_module
from ..kernels.numpy.arrays import row_blocks

# (largest z fitted, polynomial degree) per dtype; beyond z_max erfc underflows the dtype.
_FITS = {np.dtype(np.float32): (10.0, 10), np.dtype(np.float64): (26.0, 22)}
_NODES = 400


@functools.lru_cache(maxsize=None)
def _erfc_series(dtype):
    """(t_min, coefficients of P in powers of s, highest first), s = 2 (t - t_min) / (1 - t_min) - 1."""
    z_max, degree = _FITS[np.dtype(dtype)]
    t_min = 1.0 / (1.0 + z_max / 2)
    s = np.cos(np.pi * (np.arange(_NODES) + 0.5) / _NODES)
    t = t_min + (1.0 - t_min) * (s + 1.0) / 2
    z = 2.0 / t - 2.0
    p = np.array([math.log(math.erfc(v)) + v * v for v in z]) - np.log(t)
    powers = np.polynomial.chebyshev.cheb2poly(np.polynomial.chebyshev.chebfit(s, p, degree))
    return t_min, tuple(float(c) for c in powers[::-1])


def normal_cdf(x):
    """Phi(x) = P(N(0, 1) <= x), elementwise, in x's (float32 or float64) dtype."""
    xp = array_module(x)
    flat = xp.ascontiguousarray(x).reshape(-1)
    out = xp.empty_like(flat)
    for part, scratch in row_blocks(flat.size, (), xp, flat.dtype, 2):
        normal_cdf_block(flat[part], out[part], *scratch)
    return out.reshape(x.shape)


def normal_cdf_block(x, out, s, p):
    """out = Phi(x) for one block, in place; s and p are scratch arrays shaped like x.
    On the GPU, CuPy's ndtr computes it in one kernel instead of a pass per series term."""
    xp = array_module(x)
    if xp is not np:
        from cupyx.scipy.special import ndtr
        ndtr(x, out=out)
        return
    t_min, powers = _erfc_series(x.dtype)
    t = out
    xp.abs(x, out=t)
    t *= 1 / (2 * math.sqrt(2))
    t += 1
    xp.reciprocal(t, out=t)                       # t = 1 / (1 + z/2), z = |x| / sqrt 2
    xp.maximum(t, t_min, out=s)
    s -= t_min
    s *= 2 / (1 - t_min)
    s -= 1
    p.fill(powers[0])
    for c in powers[1:]:                          # Horner: p = P(t)
        p *= s
        p += c
    xp.multiply(x, x, out=s)
    s *= 0.5                                      # z^2 = x^2 / 2
    p -= s
    xp.exp(p, out=p)
    p *= t
    p *= 0.5                                      # p = erfc(z) / 2, the mass beyond |x|
    xp.greater_equal(x, 0, out=s)                 # s = [x >= 0], then out = p + s (1 - 2p):
    xp.multiply(p, -2, out=out)                   # a branch-free select, exact where s = 0
    out += 1
    out *= s
    out += p
