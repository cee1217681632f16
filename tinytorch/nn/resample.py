"""F.pad and F.interpolate: composites of indexing and arithmetic, which autograd differentiates.

pad: each padded axis gathers its input positions by an index map (fused_pad), so the gradient
is indexing's scatter-add: reflect and replicate send a pad's gradient back to the positions it
copies, constant padding sends none.

interpolate, per resized axis of S input and L output positions:
  nearest:  output l reads input floor(l * scale) (min S - 1), scale = S / L, or 1 / scale_factor
            when that is given;
  linear:   output l stands at input coordinate c = l * (S - 1) / (L - 1) with align_corners, else
            c = max(0, (l + 1/2) * scale - 1/2), and is (1 - t) x[i] + t x[i + 1] with i = floor(c)
            (i + 1 clipped to S - 1) and t = c - i. bilinear is linear along each of two axes.
"""
import math

import numpy as np

from .fused_pad import PAD_MODES, pad_naive

def pad(input, pad, mode="constant", value=None):
    """torch.nn.functional.pad: pad = (before, after) for the last dim, then the one before it, ..."""
    if mode not in PAD_MODES:
        raise NotImplementedError(f"pad: unsupported padding mode {mode!r} (expected one of {', '.join(PAD_MODES)})")
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError("Padding length too large")
    if mode != "constant" and (len(pad) // 2 not in (1, 2, 3) or input.ndim - len(pad) // 2 not in (1, 2)):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {input.ndim}D input tensor "
                                  f"(mode {mode!r} pads the last k = 1, 2 or 3 dims of a (k+1)D or (k+2)D input)")
    if mode != "constant" and value:
        raise NotImplementedError(f"Padding mode \"{mode}\" doesn't take in value argument.")
    pairs = [(int(pad[2 * i]), int(pad[2 * i + 1])) for i in reversed(range(len(pad) // 2))]
    first = input.ndim - len(pairs)
    for axis, (before, after) in enumerate(pairs, start=first):
        n = input.shape[axis]
        if mode == "reflect" and (before >= n or after >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({before}, {after}) at dimension {axis} of input {list(input.shape)}")
        if (mode != "constant" and n == 0) or n + before + after < 0:
            raise RuntimeError(f"pad: padding ({before}, {after}) at dimension {axis} leaves nothing of input "
                               f"{list(input.shape)}")
    return pad_naive(input, pairs, mode, 0.0 if value is None else value)


_SPATIAL = {"nearest": (1, 2, 3), "linear": (1,), "bilinear": (2,)}


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    """torch.nn.functional.interpolate for modes nearest, linear (3-d input) and bilinear (4-d input)."""
    if mode not in _SPATIAL:
        raise NotImplementedError(f"interpolate: mode {mode!r} is not supported by tinytorch yet "
                                  f"(nearest, linear, bilinear)")
    d = input.ndim - 2
    if d not in _SPATIAL[mode]:
        needs = {"linear": "3D", "bilinear": "4D"}.get(mode, "3D, 4D or 5D")
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {needs} input")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | "
                         "bicubic | trilinear")
    if antialias:
        raise NotImplementedError("interpolate: antialias is not supported by tinytorch yet")
    if (size is None) == (scale_factor is None):
        raise ValueError("either size or scale_factor should be defined" if size is None else
                         "only one of size or scale_factor should be defined")
    sizes = tuple(input.shape[2:])
    if size is not None:
        out = tuple(size) if isinstance(size, (tuple, list)) else (size,) * d
        scales = [n / m for n, m in zip(sizes, out)]
    else:
        factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * d
        out = tuple(int(math.floor(n * f)) for n, f in zip(sizes, factors))
        scales = [n / m if recompute_scale_factor else 1.0 / f for n, m, f in zip(sizes, out, factors)]
    if len(out) != d:
        raise ValueError(f"interpolate: size {size} does not match the {d} spatial dims of input {list(input.shape)}")
    x = input
    for axis, (n, m, scale) in enumerate(zip(sizes, out, scales), start=2):
        if mode == "nearest":
            x = x[(slice(None),) * axis + (np.minimum(np.floor(np.arange(m) * scale).astype(np.int64), n - 1),)]
        else:
            x = _linear_along(x, axis, n, m, scale, bool(align_corners))
    return x


def _linear_along(x, axis, n, m, scale, align_corners):
    """x resized from n to m positions along axis by linear interpolation (the module doc)."""
    dst = np.arange(m, dtype=np.float64)
    if align_corners:
        src = dst * ((n - 1) / (m - 1) if m > 1 else 0.0)
    else:
        src = np.maximum((dst + 0.5) * scale - 0.5, 0.0)
    low = np.minimum(np.floor(src).astype(np.int64), n - 1)
    high = np.minimum(low + 1, n - 1)
    t = x.new_tensor((src - low).reshape((-1,) + (1,) * (x.ndim - axis - 1)))
    at = (slice(None),) * axis
    return x[at + (low,)] * (1 - t) + x[at + (high,)] * t
