"""Pieces the fused ops share: loss reductions and input checks (the row-block passes are
kernels/numpy/arrays.py)."""
import numbers

import numpy as np

from ..device import array_module


def shape_tuple(shape):
    """A normalized_shape argument (an int or a sequence of them) as a tuple of ints."""
    return (int(shape),) if isinstance(shape, numbers.Integral) else tuple(int(s) for s in shape)


def legacy_reduction(size_average, reduce, reduction):
    """torch's old `size_average` / `reduce` flags -> a `reduction` string (they win when given)."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "mean" if size_average and reduce else ("sum" if reduce else "none")


REDUCTIONS = ("mean", "sum", "none")


def check_reduction(op, reduction, allowed=REDUCTIONS):
    if reduction not in allowed:
        expected = ", ".join(repr(r) for r in allowed[:-1]) + f" or {allowed[-1]!r}"
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction (expected {expected})")


def reduce_loss(loss, reduction, denominator):
    """'none' keeps the per-element losses, 'sum' adds them, 'mean' divides the sum by `denominator`."""
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "sum" or _nonzero_number(denominator):
        return total if reduction == "sum" else total / denominator
    with np.errstate(invalid="ignore", divide="ignore"):  # all targets ignored: 0/0 = nan, like torch
        return total / denominator


def loss_grad_per_element(g, reduction, denominator):
    """The incoming gradient as one factor per loss element (broadcastable): the adjoint of reduce_loss.
    A 'mean' over no counted element (every target ignored) is NaN, and its gradient zero, as torch's."""
    if reduction == "mean":
        if _nonzero_number(denominator):
            return g / denominator
        with np.errstate(invalid="ignore", divide="ignore"):
            return array_module(g).where(denominator == 0, 0 * g, g / denominator)
    return g


def _nonzero_number(d):
    """Whether d is a host number (not a device array, which would have to be synchronised) other than 0."""
    return isinstance(d, (int, float, np.generic)) and d != 0


def require_floating(op, x, name="input"):
    """x: a raw array."""
    if x.dtype.kind not in "fV":
        raise TypeError(f"{op}: expected a floating-point {name}, got dtype {x.dtype} (shape {tuple(x.shape)})")
