"""Pieces the fused ops share: row blocks, reductions, and input checks."""
import math

import numpy as np

from ..device import array_module

_BLOCK_ELEMENTS = 1 << 15  # 128 KB of float32: a block of rows stays in cache across passes
_ONE_BLOCK_UP_TO = 1 << 18  # arrays this small (1 MB of float32) stay in cache anyway: one block


def row_blocks(n_rows, row_shape, xp, scratch_dtype=None, n_scratch=0):
    """Yield (rows, scratch): slices covering range(n_rows) in blocks of about _BLOCK_ELEMENTS
    elements, with `n_scratch` arrays shaped like the block, (rows,) + row_shape.

    On the CPU, running a row-wise computation (max, subtract, exp, sum, ...) over one block at
    a time reads each row from memory once instead of once per pass; computing into scratch
    arrays (allocated once, reused by every block) avoids a fresh temporary per pass. Small
    arrays, and CuPy's, get a single block (on the GPU: one kernel per pass over everything).
    """
    row_shape = (row_shape,) if isinstance(row_shape, int) else tuple(row_shape)
    row_size = max(math.prod(row_shape), 1)
    one_block = xp is not np or n_rows * row_size <= _ONE_BLOCK_UP_TO
    step = n_rows if one_block else max(1, _BLOCK_ELEMENTS // row_size)
    step = max(1, min(step, n_rows))
    buffers = [xp.empty((step,) + row_shape, scratch_dtype) for _ in range(n_scratch)]
    for start in range(0, n_rows, step):
        stop = min(start + step, n_rows)
        yield slice(start, stop), [b[:stop - start] for b in buffers]


def row_sums(a):
    """a.sum(axis=1) for a 2-d array, by einsum: several times faster than NumPy's reduction
    over short rows, and never slower."""
    return array_module(a).einsum("ij->i", a)


def legacy_reduction(size_average, reduce, reduction):
    """torch's old `size_average` / `reduce` flags -> a `reduction` string (they win when given)."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "mean" if size_average and reduce else ("sum" if reduce else "none")


def check_reduction(op, reduction):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction (expected 'mean', 'sum' or 'none')")


def reduce_loss(loss, reduction, denominator):
    """'none' keeps the per-element losses, 'sum' adds them, 'mean' divides the sum by `denominator`."""
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum":
        return total
    with np.errstate(invalid="ignore", divide="ignore"):  # all targets ignored: 0/0 = nan, like torch
        return total / denominator


def loss_grad_per_element(g, reduction, denominator):
    """The incoming gradient as one factor per loss element (broadcastable): the adjoint of reduce_loss."""
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            return g / denominator
    return g


def require_floating(op, x, name="input"):
    """x: a raw array."""
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point {name}, got dtype {x.dtype} (shape {tuple(x.shape)})")
