"""float32 log, sin and cos as torch's AVX2 normal kernel computes them, bit for bit (the oracle of
kernels/cpu/normal.py).

torch's float32 `normal_` (16 or more contiguous elements) evaluates its Box-Muller transform with
`log256_ps` and `sincos256_ps` of ATen's avx_mathfun.h (Pommier's ports of the Cephes float
routines), built by GCC with FMA contraction. Both are a range reduction and a polynomial in
float32; written here with the same float32 operations in the same order, and with a fused
multiply-add wherever GCC contracts `x * y + z` (every Horner step, every `+ y * constant`),
they give torch's results exactly. AVX-512 machines run the same AVX2 kernel.

log(x), x > 0 (normal, finite): x = m 2^e with m in [0.5, 1); if m < sqrt(1/2): m = 2m, e -= 1;
    t = m - 1;  log x = t + t^3 P(t) - t^2 / 2 + e log 2,  log 2 split as q2 + q1 (q2 = 0.693359375).
sin and cos of x >= 0: j = the even integer nearest x / (pi / 4) from above (trunc + 1, even);
    r = x - j pi/4 (pi/4 in three parts, each product fused); z = r^2;
    c(r) = 1 - z/2 + z^2 C(z),  s(r) = r + r z S(z);
    octant bit 2 of j swaps them, bit 4 of j (and of j - 2 for cos) flips the sign.
"""
import numpy as np

from .fused_multiply_add import fma

_F32 = np.float32
_SQRT_HALF = _F32(0.707106781186547524)
_LOG_P = [_F32(c) for c in (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1,
                            1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1,
                            3.3333331174e-1)]
_LOG_Q1, _LOG_Q2 = _F32(-2.12194440e-4), _F32(0.693359375)
_FOUR_OVER_PI = _F32(1.27323954473516)
_MINUS_PI_OVER_4 = (_F32(-0.78515625), _F32(-2.4187564849853515625e-4), _F32(-3.77489497744594108e-8))
_COS_C = (_F32(2.443315711809948e-005), _F32(-1.388731625493765e-003), _F32(4.166664568298827e-002))
_SIN_S = (_F32(-1.9515295891e-4), _F32(8.3321608736e-3), _F32(-1.6666654611e-1))


def _fma(a, b, c):
    return fma(a, b, c, _F32)


def log(x):
    """log256_ps on a float32 array of positive normal numbers."""
    bits = x.view(np.int32)
    e = ((bits >> 23) - 0x7F).astype(_F32) + _F32(1)
    m = ((bits & ~0x7F800000) | 0x3F000000).view(_F32)  # the mantissa, in [0.5, 1)
    small = m < _SQRT_HALF
    t = (m - _F32(1)) + np.where(small, m, _F32(0))
    e = e - np.where(small, _F32(1), _F32(0))
    z = t * t
    y = np.full_like(t, _LOG_P[0])
    for p in _LOG_P[1:]:
        y = _fma(y, t, p)
    y = _fma(y * t, z, e * _LOG_Q1)
    y = _fma(-z, _F32(0.5), y)
    return _fma(e, _LOG_Q2, t + y)


def sincos(x):
    """(sin x, cos x) of sincos256_ps on a float32 array of non-negative numbers."""
    j = ((x * _FOUR_OVER_PI).astype(np.int32) + 1) & ~1
    jf = j.astype(_F32)
    r = x
    for part in _MINUS_PI_OVER_4:
        r = _fma(jf, part, r)
    z = r * r
    c = _fma(_fma(_COS_C[0], z, _COS_C[1]), z, _COS_C[2]) * z
    c = _fma(c, z, -(z * _F32(0.5))) + _F32(1)
    s = _fma(_fma(_SIN_S[0], z, _SIN_S[1]), z, _SIN_S[2]) * z
    s = _fma(s, r, r)
    swap = (j & 2) != 0
    sin, cos = np.where(swap, c, s), np.where(swap, s, c)
    sin = np.where((j & 4) != 0, -sin, sin)
    cos = np.where((~(j - 2) & 4) != 0, -cos, cos)
    return sin, cos
