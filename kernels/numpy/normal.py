"""The Box-Muller transform of torch's CPU `normal_` on 16 or more contiguous elements (ATen's
normal_fill), in NumPy: blocks of 16 uniforms to blocks of 16 normal samples, bit for bit.

In each block the first 8 uniforms give 1 - u, the last 8 give u', and the block becomes the 8
cosine samples then the 8 sine samples of r = sqrt(-2 log(1 - u)), theta = 2 pi u', scaled as
fma(z, std, mean) in the block's arithmetic type (not at all for mean 0, std 1). float32 runs
torch's AVX2 kernel (avx_mathfun.py); float64 runs libm's log, cos and sin.

    box_muller_blocks(uniforms (16k,) float32 or float64 in [0, 1), mean, std) -> samples (16k,)
"""
import math

import numpy as np

from . import avx_mathfun
from .fused_multiply_add import fma


def box_muller_blocks(uniforms, mean, std):
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
