"""Histograms on raw arrays (NumPy or CuPy), as torch computes them on the CPU: `histc`,
`histogram` and `bincount`. None is differentiable (torch has no backward for them). The Tensor
methods (tensor_math.py) check the Python arguments and wrap these.

The bins of a histogram with edges e_0 <= ... <= e_n are [e_0, e_1), ..., [e_{n-2}, e_{n-1}),
[e_{n-1}, e_n]: the last bin also holds its right edge. Values outside [e_0, e_n], and nan, are
left out.

- `histc(x, bins, lo, hi)` counts into `bins` equal bins from lo to hi (torch's min and max).
  lo == hi (the default 0, 0) takes the data's extremes instead; a range that is still empty
  widens to [lo - 1, hi + 1]. The bin of x is trunc((x - lo) * bins / (hi - lo)) computed in
  x's dtype, torch's arithmetic (it never looks at the inner edges). Floating x only; the
  counts have x's dtype.
- `histogram(x, bins, value_range, weight, density)`: `bins` an int (edges
  torch.linspace(lo, hi, bins + 1) in x's dtype, lo and hi from `value_range` (torch's
  `range`), else the data's extremes, else [0, 1] for an empty x; an empty range widens by 0.5
  each way) or the edges themselves (a 1-d array of x's dtype). The bin of x is the last edge
  <= x. float32 and float64 only. Each x adds its `weight` (same dtype, one per element)
  instead of 1; `density` divides by the total and by each bin's width, so the histogram
  integrates to 1.
- `bincount(x, weights, minlength)`: x 1-d non-negative integers; out[i] counts the x equal to i
  (int64), or sums their weights (float32 for float32 weights, else float64); the length is
  max(max(x) + 1, minlength). An empty x gives int64 zeros of `minlength`, weights or not.
"""
from fractions import Fraction

import numpy as np

from ..device import array_module

_HISTOGRAM_DTYPES = (np.float32, np.float64)


def histc(x, bins, lo, hi):
    """The counts of `x` in `bins` equal-width bins from `lo` to `hi` (see the module doc)."""
    if x.dtype.kind != "f":
        raise NotImplementedError(f"histc(): input of dtype {x.dtype} is not supported; expected a floating "
                                  "dtype (float16, float32 or float64)")
    _positive_bins(bins, "histc")
    xp = array_module(x)
    lo, hi = float(lo), float(hi)
    if lo == hi and x.size:
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"histc(): range of [{lo:g}, {hi:g}] is not finite")
    if not lo < hi:
        raise RuntimeError(f"histc(): max must be larger than min, got min {lo:g} and max {hi:g}")
    scalar = x.dtype.type
    left, right = scalar(lo), scalar(hi)
    x = x.ravel()
    x = x[(x >= left) & (x <= right)]
    with np.errstate(over="ignore"):
        quotient = (x - left) * scalar(bins) / (right - left)
    # x == max, and a float16 product that overflows, belong to the last bin
    index = xp.minimum(quotient.astype(np.float64), bins - 1).astype(np.int64)
    return xp.bincount(index, minlength=bins).astype(x.dtype)


def histogram(x, bins, value_range=None, weight=None, density=False):
    """(hist, bin_edges) of `x`; `bins` an int or an array of edges (see the module doc)."""
    xp = array_module(x)
    if x.dtype not in _HISTOGRAM_DTYPES:
        raise NotImplementedError(f"histogram(): input of dtype {x.dtype} is not supported; expected float32 or "
                                  "float64")
    if isinstance(bins, int):
        _positive_bins(bins, "histogram")
        lo, hi = _outer_edges(x, value_range)
        edges = xp.asarray(linspace(lo, hi, bins + 1, x.dtype))
    else:
        edges = _checked_edges(bins, x.dtype)
    x = x.ravel()
    if weight is not None:
        weight = _checked_weight(weight, x)
    inside = (x >= edges[0]) & (x <= edges[-1])
    index = xp.searchsorted(edges, x[inside], side="right") - 1
    nbins = edges.size - 1
    index = xp.minimum(index, nbins - 1)  # x == the last edge belongs to the last bin
    counts = xp.bincount(index, None if weight is None else weight[inside], minlength=nbins)
    hist = counts.astype(x.dtype)
    if density:
        with np.errstate(divide="ignore", invalid="ignore"):
            hist = hist / hist.sum() / xp.diff(edges)
    return hist, edges


def linspace(start, end, steps, dtype):
    """torch's CPU linspace in `dtype` (NumPy, on the host): step = (end - start) / (steps - 1)
    in `dtype`; the first half of the points is start + step * i, the rest end - step * (steps - 1 - i),
    each a fused multiply-add as torch's compiled kernel computes it: exact here (in fractions),
    then rounded to float64 and to `dtype`."""
    scalar = np.dtype(dtype).type
    start, end = scalar(start), scalar(end)
    step = (end - start) / scalar(steps - 1)
    first, last, step = Fraction(float(start)), Fraction(float(end)), Fraction(float(step))
    half = steps // 2
    points = [first + step * i if i < half else last - step * (steps - 1 - i) for i in range(steps)]
    return np.array([float(p) for p in points]).astype(dtype)


def bincount(x, weights=None, minlength=0):
    """How often each of 0, 1, ..., max(x) occurs in `x`, or the sum of its weights (see the module doc)."""
    xp = array_module(x)
    if x.dtype.kind not in "iu":
        raise NotImplementedError(f"bincount(): input of dtype {x.dtype} is not supported; expected an integer "
                                  "dtype (uint8, int16, int32 or int64)")
    if minlength < 0:
        raise RuntimeError(f"bincount(): minlength should be >= 0, got {minlength}")
    if x.ndim != 1 or (x.size and int(x.min()) < 0):
        raise RuntimeError("bincount(): only supports 1-d non-negative integral inputs, got "
                           + (f"shape {tuple(x.shape)}" if x.ndim != 1 else f"the value {int(x.min())}"))
    if weights is not None and (weights.ndim != 1 or weights.shape[0] != x.shape[0]):
        raise RuntimeError(f"bincount(): weights should be 1-d and have the same length as input ({x.shape[0]}), "
                           f"got shape {tuple(weights.shape)}")
    if x.size == 0:
        return xp.zeros(minlength, dtype=np.int64)
    if weights is None:
        return xp.bincount(x, minlength=minlength).astype(np.int64)
    out_dtype = np.float32 if weights.dtype == np.float32 else np.float64
    return xp.bincount(x, weights.astype(np.float64), minlength=minlength).astype(out_dtype)


def _positive_bins(bins, op):
    if bins <= 0:
        raise RuntimeError(f"{op}(): bins must be > 0, but got {bins}")


def _outer_edges(x, value_range):
    """(lo, hi) of an int-bins histogram: `value_range`, else the data's extremes, else (0, 1)."""
    if value_range is not None:
        if len(value_range) != 2:
            raise RuntimeError(f"histogram(): range should have 2 elements (min, max), but got {len(value_range)}")
        lo, hi = float(value_range[0]), float(value_range[1])
    elif x.size:
        lo, hi = float(x.min()), float(x.max())
    else:
        lo, hi = 0.0, 1.0
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RuntimeError(f"histogram(): range of [{lo:g}, {hi:g}] is not finite")
    if lo > hi:
        raise RuntimeError(f"histogram(): min should not exceed max, but got min {lo:g} and max {hi:g}")
    if lo == hi:  # numpy's rule; it also keeps density's division finite
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


def _checked_edges(edges, dtype):
    if edges.dtype != dtype:
        raise RuntimeError(f"histogram(): the input and the bins tensor should have the same dtype, but got "
                           f"input {dtype} and bins {edges.dtype}")
    if edges.ndim != 1:
        raise RuntimeError(f"histogram(): the bins tensor should have one dimension, but got {edges.ndim}")
    if edges.size < 2:
        raise RuntimeError(f"histogram(): the bins tensor should hold at least 2 edges (1 bin), but got {edges.size}")
    return edges


def _checked_weight(weight, x):
    if weight.dtype != x.dtype:
        raise RuntimeError(f"histogram(): the input and the weight tensor should have the same dtype, but got "
                           f"input {x.dtype} and weight {weight.dtype}")
    if weight.size != x.size:
        raise RuntimeError(f"histogram(): the weight tensor should have one element per input element ({x.size}), "
                           f"but got shape {tuple(weight.shape)}")
    return weight.ravel()
