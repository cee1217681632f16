"""The Box-Muller transforms of torch's two CPU normal paths, from uniform draws to normal samples.

Both turn two uniforms into two normals: r = sqrt(-2 log(1 - u)), theta = 2 pi u',
z = (r cos theta, r sin theta).

Blocks of 16 (`normal_` of 16 or more contiguous elements, ATen's normal_fill): the kernel
`box_muller_blocks` (kernels/numpy/normal.py, and its Numba twin for float32,
kernels/cpu/normal.py), chosen by tinytorch.backends.

Per element (fewer than 16 elements, or not contiguous; ATen's normal_distribution<double>): each
sample that finds no cached normal draws u, u' in double, returns r cos theta with
theta = 2 pi u and r = sqrt(-2 log1p(-u')), and caches r sin theta in the generator for the next
sample; then mean + z * std, one rounding (fma), in double.
"""
import math

import numpy as np

from .. import backends


def normal_blocks(uniforms, mean, std):
    """Normal samples from 16k uniforms (float32 or float64, in [0, 1)), block by block."""
    return backends.kernel("box_muller_blocks", uniforms)(uniforms, mean, std)


def box_muller_pairs(u, u_prime):
    """(r cos theta, r sin theta) in double for arrays of uniform pairs (see the module's docstring)."""
    radius = np.sqrt(-2 * np.log1p(-u_prime))
    theta = 2 * math.pi * u
    return radius * np.cos(theta), radius * np.sin(theta)
