"""Argument checks shared by every kernel: bad input raises ValueError naming the op and the shapes.

They read only `.shape`, `.ndim` and `.dtype`, so they serve NumPy and CuPy arrays alike.
Kernels never broadcast: a (..., C) input is flattened to (rows, C) and every other argument
must match it exactly.
"""


def _require_float(op, **arrays):
    dtypes = {name: a.dtype for name, a in arrays.items()}
    if any(d.kind not in "fV" for d in dtypes.values()) or len(set(dtypes.values())) != 1:
        described = ", ".join(f"{name} {d}" for name, d in dtypes.items())
        raise ValueError(f"{op}: needs floating-point arrays of one dtype, got {described}")


def _require_rows(op, name, x):
    if x.ndim < 1 or x.shape[-1] < 1:
        raise ValueError(f"{op}: {name} must have shape (..., C) with C >= 1, got {tuple(x.shape)}")


def _require_shape(op, name, a, shape):
    if tuple(a.shape) != tuple(shape):
        raise ValueError(f"{op}: {name} must have shape {tuple(shape)}, got {tuple(a.shape)}")


def check_matmul(op, a, b):
    """a (..., K) @ b (K, N). Returns (M, K, N) where M is the product of a's leading dims."""
    if a.dtype != b.dtype or a.dtype.kind not in "fV":
        _require_float(op, a=a, b=b)
    if a.ndim < 1 or b.ndim != 2 or a.shape[-1] != b.shape[0]:
        raise ValueError(f"{op}: needs a (..., K) and b (K, N), got a {tuple(a.shape)} and b {tuple(b.shape)}")
    M = 1
    for d in a.shape[:-1]:
        M *= d
    return (M,) + tuple(b.shape)


def check_softmax_forward(op, x):
    _require_float(op, x=x)
    _require_rows(op, "x", x)


def check_softmax_backward(op, dout, out):
    _require_float(op, dout=dout, out=out)
    _require_rows(op, "out", out)
    _require_shape(op, "dout", dout, out.shape)


def check_layernorm_forward(op, x, w, b):
    _require_float(op, x=x, w=w, b=b)
    _require_rows(op, "x", x)
    C = x.shape[-1]
    _require_shape(op, "w", w, (C,))
    _require_shape(op, "b", b, (C,))


def check_layernorm_backward(op, dout, x, w, mean, rstd):
    _require_float(op, dout=dout, x=x, w=w, mean=mean, rstd=rstd)
    _require_rows(op, "x", x)
    _require_shape(op, "dout", dout, x.shape)
    _require_shape(op, "w", w, (x.shape[-1],))
    _require_shape(op, "mean", mean, x.shape[:-1])
    _require_shape(op, "rstd", rstd, x.shape[:-1])


def check_gelu_forward(op, x):
    _require_float(op, x=x)


def check_gelu_backward(op, dout, x):
    _require_float(op, dout=dout, x=x)
    _require_shape(op, "dout", dout, x.shape)


def check_attention_forward(op, q, k, v):
    """q, k, v (..., T, D), one shape (self-attention: T queries and T keys)."""
    _require_float(op, q=q, k=k, v=v)
    if q.ndim < 2 or q.shape[-2] < 1 or q.shape[-1] < 1:
        raise ValueError(f"{op}: q must have shape (..., T, D) with T, D >= 1, got {tuple(q.shape)}")
    _require_shape(op, "k", k, q.shape)
    _require_shape(op, "v", v, q.shape)


def check_attention_backward(op, q, k, v, out, lse, dout):
    check_attention_forward(op, q, k, v)
    _require_float(op, q=q, out=out, lse=lse, dout=dout)
    _require_shape(op, "out", out, q.shape)
    _require_shape(op, "dout", dout, q.shape)
    _require_shape(op, "lse", lse, q.shape[:-1])


def check_attention_heads_forward(op, q, k, v, out, p):
    """q, k, v, out (B, H, T, D), one shape; p (B, H, T, T); one float dtype."""
    check_attention_forward(op, q, k, v)
    if q.ndim != 4:
        raise ValueError(f"{op}: q must have shape (B, H, T, D), got {tuple(q.shape)}")
    _require_float(op, q=q, out=out, p=p)
    _require_shape(op, "out", out, q.shape)
    _require_shape(op, "p", p, q.shape[:-1] + q.shape[-2:-1])


def check_attention_heads_backward(op, q, k, v, p, dout, dq, dk, dv):
    check_attention_heads_forward(op, q, k, v, dout, p)
    _require_float(op, q=q, dq=dq, dk=dk, dv=dv)
    for name, d in (("dq", dq), ("dk", dk), ("dv", dv)):
        _require_shape(op, name, d, q.shape)


def check_lstm_cell_forward(op, a, hh, c, h, cells, tanh_cells, y):
    """a, hh (rows, 4H); c, h, cells, tanh_cells, y (rows, H); one float dtype."""
    _check_lstm_cell(op, {"a": a, "hh": hh}, {"c": c, "h": h, "cells": cells, "tanh_cells": tanh_cells, "y": y})


def check_lstm_cell_backward(op, gates, c_prev, tanh_cells, dy, dh, dc, d_pre):
    """gates, d_pre (rows, 4H); c_prev, tanh_cells, dh, dc and dy unless None (rows, H); one float dtype."""
    states = {"c_prev": c_prev, "tanh_cells": tanh_cells, "dh": dh, "dc": dc}
    _check_lstm_cell(op, {"gates": gates, "d_pre": d_pre}, states if dy is None else {**states, "dy": dy})


def check_lstm_forward(op, steps, pre, hh_t, h, c, y, cells, tanh_cells):
    """pre (N, 4H), hh_t (H, 4H); h, c (B, H); y, cells, tanh_cells (N, H); steps inside them; one float dtype."""
    _check_lstm_cell(op, {"pre": pre}, {"y": y, "cells": cells, "tanh_cells": tanh_cells})
    _check_state(op, {"pre": pre}, {"h": h, "c": c}, {"hh_t": hh_t}, (y.shape[1], pre.shape[1]))
    _check_steps(op, steps, y.shape[0], h.shape[0])


def check_lstm_backward(op, steps, gates, c_prev, tanh_cells, w_hh, dy, dh, dc, d_pre):
    """gates, d_pre (N, 4H); c_prev, tanh_cells and dy unless None (N, H); w_hh (4H, H); dh, dc (B, H)."""
    outputs = {"c_prev": c_prev, "tanh_cells": tanh_cells}
    _check_lstm_cell(op, {"gates": gates, "d_pre": d_pre}, outputs if dy is None else {**outputs, "dy": dy})
    _check_state(op, {"gates": gates}, {"dh": dh, "dc": dc}, {"w_hh": w_hh}, (gates.shape[1], c_prev.shape[1]))
    _check_steps(op, steps, gates.shape[0], dh.shape[0])


def _check_state(op, like, states, weight, weight_shape):
    """`states` (name -> array) each (B, H), the one array of `weight` of weight_shape ((H, 4H) or
    (4H, H)), all of the dtype of the one array of `like`."""
    hidden = min(weight_shape)
    first = next(iter(states.values()))
    for name, a in states.items():
        if a.ndim != 2 or a.shape[1] != hidden:
            raise ValueError(f"{op}: {name} must have shape (B, {hidden}), got {tuple(a.shape)}")
        _require_shape(op, name, a, first.shape)
    (name, w), = weight.items()
    _require_shape(op, name, w, weight_shape)
    dtype = next(iter(like.values())).dtype
    if any(a.dtype != dtype for a in (*states.values(), w)):
        _require_float(op, **like, **states, **weight)


def _check_steps(op, steps, n_rows, batch):
    """steps (S, 2) of (first row, rows): each inside the N rows, with at most the batch's B rows."""
    if steps.ndim != 2 or steps.shape[1] != 2 or steps.dtype.kind != "i":
        raise ValueError(f"{op}: steps must be an integer array (S, 2) of (first row, rows), got "
                         f"{steps.dtype} {tuple(steps.shape)}")
    starts, rows = steps[:, 0], steps[:, 1]
    if len(steps) and (starts.min() < 0 or rows.min() < 0 or rows.max() > batch or (starts + rows).max() > n_rows):
        raise ValueError(f"{op}: each step (first row, rows) must lie in the {n_rows} rows with at most {batch} rows, "
                         f"got {steps.tolist()}")


def _check_lstm_cell(op, gates, states):
    """`gates` (name -> array) each (rows, 4H), `states` (name -> array) each (rows, H), H from the
    first state; one float dtype."""
    first = next(iter(states.values()))
    if first.ndim != 2:
        raise ValueError(f"{op}: the states must have shape (rows, H), got {tuple(first.shape)}")
    rows, n = first.shape
    for name, a in gates.items():
        _require_shape(op, name, a, (rows, 4 * n))
    for name, a in states.items():
        _require_shape(op, name, a, (rows, n))
    if first.dtype.kind not in "fV" or any(a.dtype != first.dtype for a in (*gates.values(), *states.values())):
        _require_float(op, **gates, **states)


def check_sgd_update(op, p, g):
    _require_float(op, p=p, g=g)
    _require_shape(op, "g", g, p.shape)


def check_mt19937(op, key, pos, n, threshold=0):
    """key the 624 state words (uint32, C-contiguous), pos in [0, 624], n >= 0 outputs, threshold in [0, 2^53]."""
    if key.dtype != "uint32" or tuple(key.shape) != (624,) or not key.flags.c_contiguous:
        raise ValueError(f"{op}: key must be the 624 state words, C-contiguous uint32, got {key.dtype} "
                         f"{tuple(key.shape)}")
    if not 0 <= pos <= 624 or n < 0 or not 0 <= threshold <= 1 << 53:
        raise ValueError(f"{op}: needs pos in [0, 624], n >= 0 and threshold in [0, 2^53], "
                         f"got pos {pos}, n {n}, threshold {threshold}")


def check_masked_scale(op, x, keep):
    _require_float(op, x=x)
    if keep.dtype != "bool":
        raise ValueError(f"{op}: keep must be a bool array, got {keep.dtype}")
    _require_shape(op, "keep", keep, x.shape)


def _check_windows(op, x_name, shape, kernel, stride, padding, dilation, out):
    """shape (N, C, *S) with d = 1 or 2 spatial dims, and kernel, stride, padding, dilation, out each
    d ints (kernel, stride, dilation, out >= 1; padding >= 0)."""
    d = len(shape) - 2
    if d not in (1, 2):
        raise ValueError(f"{op}: {x_name} must have shape (N, C, L) or (N, C, H, W), got {tuple(shape)}")
    positive = (*kernel, *stride, *dilation, *out)
    if len(positive) == 4 * d and len(padding) == d and min(positive) >= 1 and min(padding) >= 0 and \
            all(map(_is_int, positive + tuple(padding))):
        return
    given = {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation, "out": out}
    for name, values in given.items():
        lowest = 0 if name == "padding" else 1
        if len(values) != d or not all(map(_is_int, values)) or min(values) < lowest:
            raise ValueError(f"{op}: {name} must be {d} ints >= {lowest} for {x_name} {tuple(shape)}, got "
                             f"{tuple(values)}")


def _is_int(v):
    return int(v) == v


def check_im2col(op, x, kernel, stride, padding, dilation, groups, out):
    """x (N, C, *S) float, C a multiple of groups; the geometry as _check_windows says."""
    if x.dtype.kind not in "fV":
        _require_float(op, x=x)
    _check_windows(op, "x", x.shape, kernel, stride, padding, dilation, out)
    if groups < 1 or x.shape[1] % groups:
        raise ValueError(f"{op}: x {tuple(x.shape)} must have a multiple of groups = {groups} channels")


def check_col2im(op, rows, shape, kernel, stride, padding, dilation, out, bias):
    """rows (g, N prod out, C/g prod kernel) for the output shape (N, C, *S); bias (C,) or None; one float dtype."""
    if rows.dtype.kind not in "fV" or (bias is not None and bias.dtype != rows.dtype):
        _require_float(op, **({"rows": rows} if bias is None else {"rows": rows, "bias": bias}))
    _check_windows(op, "shape", shape, kernel, stride, padding, dilation, out)
    groups = rows.shape[0] if rows.ndim == 3 else 0
    if groups < 1 or shape[1] % groups:
        raise ValueError(f"{op}: rows must have shape (g, N prod out, C/g prod kernel) with C = {shape[1]} a "
                         f"multiple of g, got {tuple(rows.shape)}")
    count, size = 1, 1
    for m, k in zip(out, kernel):
        count, size = count * m, size * k
    _require_shape(op, "rows", rows, (groups, shape[0] * count, shape[1] // groups * size))
    if bias is not None:
        _require_shape(op, "bias", bias, (shape[1],))


def check_max_pool_forward(op, x, kernel, stride, padding, dilation, out):
    """x (N, C, *S) float; the geometry as _check_windows says."""
    if x.dtype.kind not in "fV":
        _require_float(op, x=x)
    _check_windows(op, "x", x.shape, kernel, stride, padding, dilation, out)


def check_max_pool_backward(op, g, indices, shape):
    """g (N, C, *out) float, indices of g's shape (integers), for an input of shape (N, C, *S)."""
    if g.dtype.kind not in "fV":
        _require_float(op, g=g)
    if indices.dtype.kind not in "iu" or tuple(indices.shape) != tuple(g.shape) or len(shape) != g.ndim or \
            tuple(shape[:2]) != tuple(g.shape[:2]):
        raise ValueError(f"{op}: needs g (N, C, *out), integer indices of its shape and an input shape (N, C, *S), got "
                         f"g {tuple(g.shape)}, indices {tuple(indices.shape)} {indices.dtype} and shape {tuple(shape)}")


def check_float32(op, **arrays):
    """The Numba CPU kernels without a float64 build: float32 arrays only (None skipped)."""
    dtypes = {name: a.dtype for name, a in arrays.items() if a is not None}
    if any(d != "float32" for d in dtypes.values()):
        described = ", ".join(f"{name} {d}" for name, d in dtypes.items())
        raise ValueError(f"{op}: the Numba kernel takes float32 arrays, got {described}")
