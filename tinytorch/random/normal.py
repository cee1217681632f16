"""The Box-Muller transforms of torch's two CPU normal paths, from uniform draws to normal samples.

Both turn two uniforms into two normals: r = sqrt(-2 log(1 - u)), theta = 2 pi u',
z = (r cos theta, r sin theta).

Blocks of 16 (`normal_` of 16 or more contiguous elements, ATen's normal_fill): in each block the
first 8 uniforms give 1 - u, the last 8 give u', and the block becomes the 8 cosine samples then
the 8 sine samples, scaled as fma(z, std, mean) in the block's arithmetic type. float32 runs
torch's AVX2 kernel (avx_mathfun.py); float64 runs libm's log, cos and sin.

Per element (fewer than 16 elements, or not contiguous; ATen's normal_distribution<double>): each
sample that finds no cached normal draws u, u' in double, returns r cos theta with
theta = 2 pi u and r = sqrt(-2 log1p(-u')), and caches r sin theta in the generator for the next
sample; then mean + z * std, one rounding (fma), in double.
"""
import math

import numpy as np

from . import avx_mathfun
from .fused_multiply_add import fma


def normal_blocks(uniforms, mean, std):
    """Normal samples from 16k uniforms (float32 or float64, in [0, 1)), block by block."""
    dtype = uniforms.dtype.type
    blocks = uniforms.reshape(-1, 2, 8)
    one_minus_u, u = dtype(1) - blocks[:, 0], blocks[:, 1]
    if dtype is np.float32:
        radius = np.sqrt(np.float32(-2) * avx_mathfun.log(one_minus_u))
        sin, cos = avx_mathfun.sincos(np.float32(2 * math.pi) * u)
    else:
        radius = np.sqrt(-2 * np.log(one_minus_u))
        theta = 2 * math.pi * u
        sin, cos = np.sin(theta), np.cos(theta)
    z = np.stack([radius * cos, radius * sin], axis=1).reshape(-1)
    return z if (mean, std) == (0, 1) else fma(z, std, mean, dtype)


def box_muller_pairs(u, u_prime):
    """(r cos theta, r sin theta) in double for arrays of uniform pairs (see the module's docstring)."""
    radius = np.sqrt(-2 * np.log1p(-u_prime))
    theta = 2 * math.pi * u
    return radius * np.cos(theta), radius * np.sin(theta)
