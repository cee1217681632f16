"""Testing helpers: numerical gradient checks, lecture-5 style comparisons, torch parity."""
import numpy as np


def _to_numpy(x):
    from .tensor import Tensor
    if isinstance(x, Tensor):
        return x.numpy(force=True)
    if hasattr(x, "detach"):  # a torch tensor
        return x.detach().cpu().numpy()
    return np.asarray(x)


def cmp(name, dt, t, atol=1e-6, rtol=1e-5):
    """Lecture 5's check: `name | exact: bool | approximate: bool | maxdiff: float`.

    `dt` is the gradient computed by hand, `t` the reference (e.g. autograd's). Returns
    (exact, approximate, maxdiff) and prints the line.
    """
    a, b = _to_numpy(dt), _to_numpy(t)
    if a.shape != b.shape:
        raise AssertionError(f"{name}: shapes differ: {a.shape} vs {b.shape}")
    exact = bool(np.array_equal(a, b))
    approx = bool(np.allclose(a, b, atol=atol, rtol=rtol))
    maxdiff = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))) if a.size else 0.0
    print(f"{name:15s} | exact: {str(exact):5s} | approximate: {str(approx):5s} | maxdiff: {maxdiff}")
    return exact, approx, maxdiff


def assert_close(actual, expected, atol=1e-6, rtol=1e-5, name="tensor"):
    """Raise AssertionError with the `exact | approximate | maxdiff` triple unless close."""
    a, b = _to_numpy(actual), _to_numpy(expected)
    if a.shape != b.shape:
        raise AssertionError(f"{name}: shape {a.shape} != expected {b.shape}")
    if not np.allclose(a, b, atol=atol, rtol=rtol, equal_nan=True):
        exact = bool(np.array_equal(a, b))
        maxdiff = float(np.nanmax(np.abs(a.astype(np.float64) - b.astype(np.float64))))
        raise AssertionError(f"{name:15s} | exact: {exact} | approximate: False | maxdiff: {maxdiff} "
                             f"(atol={atol}, rtol={rtol})")


def numerical_grad(fn, inputs, i, eps=1e-6):
    """Central differences of sum(fn(*inputs) * w) w.r.t. inputs[i], with a fixed random w.

    Returns (numeric, w) with numeric shaped like inputs[i]; inputs are float64 tensors.
    """
    from .autograd import no_grad
    x = inputs[i]
    flat = x._data.reshape(-1) if x._data.flags.c_contiguous else None
    base = x._data.copy()
    with no_grad():
        out = fn(*inputs)
    w = np.random.default_rng(0).standard_normal(out.shape)
    grad = np.zeros(base.size)
    for j in range(base.size):
        for sign in (1, -1):
            perturbed = base.copy().reshape(-1)
            perturbed[j] += sign * eps
            x._data = perturbed.reshape(base.shape) if flat is not None else _like_layout(perturbed.reshape(base.shape), base)
            with no_grad():
                val = float((fn(*inputs)._data * w).sum())
            grad[j] += sign * val / (2 * eps)
    x._data = base if flat is not None else _like_layout(base, base)
    return grad.reshape(base.shape), w


def _like_layout(values, layout):
    """values copied into an array with the same (possibly non-contiguous) strides as layout."""
    if layout.flags.c_contiguous:
        return values
    out = np.empty(layout.shape[::-1], dtype=values.dtype).T if layout.flags.f_contiguous else values.T.copy().T
    out[...] = values
    return out


def gradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-4):
    """Check autograd's gradient of fn at float64 `inputs` against central differences.

    Every input that requires grad is checked, and its `.grad.shape` must equal its shape.
    Returns True or raises AssertionError with the comparison triple.
    """
    from .tensor import Tensor
    for x in inputs:
        if isinstance(x, Tensor) and x.requires_grad and x.dtype.name != "float64":
            raise ValueError(f"gradcheck: inputs must be float64 (got {x.dtype})")
    out = fn(*inputs)
    w = np.random.default_rng(0).standard_normal(out.shape)
    for x in inputs:
        if isinstance(x, Tensor):
            x.grad = None
    from .creation import tensor
    (out * tensor(w, dtype=out.dtype)).sum().backward()
    for i, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            continue
        numeric, _ = numerical_grad(fn, inputs, i, eps)
        if x.grad is None:
            raise AssertionError(f"gradcheck: input {i} received no gradient")
        if tuple(x.grad.shape) != tuple(x.shape):
            raise AssertionError(f"gradcheck: input {i} grad shape {tuple(x.grad.shape)} != input shape {tuple(x.shape)}")
        assert_close(x.grad, numeric, atol=atol, rtol=rtol, name=f"input {i} grad")
    return True


def compare_with_torch(fn, *arrays, requires_grad=None, atol=1e-6, rtol=1e-5):
    """Run fn(m, *tensors) with m = torch and m = tinytorch on the same arrays; compare the
    forward output and the gradient of every floating input (through sum(out * w))."""
    import torch
    import tinytorch
    if requires_grad is None:
        requires_grad = [np.asarray(a).dtype.kind == "f" for a in arrays]
    results = {}
    for m in (torch, tinytorch):
        ts = [m.tensor(np.asarray(a), requires_grad=bool(r)) for a, r in zip(arrays, requires_grad)]
        out = fn(m, *ts)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        grads = [None] * len(ts)
        if any(requires_grad):
            w = np.random.default_rng(1).standard_normal(tuple(outs[0].shape))
            (outs[0] * m.tensor(w, dtype=outs[0].dtype)).sum().backward()
            grads = [t.grad for t in ts]
        results[m.__name__] = (outs, grads)
    (t_outs, t_grads), (o_outs, o_grads) = results["torch"], results["tinytorch"]
    for k, (a, b) in enumerate(zip(o_outs, t_outs)):
        assert_close(a, b, atol=atol, rtol=rtol, name=f"output {k}")
    for k, (a, b) in enumerate(zip(o_grads, t_grads)):
        if (a is None) != (b is None):
            raise AssertionError(f"input {k}: gradient present in one library only")
        if a is not None:
            assert_close(a, b, atol=atol, rtol=rtol, name=f"input {k} grad")
    return results
