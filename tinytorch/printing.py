"""How tensors print, exactly as torch prints them: `repr` (= `str`) and `format` of a Tensor, and
the print options (`tinytorch.set_printoptions`).

The rules (those of torch's `_tensor_str.py`):

- Options: `precision` 4 digits, `threshold` 1000 elements, `edgeitems` 3, `linewidth` 80,
  `sci_mode` None (chosen per tensor). Profiles: "default", "short" (precision 2, edgeitems 2),
  "full" (threshold inf). `set_printoptions` always sets `sci_mode`, so leaving it out resets it.
- Summarising: a tensor of more than `threshold` elements shows, along every dim longer than
  2 * edgeitems, only its first and last `edgeitems` entries with "..." between. With edgeitems 0
  a summarised tensor prints as "[...]", and every non-empty tensor shows its `size=`.
- One format for all the shown elements, so that all have one width (the longest, right-aligned):
  - ints and bools print as Python prints them (`True`, `-3`).
  - floats look at the finite non-zero values v: `int_mode` when each v is an integer;
    `sci_mode` when max|v| / min|v| > 1000, max|v| > 1e8 or min|v| < 1e-4 (unless set_printoptions
    fixed sci_mode; a tensor with no such v never uses it). An element prints as `{:.{p}e}` in
    sci mode, else `{:.0f}` plus "." (not after nan/inf) in int mode, else `{:.{p}f}`. The width
    is the longest string among those v (at least 1), so nan, inf and zeros may stick out.
- Layout: the contents start after "tensor(", the indent; each nesting level adds 1. A row of
  elements wraps after max(1, floor((linewidth - indent) / (width + 2))) elements; sub-tensors
  are joined by "," and (ndim - 1) newlines, then the indent.
- Suffixes, in order: `device='cuda:0'` off the CPU; `size=(...)` for an empty tensor that is
  not 1-d; `dtype=...` unless the dtype is the default float dtype, int64 or bool (an empty
  tensor shows any dtype but the default float one); `grad_fn=<MulBackward0>` for a result of a
  recorded op, else `requires_grad=True` when set. A suffix goes on a new line, indented, when it
  would pass `linewidth`.
- `format(t, spec)`: a 0-dim plain Tensor formats `t.item()` with the spec (so `f"{loss}"` is
  `str(loss.item())` and `f"{loss:.4f}"` works); any other tensor takes only the empty spec.
"""
import dataclasses
import math

import numpy as np

from . import dtypes as _dt
from .device import array_module


@dataclasses.dataclass
class PrintOptions:
    """The options every repr reads (torch's defaults); `set_printoptions` changes them."""

    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


_OPTIONS = PrintOptions()
_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """torch.set_printoptions: a profile first, then each option that is given; `sci_mode` is
    always set (True, False, or None to let each tensor choose)."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions(): profile must be one of {', '.join(map(repr, _PROFILES))}, "
                             f"got {profile!r}")
        for name, value in _PROFILES[profile].items():
            setattr(_OPTIONS, name, value)
    for name, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                        ("linewidth", linewidth)):
        if value is not None:
            setattr(_OPTIONS, name, value)
    _OPTIONS.sci_mode = sci_mode


def get_printoptions():
    """The current options as a dict that `set_printoptions(**options)` accepts."""
    return dataclasses.asdict(_OPTIONS)


def tensor_repr(t):
    """repr(t) and str(t): `tensor([...], <suffixes>)`."""
    prefix = "tensor("
    indent = len(prefix)
    a = t._data
    suffixes = []
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device.type}:{a.device.id}'")
    if a.size == 0:
        body = "[]"
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if t.dtype is not _dt.get_default_dtype():
            suffixes.append(f"dtype={t.dtype!r}")
    else:
        if not _OPTIONS.edgeitems:
            suffixes.append(f"size={tuple(a.shape)}")
        if t.dtype not in (_dt.get_default_dtype(), _dt.int64, _dt.bool_):
            suffixes.append(f"dtype={t.dtype!r}")
        body = _contents(a, indent)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + body, suffixes, indent)


def tensor_format(t, spec, plain):
    """format(t, spec); `plain` says t is a Tensor, not a subclass such as Parameter."""
    if t._data.ndim == 0 and plain:
        return format(t.item(), spec)
    return object.__format__(t, spec)  # str(t) for the empty spec, else torch's TypeError


def _contents(a, indent):
    """The bracketed elements of a non-empty array `a` (NumPy or CuPy)."""
    edge = _OPTIONS.edgeitems
    summarize = a.size > _OPTIONS.threshold
    if summarize and a.ndim and not edge:
        return "[...]"
    cut = [summarize and n > 2 * edge for n in a.shape]
    shown = _to_host(_edges(a, cut, edge))
    cells, width = _cells(shown)
    return _nested(cells, cut, indent, width)


def _edges(a, cut, edge):
    """`a` with only the first and last `edge` entries kept along each dim marked in `cut`."""
    for axis, is_cut in enumerate(cut):
        if is_cut:
            head = (slice(None),) * axis + (slice(None, edge),)
            tail = (slice(None),) * axis + (slice(-edge, None),)
            a = array_module(a).concatenate((a[head], a[tail]), axis=axis)
    return a


def _cells(a):
    """Every element of the host array `a` as its right-aligned string (an object array shaped
    like `a`), and their common width."""
    if a.dtype.kind in _dt.FLOAT_KINDS:
        to_str, measured = _float_format(a)
    else:
        to_str, measured = str, np.ones(a.shape, dtype=bool)
    strings = [to_str(v) for v in a.ravel().tolist()]
    width = max([1] + [len(s) for s, m in zip(strings, measured.ravel()) if m])
    cells = np.array([s.rjust(width) for s in strings], dtype=object).reshape(a.shape)
    return cells, width


def _float_format(a):
    """(value -> string, mask of the values that set the width) for the floating array `a`."""
    precision = _OPTIONS.precision
    measured = np.isfinite(a) & (a != 0)
    if not measured.any():
        return _int_mode_str, measured
    magnitudes = np.abs(a[measured].astype(np.float64))
    smallest, largest = magnitudes.min(), magnitudes.max()
    if _OPTIONS.sci_mode is not None:
        sci_mode = _OPTIONS.sci_mode
    else:
        sci_mode = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
    if sci_mode:
        return (lambda v: f"{v:.{precision}e}"), measured
    if np.all(magnitudes == np.ceil(magnitudes)):
        return _int_mode_str, measured
    return (lambda v: f"{v:.{precision}f}"), measured


def _int_mode_str(v):
    """An integer-valued float: `3.`, `-0.`, and `nan`, `inf` as they are."""
    text = f"{v:.0f}"
    return text if math.isinf(v) or math.isnan(v) else text + "."


def _nested(cells, cut, indent, width):
    """Brackets around the padded strings `cells`, "..." after the first `edgeitems` entries of
    each dim marked in `cut`."""
    edge = _OPTIONS.edgeitems
    if cells.ndim == 0:
        return cells.item()
    if cells.ndim == 1:
        items = list(cells)
        if cut[0]:
            items = items[:edge] + [" ..."] + items[edge:]
        per_line = max(1, math.floor((_OPTIONS.linewidth - indent) / (width + 2)))
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    parts = [_nested(sub, cut[1:], indent + 1, width) for sub in cells]
    if cut[0]:
        parts = parts[:edge] + ["..."] + parts[edge:]
    return "[" + ("," + "\n" * (cells.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _with_suffixes(text, suffixes, indent):
    """text + ", suffix" for each suffix (on a new indented line when it would pass linewidth) + ")"."""
    pieces = [text]
    line_length = len(text) - text.rfind("\n") + 1  # as torch counts: the last line's length + 2
    for suffix in suffixes:
        if line_length + len(suffix) + 2 > _OPTIONS.linewidth:
            pieces.append(",\n" + " " * indent + suffix)
            line_length = indent + len(suffix)
        else:
            pieces.append(", " + suffix)
            line_length += len(suffix) + 2
    return "".join(pieces) + ")"


def _to_host(a):
    return a if isinstance(a, np.ndarray) else a.get()
