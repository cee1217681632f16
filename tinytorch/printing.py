"""How tensors print: `repr`, `str` and `format` of a Tensor."""
import numpy as np

from . import dtypes as _dt


def tensor_repr(t):
    """torch-like repr: tensor([...], dtype=..., requires_grad=True)."""
    a = t._host()
    if a.dtype.kind == "f":
        body = np.array2string(a, separator=", ", prefix="tensor(", precision=4, floatmode="maxprec_equal",
                               threshold=1000, edgeitems=3)
    else:
        body = np.array2string(a, separator=", ", prefix="tensor(", threshold=1000, edgeitems=3)
    extras = []
    if t._data.dtype not in (_dt.get_default_dtype().np, np.int64, np.bool_) or (a.size == 0 and a.dtype != _dt.get_default_dtype().np):
        extras.append(f"dtype={t.dtype!r}")
    if t.device.type != "cpu":
        extras.append("device='cuda:0'")
    if t._ctx is not None:
        extras.append(f"grad_fn=<{t._ctx.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"


def tensor_format(t, spec):
    """format(t, spec): a 0-dim tensor formats its value (f"{loss:.4f}"), others their repr."""
    if t._data.ndim == 0 and spec:
        return format(t.item(), spec)
    return tensor_repr(t) if not spec else format(t.tolist(), spec)
