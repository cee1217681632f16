"""Testing helpers: numerical gradient checks, lecture-5 style comparisons, torch parity.

- `gradcheck(fn, *inputs)`: autograd's gradients against float64 central differences.
- `assert_close` / `cmp`: the `exact | approximate | maxdiff` line of Zero-to-Hero lecture 5.
- `compare_with_torch(fn, *arrays)`: one lambda `fn(m, *tensors)` run with m = torch and
  m = tinytorch; the outputs (values, shapes, dtypes) and every input's gradient must agree.
"""
import numpy as np


def _to_numpy(x):
    from .tensor import Tensor
    if isinstance(x, Tensor):
        return x.numpy(force=True)
    if hasattr(x, "detach"):  # a torch tensor
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _triple(a, b, atol, rtol):
    exact = bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f" and b.dtype.kind == "f"))
    approx = bool(np.allclose(a, b, atol=atol, rtol=rtol, equal_nan=True))
    diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
    maxdiff = float(np.nanmax(diff)) if diff.size and not np.isnan(diff).all() else 0.0
    return exact, approx, maxdiff


def cmp(name, dt, t, atol=1e-6, rtol=1e-5):
    """Lecture 5's check: prints `name | exact: bool | approximate: bool | maxdiff: float`.

    `dt` is the value computed by hand, `t` the reference (e.g. autograd's gradient).
    Returns (exact, approximate, maxdiff).
    """
    a, b = _to_numpy(dt), _to_numpy(t)
    if a.shape != b.shape:
        raise AssertionError(f"{name}: shapes differ: {a.shape} vs {b.shape}")
    exact, approx, maxdiff = _triple(a, b, atol, rtol)
    print(f"{name:15s} | exact: {str(exact):5s} | approximate: {str(approx):5s} | maxdiff: {maxdiff}")
    return exact, approx, maxdiff


def assert_close(actual, expected, atol=1e-6, rtol=1e-5, name="tensor"):
    """Raise AssertionError with the `exact | approximate | maxdiff` triple unless
    |actual - expected| <= atol + rtol |expected| everywhere (NaNs must match NaNs)."""
    a, b = _to_numpy(actual), _to_numpy(expected)
    if a.shape != b.shape:
        raise AssertionError(f"{name}: shape {a.shape} != expected {b.shape}")
    exact, approx, maxdiff = _triple(a, b, atol, rtol)
    if not approx:
        raise AssertionError(f"{name} | exact: {exact} | approximate: {approx} | maxdiff: {maxdiff} "
                             f"(atol={atol}, rtol={rtol})")


def _float_outputs(out):
    """The floating tensors among fn's outputs (a tensor, or a tuple/list of them)."""
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if o.dtype.is_floating_point]


def _weights(outs, seed=0):
    """Fixed random weights w_k, one per output: the checked scalar is sum_k sum(out_k * w_k)."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(tuple(o.shape)) for o in outs]


def numerical_grad(f, x, eps=1e-6):
    """Central differences of the scalar function f() with respect to the float64 tensor x:
    d f / d x_j ~ (f(x + eps e_j) - f(x - eps e_j)) / (2 eps), one element at a time."""
    from .autograd import no_grad
    saved = x._data
    work = np.array(saved, dtype=np.float64, order="C")
    flat = work.reshape(-1)
    grad = np.empty(flat.size)
    x._data = work
    try:
        with no_grad():
            for j in range(flat.size):
                v = flat[j]
                flat[j] = v + eps
                up = f()
                flat[j] = v - eps
                down = f()
                flat[j] = v
                grad[j] = (up - down) / (2 * eps)
    finally:
        x._data = saved
    return grad.reshape(saved.shape)


def gradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-4):
    """Check autograd's gradient of fn at float64 `inputs` against central differences.

    The checked scalar is L = sum_k sum(out_k * w_k) over fn's floating outputs, with fixed
    random w_k. Every input tensor that requires grad is checked, and its `.grad.shape` must
    equal its shape. Returns True or raises AssertionError naming the input and the triple.
    """
    from .tensor import Tensor
    for x in inputs:
        if isinstance(x, Tensor) and x.requires_grad and x.dtype.name != "float64":
            raise ValueError(f"gradcheck: inputs that require grad must be float64 (got {x.dtype})")
    outs = _float_outputs(fn(*inputs))
    if not outs:
        raise ValueError("gradcheck: fn returned no floating-point tensor to differentiate")
    ws = _weights(outs)

    def loss():
        return float(sum((_to_numpy(o) * w).sum() for o, w in zip(_float_outputs(fn(*inputs)), ws)))

    for x in inputs:
        if isinstance(x, Tensor):
            x.grad = None
    total = None
    for o, w in zip(outs, ws):
        term = (o * Tensor._wrap(np.asarray(w, dtype=np.float64))).sum()
        total = term if total is None else total + term
    if total.requires_grad:
        total.backward()
    for i, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        numeric = numerical_grad(loss, x, eps)
        if x.grad is None:
            if np.abs(numeric).max(initial=0.0) > atol:
                raise AssertionError(f"gradcheck: input {i} received no gradient, but its numerical gradient is not 0")
            continue
        if tuple(x.grad.shape) != tuple(x.shape):
            raise AssertionError(f"gradcheck: input {i} grad shape {tuple(x.grad.shape)} != input shape {tuple(x.shape)}")
        assert_close(x.grad, numeric, atol=atol, rtol=rtol, name=f"gradcheck input {i} grad")
    return True


def leaf(m, array, requires_grad=None, device=None):
    """A leaf tensor of library m (torch or tinytorch) with the values AND the memory layout of
    `array` (a transposed or strided array gives a non-contiguous leaf); floating arrays
    require grad unless told otherwise. On a `device` other than the CPU the leaf is a copy
    there (its layout is the device library's choice)."""
    array = np.asarray(array)
    if requires_grad is None:
        requires_grad = array.dtype.kind == "f"
    t = m.from_numpy(_copy_keeping_strides(array)) if array.ndim else m.tensor(array)
    if device is not None and str(device) != "cpu":
        t = t.to(device)
    return t.requires_grad_(True) if requires_grad else t


def _copy_keeping_strides(a):
    """A writable copy of `a` laid out in memory as `a` is (strides may be permuted or gapped)."""
    if a.flags.c_contiguous or a.size == 0 or any(s <= 0 for s in a.strides):
        return np.array(a, order="C")
    span = 1 + sum((n - 1) * s // a.itemsize for n, s in zip(a.shape, a.strides))
    out = np.lib.stride_tricks.as_strided(np.zeros(span, dtype=a.dtype), a.shape, a.strides)
    out[...] = a
    return out


def compare_with_torch(fn, *arrays, requires_grad=None, atol=1e-6, rtol=1e-5, torch_fn=None, device=None):
    """Run fn(m, *tensors) with m = torch and m = tinytorch on the same arrays and compare.

    tinytorch runs on `device` (default the CPU); torch, the oracle, always on the CPU.

    Inputs keep each array's memory layout (see `leaf`); floating ones require grad unless
    `requires_grad` (one bool per array) says otherwise. Outputs (a tensor or a tuple of them)
    must agree in shape, dtype and value; then the gradient of sum_k sum(out_k * w_k) over the
    floating outputs must agree for every input. `torch_fn` replaces fn on the torch side when
    the two spellings differ (e.g. a negative-step slice, which torch lacks). Returns the outputs.
    """
    import torch
    import tinytorch
    if requires_grad is None:
        requires_grad = [None] * len(arrays)
    results = {}
    for m, f in ((torch, torch_fn or fn), (tinytorch, fn)):
        ts = [leaf(m, a, r, device if m is tinytorch else None) for a, r in zip(arrays, requires_grad)]
        out = f(m, *ts)
        outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        floats = [o for o in outs if o.dtype.is_floating_point and o.requires_grad]
        if floats:
            total = sum((o * m.tensor(w, dtype=o.dtype, device=o.device)).sum()
                        for o, w in zip(floats, _weights(floats, seed=1)))
            total.backward()
        results[m.__name__] = (outs, [t.grad for t in ts])
    (t_outs, t_grads), (o_outs, o_grads) = results["torch"], results["tinytorch"]
    if len(o_outs) != len(t_outs):
        raise AssertionError(f"tinytorch returned {len(o_outs)} outputs, torch {len(t_outs)}")
    for k, (a, b) in enumerate(zip(o_outs, t_outs)):
        if str(a.dtype).split(".")[-1] != str(b.dtype).split(".")[-1]:
            raise AssertionError(f"output {k}: dtype {a.dtype} != torch's {b.dtype}")
        if a.requires_grad != b.requires_grad:
            raise AssertionError(f"output {k}: requires_grad {a.requires_grad} != torch's {b.requires_grad}")
        assert_close(a, b, atol=atol, rtol=rtol, name=f"output {k}")
    for k, (a, b) in enumerate(zip(o_grads, t_grads)):
        if (a is None) != (b is None):
            raise AssertionError(f"input {k}: gradient is {'missing' if a is None else 'present'} in tinytorch "
                                 f"but not in torch")
        if a is not None:
            assert_close(a, b, atol=atol, rtol=rtol, name=f"input {k} grad")
    return o_outs
