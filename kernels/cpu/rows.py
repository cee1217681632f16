"""Row helpers for the CPU kernels: a (..., C) array is processed as C-contiguous (rows, C)."""
import math

import numpy as np
from numba import njit


def as_rows(x):
    """x (..., C) as a C-contiguous (rows, C) array (a view when x is already contiguous)."""
    return np.ascontiguousarray(x).reshape(math.prod(x.shape[:-1]), x.shape[-1])


PARTS = 8  # chunks of rows with partial sums: a fixed count, so the sums are the same on any number of threads


def part_count(rows):
    """How many row chunks to split `rows` into for a parallel kernel with per-chunk partial sums."""
    return max(1, min(rows, PARTS))


@njit(cache=True)
def chunk_bounds(n, parts, part):
    """[start, stop) of chunk `part` when range(n) is cut into `parts` near-equal chunks."""
    return n * part // parts, n * (part + 1) // parts
