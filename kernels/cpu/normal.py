"""The Box-Muller transform of torch's float32 CPU `normal_` (ATen's normal_fill with its AVX2
log256_ps and sincos256_ps), on the CPU with Numba, bit for bit.

The oracle is kernels/numpy/normal.py with kernels/numpy/avx_mathfun.py, which writes the same
float32 operations as NumPy array passes (a dozen of them, each a read and a write of memory,
plus an exact fused multiply-add emulated in float64). Here each block of 16 uniforms becomes
16 samples in one pass, with the same float32 operations in the same order and the hardware's
fused multiply-add (vectormath.fma) exactly where the oracle has one. It is compiled without
fast-math: nothing may be reassociated or fused beyond what torch's GCC build does.

    box_muller_blocks(uniforms (16k,) float32 in [0, 1), mean, std) -> samples (16k,) float32
"""
import numpy as np
from numba import njit, prange

from ..numpy.avx_mathfun import _COS_C, _FOUR_OVER_PI, _LOG_P, _LOG_Q1, _LOG_Q2, _MINUS_PI_OVER_4, _SIN_S, _SQRT_HALF
from .threads import use_threads_for
from .vectormath import float32_bits, float32_from_bits, fma

_F32 = np.float32
_P0, _P1, _P2, _P3, _P4, _P5, _P6, _P7, _P8 = _LOG_P
_TWO_PI = _F32(2 * np.pi)


@njit(inline="always")
def _log(x):
    """avx_mathfun.log for one float32 > 0."""
    bits = float32_bits(x)
    e = _F32((bits >> 23) - 0x7F) + _F32(1)
    m = float32_from_bits(np.int32((bits & ~0x7F800000) | 0x3F000000))
    small = m < _SQRT_HALF
    t = (m - _F32(1)) + (m if small else _F32(0))
    e = e - (_F32(1) if small else _F32(0))
    z = t * t
    y = fma(fma(fma(fma(fma(fma(fma(fma(_P0, t, _P1), t, _P2), t, _P3), t, _P4), t, _P5), t, _P6), t, _P7), t, _P8)
    y = fma(y * t, z, e * _LOG_Q1)
    y = fma(-z, _F32(0.5), y)
    return fma(e, _LOG_Q2, t + y)


@njit(inline="always")
def _sincos(x):
    """avx_mathfun.sincos for one float32 >= 0: (sin x, cos x)."""
    j = (np.int32(x * _FOUR_OVER_PI) + np.int32(1)) & np.int32(~1)
    jf = _F32(j)
    r = fma(jf, _MINUS_PI_OVER_4[2], fma(jf, _MINUS_PI_OVER_4[1], fma(jf, _MINUS_PI_OVER_4[0], x)))
    z = r * r
    c = fma(fma(_COS_C[0], z, _COS_C[1]), z, _COS_C[2]) * z
    c = fma(c, z, -(z * _F32(0.5))) + _F32(1)
    s = fma(fma(_SIN_S[0], z, _SIN_S[1]), z, _SIN_S[2]) * z
    s = fma(s, r, r)
    swap = (j & 2) != 0
    sin = c if swap else s
    cos = s if swap else c
    sin = -sin if (j & 4) != 0 else sin
    cos = -cos if (~(j - 2) & 4) != 0 else cos
    return sin, cos


@njit(parallel=True, cache=True)
def _blocks(u, out, mean, std, scaled):
    for block in prange(u.shape[0] // 16):
        first = 16 * block
        for k in range(8):
            radius = np.sqrt(_F32(-2) * _log(_F32(1) - u[first + k]))
            sin, cos = _sincos(_TWO_PI * u[first + 8 + k])
            z_cos, z_sin = radius * cos, radius * sin
            out[first + k] = fma(z_cos, std, mean) if scaled else z_cos
            out[first + 8 + k] = fma(z_sin, std, mean) if scaled else z_sin


def box_muller_blocks(uniforms, mean, std):
    if uniforms.dtype != np.float32 or uniforms.ndim != 1 or uniforms.size % 16:
        raise ValueError(f"box_muller_blocks: needs float32 uniforms (16k,), got {uniforms.dtype} {uniforms.shape}")
    out = np.empty_like(uniforms)
    use_threads_for(uniforms.size)
    _blocks(np.ascontiguousarray(uniforms), out, _F32(mean), _F32(std), (mean, std) != (0, 1))
    return out
