"""The tests' one torch-parity harness (tinygrad's `helper_test_op` is the model).

- `assert_same(mine, theirs)`: a tinytorch result is torch's result. The one place that compares
  the two libraries' results: kinds, dtypes, shapes, requires_grad, devices and values.
- `run_both(fn)`: one lambda `fn(m)` run with m = tinytorch and m = torch, then `assert_same`;
  `Scenarios`: a table of such functions, filled with a decorator.
- `check_op(fn, torch_fn, *inputs, naive=...)`: an op's outputs and its inputs' gradients against
  torch's, and against its naive twin's when it has one, on leaves made from the same arrays.
- `leaf` / `leaves`: tensors of either library with an array's values and memory layout.

torch, the oracle, always runs on the CPU; tinytorch runs on the `device` a test asks for.
"""
import math

import numpy as np
import pytest
import torch

import tinytorch
from tinytorch.testing import assert_close

WEIGHT_SEED = 7  # the fixed random weights w of the differentiated scalar sum(out * w)


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


def leaves(m, inputs, grads=None, device=None):
    """`inputs` for library m: each array becomes a `leaf` that requires grad where `grads` (one
    bool per input) says, by default when it is floating; anything else (None, a number) passes as is."""
    grads = default_grads(inputs) if grads is None else grads
    return [leaf(m, a, g, device) if isinstance(a, np.ndarray) else a for a, g in zip(inputs, grads)]


def default_grads(inputs):
    """Which inputs are differentiated unless a test says otherwise: the floating arrays."""
    return [isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in inputs]


def _copy_keeping_strides(a):
    """A writable copy of `a` laid out in memory as `a` is (strides may be permuted or gapped)."""
    if a.flags.c_contiguous or a.size == 0 or any(s <= 0 for s in a.strides):
        return np.array(a, order="C")
    span = 1 + sum((n - 1) * s // a.itemsize for n, s in zip(a.shape, a.strides))
    out = np.lib.stride_tricks.as_strided(np.zeros(span, dtype=a.dtype), a.shape, a.strides)
    out[...] = a
    return out


# ---- comparing one result with torch's -------------------------------------------------------

def assert_same(mine, theirs, where="result", atol=None, rtol=None, values=True, device=None):
    """Assert that `mine` (tinytorch's) is `theirs` (torch's), recursively.

    Both must be the same kind: tensor, Size, dtype, a (values, indices) pair, tuple, list, dict,
    NumPy array, or a Python value of the same type. Tensors must agree in dtype, shape and
    requires_grad, and `mine` must be on `device` (default: where `theirs` is); tensor and array
    values (unless `values` is False) and floats must agree within atol + rtol |theirs|, by default
    1e-12 + 1e-12 |theirs| in float64, 1e-12 + 1e-6 |theirs| in other floating dtypes, exactly
    in integer and bool ones. `where` names the result in the message.
    """
    kind = _kind(mine)
    assert kind == _kind(theirs), f"{where}: tinytorch gives a {kind}, torch a {_kind(theirs)}"
    if kind == "tensor":
        _assert_same_tensor(mine, theirs, where, atol, rtol, values, device)
    elif kind == "values_indices":
        assert_same(mine.values, theirs.values, f"{where}.values", atol, rtol, values, device)
        assert_same(mine.indices, theirs.indices, f"{where}.indices", atol, rtol, values, device)
    elif kind == "Size":
        assert tuple(mine) == tuple(theirs), f"{where}: tinytorch {mine} != torch {theirs}"
    elif kind == "dtype":
        assert _name(mine) == _name(theirs), f"{where}: tinytorch {mine} != torch {theirs}"
    elif isinstance(mine, (tuple, list)):
        assert len(mine) == len(theirs), f"{where}: tinytorch gives {len(mine)} items, torch {len(theirs)}"
        for k, (a, b) in enumerate(zip(mine, theirs)):
            assert_same(a, b, f"{where}[{k}]", atol, rtol, values, device)
    elif isinstance(mine, dict):
        assert list(mine) == list(theirs), f"{where}: tinytorch keys {list(mine)} != torch keys {list(theirs)}"
        for k in mine:
            assert_same(mine[k], theirs[k], f"{where}[{k!r}]", atol, rtol, values, device)
    elif isinstance(mine, np.ndarray):
        assert (mine.dtype, mine.shape) == (theirs.dtype, theirs.shape), \
            f"{where}: tinytorch {mine.dtype} {mine.shape} != torch {theirs.dtype} {theirs.shape}"
        if values:
            _assert_values(mine, theirs, where, atol, rtol)
    elif isinstance(mine, float):
        close = math.isclose(mine, theirs, rel_tol=1e-6 if rtol is None else rtol, abs_tol=atol or 0.0)
        assert close or (math.isnan(mine) and math.isnan(theirs)), f"{where}: tinytorch {mine} != torch {theirs}"
    else:
        assert mine == theirs, f"{where}: tinytorch {mine!r} != torch {theirs!r}"


def _kind(x):
    if isinstance(x, (torch.Tensor, tinytorch.Tensor)):
        return "tensor"
    if isinstance(x, (torch.Size, tinytorch.Size)):
        return "Size"
    if isinstance(x, (torch.dtype, tinytorch.dtype)):
        return "dtype"
    if isinstance(x, tuple) and hasattr(x, "values") and hasattr(x, "indices"):
        return "values_indices"
    return type(x).__name__


def _name(dtype):
    return str(dtype).split(".")[-1]


def _assert_same_tensor(mine, theirs, where, atol, rtol, values, device):
    def facts(t):
        return _name(t.dtype), tuple(t.shape), t.requires_grad

    assert facts(mine) == facts(theirs), \
        f"{where}: tinytorch (dtype, shape, requires_grad) {facts(mine)} != torch {facts(theirs)}"
    on = str(device or theirs.device.type).split(":")[0]
    assert mine.device.type == on, f"{where}: tinytorch's tensor is on {mine.device}, not on {on}"
    if values:
        _assert_values(mine.numpy(force=True), theirs.detach().cpu().numpy(), where, atol, rtol)


def _assert_values(mine, theirs, where, atol, rtol):
    floating = mine.dtype.kind in "fc"
    default_atol = 1e-12 if floating else 0.0
    default_rtol = (1e-12 if mine.dtype == np.float64 else 1e-6) if floating else 0.0
    assert_close(mine, theirs, atol=default_atol if atol is None else atol,
                 rtol=default_rtol if rtol is None else rtol, name=where)


class Scenarios(list):
    """A table of scenarios fn(m), filled by using it as a decorator; `each` parametrizes a test
    over them (by name), which runs each with both libraries (run_both)."""

    def __call__(self, fn):
        self.append(fn)
        return fn

    @property
    def each(self):
        return pytest.mark.parametrize("fn", list(self), ids=lambda fn: fn.__name__)


def run_both(fn, where=None):
    """fn(m) with m = tinytorch and with m = torch: the results must be the same (assert_same)."""
    assert_same(fn(tinytorch), fn(torch), where or getattr(fn, "__name__", "result"))


# ---- checking an op: forward values and gradients -------------------------------------------

def check_op(fn, torch_fn, *inputs, naive=None, device=None, atol=1e-9, rtol=1e-7, grads=None):
    """Check tinytorch's `fn` (and its naive twin `naive`, when given) against torch's `torch_fn`.

    Each function is called on fresh leaves made from `inputs` (see `leaves`; the arrays keep
    their memory layout), tinytorch's on `device` (default the CPU), torch's on the CPU. The
    outputs (a tensor or a tuple of them) must be the same (assert_same, with atol and rtol);
    then the gradients of sum_k sum(out_k * w_k), w_k fixed random, with respect to every input
    marked in `grads` (default: the floating arrays) must be the same: present where torch's
    are, shaped like their inputs, equal in value. Returns tinytorch's output of `fn`.
    """
    grads = default_grads(inputs) if grads is None else list(grads)
    expected, expected_grads = _forward_and_backward(torch, torch_fn, inputs, grads, None)
    results = []
    for name, f in (("tinytorch", fn), ("naive twin", naive)):
        if f is None:
            continue
        out, got = _forward_and_backward(tinytorch, f, inputs, grads, device)
        assert_same(out, expected, f"{name}'s output", atol, rtol, device=device)
        for k, (g, e) in enumerate(zip(got, expected_grads)):
            assert_same(g, e, f"{name}'s gradient of input {k}", atol, rtol, device=device)
        results.append(out)
    return results[0]


def _forward_and_backward(m, fn, inputs, grads, device):
    """fn's output on fresh leaves of library m, and the gradients of the inputs marked in `grads`
    (None where an input got none) after backward from sum_k sum(out_k * w_k)."""
    xs = leaves(m, inputs, grads, device)
    out = fn(*xs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    differentiable = [o for o in outs if _kind(o) == "tensor" and o.dtype.is_floating_point and o.requires_grad]
    if differentiable:
        rng = np.random.default_rng(WEIGHT_SEED)
        weights = [rng.standard_normal(tuple(o.shape)) for o in differentiable]
        sum((o * m.tensor(w, dtype=o.dtype, device=o.device)).sum() for o, w in zip(differentiable, weights)).backward()
    return out, [x.grad for x, g in zip(xs, grads) if g]
