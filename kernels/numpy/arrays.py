"""What the NumPy kernels share: the array module of an array, and passes over blocks of rows.

Every kernel here is written against `xp` (NumPy or CuPy), so the same code runs on the GPU
when CuPy runs it. On the CPU a row-wise computation (max, subtract, exp, sum, ...) runs over
one cache-sized block of rows at a time, so each row is read from memory once instead of once
per pass, computing into scratch arrays allocated once and reused by every block.
"""
import math
import sys

import numpy as np

_BLOCK_ELEMENTS = 1 << 15  # 128 KB of float32: a block of rows stays in cache across passes
_ONE_BLOCK_UP_TO = 1 << 18  # arrays this small (1 MB of float32) stay in cache anyway: one block
_WELL_SCALED = 2.0 ** -20  # a row whose exp-sum after the shared shift is below this gets its own shift


def array_module(a):
    """numpy for NumPy arrays and scalars, cupy for CuPy arrays (without importing CuPy)."""
    if isinstance(a, (np.ndarray, np.generic)) or "cupy" not in sys.modules:
        return np
    return sys.modules["cupy"].get_array_module(a)


def fits_in_cache(n_elements):
    """Whether an array of n_elements (float32) is small enough to stay in cache whole."""
    return n_elements <= _ONE_BLOCK_UP_TO


def one_block(n_elements, xp):
    """Whether row_blocks covers an array of n_elements in a single block."""
    return xp is not np or fits_in_cache(n_elements)


def row_blocks(n_rows, row_shape, xp, scratch_dtype=None, n_scratch=0):
    """Yield (rows, scratch): slices covering range(n_rows) in blocks of about _BLOCK_ELEMENTS
    elements, with `n_scratch` arrays shaped like the block, (rows,) + row_shape.

    Small arrays, and CuPy's, get a single block (on the GPU: one kernel per pass over everything).
    """
    row_shape = (row_shape,) if isinstance(row_shape, int) else tuple(row_shape)
    row_size = max(math.prod(row_shape), 1)
    step = n_rows if one_block(n_rows * row_size, xp) else max(1, _BLOCK_ELEMENTS // row_size)
    step = max(1, min(step, n_rows))
    buffers = [xp.empty((step,) + row_shape, scratch_dtype) for _ in range(n_scratch)]
    for start in range(0, n_rows, step):
        stop = min(start + step, n_rows)
        yield slice(start, stop), [b[:stop - start] for b in buffers]


def exp_rows(x, out):
    """out = exp(x - c) along the last axis of x (..., w); returns (c, total), both shaped
    x.shape[:-1], with total = the sums of out's rows. Softmax is out / total, and log-sum-exp
    is c + log(total).

    Any shift c works (softmax is shift-invariant); c >= the row's max keeps every exp <= 1.
    The textbook c is the row's max, but NumPy's max over short rows costs about 100 ns per
    row, more than the exp; so on the CPU c is the max of the whole block (one fast
    reduction), shared by its rows. A row whose own max lies far below it would lose its small
    terms to underflow: a row with total < 2^-20 (or not finite: inf or nan inputs) is redone
    with its own max, so every term above 1e-32 of its total keeps full precision. A row of
    -inf gets total 0.
    """
    xp = array_module(x)
    if xp is not np or x.size == 0:
        return _exp_rows_own_max(x, out)
    shift = x.max()
    if not np.isfinite(shift):
        return _exp_rows_own_max(x, out)
    xp.subtract(x, shift, out=out)
    xp.exp(out, out=out)
    total = row_sums(out)
    shift = xp.full(total.shape, shift, x.dtype)
    redo = ~(total >= _WELL_SCALED)
    if redo.any():
        redone = xp.empty((int(redo.sum()), x.shape[-1]), x.dtype)
        shift[redo], total[redo] = _exp_rows_own_max(x[redo], redone)
        out[redo] = redone
    return shift, total


def _exp_rows_own_max(x, out):
    """exp_rows with each row's own max as its shift (0 for a row of -inf)."""
    xp = array_module(x)
    shift = x.max(axis=-1)
    shift[shift == -xp.inf] = 0
    xp.subtract(x, shift[..., None], out=out)
    xp.exp(out, out=out)
    return shift, row_sums(out)


def row_sums(a):
    """a.sum(axis=-1), by einsum: several times faster than NumPy's reduction over short rows,
    and never slower."""
    return array_module(a).einsum("...j->...", a)


def column_sums(a):
    """a.sum(axis=0) for a 2-d float array, as the product ones @ a: one BLAS matrix-vector
    product, 2x faster than einsum and 3x faster than NumPy's reduction over the outer axis."""
    xp = array_module(a)
    return xp.ones(a.shape[0], a.dtype) @ a
