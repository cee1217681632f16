"""Padding as a gather: each position of the padded axis reads one position of the input axis.

Along an axis of n positions padded by `before` and `after` (negative: cropped), padded position
j stands at input position p = j - before, and reads

    constant:   p itself when 0 <= p < n, else the fill value
    reflect:    p mirrored at both ends without repeating the edge (n - 1 is the period's half)
    replicate:  p clipped to [0, n - 1]
    circular:   p mod n (after the negative pads crop: wrapping over what is left, as torch)

so padding is `x[..., index]` (then the fill where the position is outside), and its gradient is
the matching scatter-add of indexing: autograd differentiates `pad_naive` as it stands. The
convolutions and poolings pad arrays with a constant only (`pad_array`).
"""
import numpy as np

from ..device import array_module

PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad_index(n, before, after, mode):
    """(index, inside): the input position each padded position reads, and, for constant mode
    where some position falls outside, the mask of those that do not (else None)."""
    p = np.arange(-before, n + after)
    if mode == "constant":
        inside = (p >= 0) & (p < n)
        return np.clip(p, 0, n - 1), None if inside.all() else inside
    if mode == "reflect":
        period = 2 * (n - 1)
        p = np.abs(p) % period if period else np.zeros_like(p)
        return np.where(p >= n, period - p, p), None
    if mode == "replicate":
        return np.clip(p, 0, n - 1), None
    start, stop = max(-before, 0), n - max(-after, 0)
    return start + (p - start) % (stop - start), None


def pad_naive(x, pairs, mode="constant", value=0.0):
    """x padded (or cropped) by pairs[k] = (before, after) along its last len(pairs) axes."""
    first = x.ndim - len(pairs)
    for axis, (before, after) in enumerate(pairs, start=first):
        if before == after == 0:
            continue
        index, inside = pad_index(x.shape[axis], before, after, mode)
        x = x[(slice(None),) * axis + (index,)]
        if inside is not None:
            mask = x.new_tensor(inside.reshape((-1,) + (1,) * (x.ndim - axis - 1)).astype(np.float64)) > 0
            x = x.where(mask, value)
    return x


def pad_array(x, pairs, value=0.0):
    """An array x padded by pairs[k] = (before, after) >= 0 along its last len(pairs) axes with value."""
    if not any(before or after for before, after in pairs):
        return x
    lead = x.shape[:x.ndim - len(pairs)]
    shape = lead + tuple(n + before + after for n, (before, after) in zip(x.shape[len(lead):], pairs))
    out = array_module(x).full(shape, value, dtype=x.dtype)
    out[(...,) + tuple(slice(before, before + n) for n, (before, _) in zip(x.shape[len(lead):], pairs))] = x
    return out


def crop_array(x, pairs):
    """The inverse of pad_array: x without pairs[k] = (before, after) along its last len(pairs) axes."""
    sizes = x.shape[x.ndim - len(pairs):]
    return x[(...,) + tuple(slice(before, n - after) for n, (before, after) in zip(sizes, pairs))]
