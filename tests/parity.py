"""Comparing results of the same code run with m = torch and m = tinytorch."""
import math

import numpy as np
import torch

import tinytorch


def describe(x):
    """A comparable description of a result from either library: kind, dtype, shape, values."""
    name = type(x).__name__
    if hasattr(x, "values") and hasattr(x, "indices") and isinstance(x, tuple):
        return ("values_indices", describe(x.values), describe(x.indices), [describe(v) for v in x])
    if isinstance(x, (torch.Size, tinytorch.Size)):
        return ("Size", tuple(x))
    if isinstance(x, (torch.Tensor, tinytorch.Tensor)):
        values = x.detach().numpy() if isinstance(x, torch.Tensor) else x.numpy(force=True)
        return ("tensor", str(x.dtype).split(".")[-1], tuple(x.shape), x.requires_grad, values)
    if isinstance(x, (torch.dtype, tinytorch.dtype)):
        return ("dtype", str(x).split(".")[-1])
    if isinstance(x, (tuple, list)):
        return (name, [describe(v) for v in x])
    if isinstance(x, np.ndarray):
        return ("ndarray", x.dtype.str, x.shape, x)
    return (name, x)


def assert_same(a, b, where="result"):
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) and a[0] in ("tensor", "ndarray"):
        assert a[:-1] == b[:-1], f"{where}: tinytorch {a[:-1]} != torch {b[:-1]}"
        rtol = 1e-12 if a[1] in ("float64", "<f8") else 1e-6  # float32 math may differ in the last bit
        np.testing.assert_allclose(a[-1], b[-1], rtol=rtol, atol=1e-12, equal_nan=True, err_msg=where)
    elif isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b), f"{where}: tinytorch {a!r} != torch {b!r}"
        for k, (u, v) in enumerate(zip(a, b)):
            assert_same(u, v, f"{where}[{k}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert (a == b) or math.isclose(a, b, rel_tol=1e-6) or (math.isnan(a) and math.isnan(b)), f"{where}: {a} != {b}"
    else:
        assert type(a) is type(b) and a == b, f"{where}: tinytorch {a!r} != torch {b!r}"


def run_both(fn):
    """fn(m) with m = tinytorch and m = torch; their described results must be the same."""
    assert_same(describe(fn(tinytorch)), describe(fn(torch)), getattr(fn, "__name__", "result"))
