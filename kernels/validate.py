"""Inputs and checks shared by the kernel tests and the benchmark (llm.c's validate_result).

`make_args` builds an argument tuple for a kernel from a shape; `check_outputs` compares a
kernel's outputs with the NumPy oracle in kernels.reference: exact shapes and dtypes, values
within a tolerance scaled to the output's magnitude.
"""
import numpy as np

from . import reference

TOLERANCE = {np.dtype(np.float32): (1e-4, 1e-5), np.dtype(np.float64): (1e-10, 1e-12)}  # rtol, atol per unit of scale


def make_args(name, shape, rng, dtype=np.float32):
    """Arguments of kernel `name`: shape is (..., C) for the row kernels and (M, K, N) for matmul.

    Backward inputs are consistent with a forward pass: softmax_backward gets out =
    softmax(x); layernorm_backward gets the mean and rstd of its x.
    """
    def normal(*s):
        return rng.standard_normal(s).astype(dtype)

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


def as_numpy(a):
    """NumPy copy of a CuPy array (anything with .get()); NumPy arrays pass through."""
    return a.get() if hasattr(a, "get") and not isinstance(a, np.ndarray) else np.asarray(a)


def check_outputs(name, got, args):
    """Raise AssertionError unless `got` (an output or a tuple) matches reference.<name>(*args).

    Returns the largest absolute difference over all outputs.
    """
    expected = getattr(reference, name)(*args)
    got, expected = _as_tuple(got), _as_tuple(expected)
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
