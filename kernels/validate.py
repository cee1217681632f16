"""Inputs and checks shared by the kernel tests and the benchmark (llm.c's validate_result).

`make_args` builds an argument tuple for a kernel from a shape; `check_outputs` compares a
kernel's outputs with the NumPy oracle in kernels.reference: exact shapes and dtypes, values
within a tolerance scaled to the output's magnitude. The in-place kernels without an oracle
(IN_PLACE_NAMES) are checked against their NumPy entry by `check_in_place`: both run on copies of
the arguments, and every array they leave (the ones written in place) is compared.
"""
import copy

import numpy as np

from . import reference
from .numpy import lstm, sgd

IN_PLACE_NAMES = ("lstm_cell_forward_", "lstm_cell_backward_", "sgd_update_")
_NUMPY_ENTRIES = {"lstm_cell_forward_": lstm.lstm_cell_forward_, "lstm_cell_backward_": lstm.lstm_cell_backward_,
                  "sgd_update_": sgd.sgd_update_}

TOLERANCE = {np.dtype(np.float32): (1e-4, 1e-5), np.dtype(np.float64): (1e-10, 1e-12)}  # rtol, atol per unit of scale


def make_args(name, shape, rng, dtype=np.float32):
    """Arguments of kernel `name`: shape is (..., C) for the row kernels, (M, K, N) for matmul,
    (rows, H) for the LSTM step kernels and the parameter's shape for sgd_update_.

    Backward inputs are consistent with a forward pass: softmax_backward gets out =
    softmax(x); layernorm_backward gets the mean and rstd of its x; lstm_cell_backward_ gets
    gates in the sigmoids' and tanh's ranges and tanh_cells = tanh(cells). Arrays a kernel only
    writes are NaN-filled, so a missed element shows.
    """
    def normal(*s):
        return rng.standard_normal(s).astype(dtype)

    if name in IN_PLACE_NAMES:
        return _in_place_args(name, shape, normal, rng, dtype)
    if name == "matmul":
        M, K, N = shape
        return normal(M, K), normal(K, N)
    x, C = normal(*shape), shape[-1]
    if name == "softmax_forward":
        return (x,)
    if name == "softmax_backward":
        return normal(*shape), reference.softmax_forward(x)
    if name == "gelu_forward":
        return (x * 3,)  # past the tanh's knee on both sides
    if name == "gelu_backward":
        return normal(*shape), x * 3
    w, b = normal(C), normal(C)
    if name == "layernorm_forward":
        return x, w, b, 1e-5
    if name == "layernorm_backward":
        _, mean, rstd = reference.layernorm_forward(x, w, b)
        return normal(*shape), x, w, mean, rstd
    raise ValueError(f"make_args: unknown kernel {name!r}")


def _in_place_args(name, shape, normal, rng, dtype):
    if name == "sgd_update_":
        return normal(*shape), normal(*shape), 0.37
    rows, n = shape

    def unwritten(*s):
        return np.full(s, np.nan, dtype)

    if name == "lstm_cell_forward_":  # pre-activations past the tanh's knee on both sides
        return (normal(rows, 4 * n) * 2, normal(rows, 4 * n), normal(rows, n), normal(rows, n),
                unwritten(rows, n), unwritten(rows, n), unwritten(rows, n))
    gates = rng.random((rows, 4 * n)).astype(dtype)
    gates[:, 2 * n:3 * n] = 2 * gates[:, 2 * n:3 * n] - 1
    return (gates, normal(rows, n), np.tanh(normal(rows, n) * 2), normal(rows, n), normal(rows, n), normal(rows, n),
            unwritten(rows, 4 * n))


def check_in_place(name, kernel, args):
    """Raise AssertionError unless `kernel` (an entry of one of IN_PLACE_NAMES, which return
    nothing) leaves every array argument as the NumPy entry does on a copy of args; returns the
    largest absolute difference."""
    expected, got = copy.deepcopy(args), copy.deepcopy(args)
    _NUMPY_ENTRIES[name](*expected)
    kernel(*got)
    return _compare(name, [a for a in got if hasattr(a, "shape")], [a for a in expected if hasattr(a, "shape")])


def as_numpy(a):
    """NumPy copy of a CuPy array (anything with .get()); NumPy arrays pass through."""
    return a.get() if hasattr(a, "get") and not isinstance(a, np.ndarray) else np.asarray(a)


def check_outputs(name, got, args):
    """Raise AssertionError unless `got` (an output or a tuple) matches reference.<name>(*args).

    Returns the largest absolute difference over all outputs.
    """
    return _compare(name, _as_tuple(got), _as_tuple(getattr(reference, name)(*args)))


def _compare(name, got, expected):
    if len(got) != len(expected):
        raise AssertionError(f"{name}: {len(got)} outputs, expected {len(expected)}")
    worst = 0.0
    for i, (g, e) in enumerate(zip(got, expected)):
        g = as_numpy(g)
        if g.shape != e.shape or g.dtype != e.dtype:
            raise AssertionError(f"{name} output {i}: {g.shape} {g.dtype}, expected {e.shape} {e.dtype}")
        rtol, atol = TOLERANCE[e.dtype]
        scale = max(1.0, float(np.abs(e).max(initial=0)))
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol * scale, err_msg=f"{name} output {i}")
        worst = max(worst, float(np.abs(g.astype(np.float64) - e).max(initial=0)))
    return worst


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)
