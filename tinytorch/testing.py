"""Testing helpers: numerical gradient checks and lecture-5 style comparisons.

- `gradcheck(fn, *inputs)`: autograd's gradients against float64 central differences.
- `assert_close` / `cmp`: the `exact | approximate | maxdiff` line of Zero-to-Hero lecture 5.

(Comparisons with PyTorch live in the tests' harness: the package never imports torch.)
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
    exact = bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fV" and b.dtype.kind in "fV"))
    approx = bool(np.allclose(a, b, atol=atol, rtol=rtol, equal_nan=True))
    with np.errstate(invalid="ignore"):  # inf - inf: matching infinities, left out of maxdiff as NaNs are
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


def _weights(outs):
    """Fixed random weights w_k, one per output: the checked scalar is sum_k sum(out_k * w_k)."""
    rng = np.random.default_rng(0)
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
