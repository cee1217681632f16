"""Where torch computes inf or nan without a word (log(0), 0/0, exp(1000), 0 ** -1), tinytorch
gives the same values without NumPy's RuntimeWarnings (ops/quiet.py and the ops that use it). Each
expression runs with warnings turned into errors, under torch and under tinytorch."""
import math
import warnings

import numpy as np
import pytest

import tinytorch
from harness import assert_same

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

nan, inf = math.nan, math.inf
F = [0.0, -1.0, 1.0, nan, inf, -inf]  # every kind of awkward float


def _grad(m, f, values):
    """The gradient of f(x).sum() at x = values."""
    x = m.tensor(values, requires_grad=True)
    f(x).sum().backward()
    return x.grad


SILENT = {
    # forward: finite inputs with infinite or undefined results
    "log_family": lambda m: (m.tensor(F).log(), m.tensor(F).log2(), m.tensor(F).log10(),
                             m.tensor([-1.0, -2.0]).log1p()),
    "sqrt_rsqrt": lambda m: (m.tensor(F).sqrt(), m.tensor(F).rsqrt()),
    "exp_overflow": lambda m: (m.tensor([100.0, 1000.0]).exp(), m.tensor([1000.0], dtype=m.float64).exp()),
    "sin_cos_of_inf": lambda m: (m.tensor([inf]).sin(), m.tensor([-inf]).cos()),
    "div_by_zero": lambda m: (m.tensor(F) / 0, 1 / m.tensor(F), m.tensor([0, 1]) / 0),
    "floor_div_remainder_trunc_by_float_zero": lambda m: (
        m.tensor(F) // 0, m.tensor(F) % 0.0, m.tensor(F).div(0, rounding_mode="trunc")),
    "int_min_floor_div_minus_one": lambda m: m.tensor([-2 ** 63]) // -1,
    "pow": lambda m: (m.tensor([-8.0, 4.0]) ** 0.5, m.tensor([0.0]) ** -1, m.tensor([10.0]) ** 100,
                      0.0 ** m.tensor([-1.0])),
    "logsumexp_of_neg_inf_rows": lambda m: m.tensor([[-inf, -inf], [0.0, 1.0]]).logsumexp(1),
    "mean_of_nothing": lambda m: (m.zeros(0, 3).mean(0), m.tensor([]).mean()),
    "casts_that_do_not_fit": lambda m: (m.tensor([nan, inf, 1e30]).long(), m.tensor([1e300], dtype=m.float64).float()),
    "tensor_beyond_float32": lambda m: (m.tensor([1e300, -1e300]), m.tensor(1e300),
                                        m.tensor(np.array([1e300]), dtype=m.float16)),
    # backward: gradients that are infinite or undefined
    "log_backward_at_zero": lambda m: _grad(m, lambda x: x.log(), [0.0, 1.0]),
    "sqrt_backward_at_zero": lambda m: _grad(m, lambda x: x.sqrt(), [0.0, 4.0]),
    "div_backward_by_zero": lambda m: _grad(m, lambda x: 1 / x, [0.0, 2.0]),
    "pow_backward_at_zero": lambda m: _grad(m, lambda x: x ** 0.5, [0.0, 4.0]),
    "logsumexp_backward_of_neg_inf_row": lambda m: _grad(m, lambda x: x.logsumexp(1), [[-inf, -inf], [0.0, 1.0]]),
    "mean_backward_of_nothing": lambda m: _grad(m, lambda x: x.mean(), []),
}


@pytest.mark.parametrize("name", list(SILENT))
def test_silent_as_torch(name):
    results = {}
    for m in (torch, tinytorch):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            results[m] = SILENT[name](m)
    assert_same(results[tinytorch], results[torch], name)


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("values, kwargs", [([1.0], {}), ([1.0, 2.0], {"correction": 2}), ([], {}),
                                            ([[1.0], [2.0]], {"dim": 1})])
def test_no_degrees_of_freedom_warns_as_torch_does(op, values, kwargs):
    """torch's UserWarning and values (nan, inf), and its gradient, instead of NumPy's RuntimeWarnings
    (and a ZeroDivisionError in the backward)."""
    results = {}
    for m in (torch, tinytorch):
        x = m.tensor(values, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            with pytest.warns(UserWarning, match=f"{op}\\(\\): degrees of freedom is <= 0"):
                out = getattr(x, op)(**kwargs)
            out.sum().backward()
        results[m] = (out, x.grad)
    assert_same(results[tinytorch], results[torch], op)
