"""Tensor ** Python number: torch's shortcuts through the kernels power and power_backward, with
either kernel setting. Forward and gradient are torch's bits wherever torch's arithmetic is plain
products and quotients (exponents 0, 1, 2, 3, -1, -2, -0.5 and the gradients of 0, 1, 2, 3, -1);
elsewhere (sqrt, which torch's vectorised code rounds differently now and then, and exponents that
torch sends to its vectorised pow) within float32 rounding."""
import numpy as np
import pytest
import torch

import tinytorch
from tinytorch import backends

EXACT_FORWARD = [0, 1, 2, 3, -1, -2, -0.5, 3.0, 2.0]
EXACT_GRADIENT = [0, 1, 2, 3, -1, 3.0]
CLOSE = [0.5, 4, 5, 7, 8, -3, 1.5, 2.5, 9, 64]


def both(exponent, kernels, dtype=np.float32):
    x = np.random.default_rng(0).standard_normal((4, 33, 65)).astype(dtype)
    x[0, 0, :5] = [0.0, -0.0, 1.0, np.inf, -np.inf]
    g = np.random.default_rng(1).standard_normal(x.shape).astype(dtype)
    results = []
    for m in (tinytorch, torch):
        t = m.tensor(x, requires_grad=True)
        with backends.using(kernels=kernels):
            y = t ** exponent
            y.backward(m.tensor(g))
        results.append((y.detach().numpy(), t.grad.numpy()))
    return results


@pytest.mark.parametrize("kernels", ["numpy", "numba"])
@pytest.mark.parametrize("exponent", EXACT_FORWARD + CLOSE)
def test_scalar_powers_match_torch(exponent, kernels):
    (y, dx), (torch_y, torch_dx) = both(exponent, kernels)
    exact_y, exact_dx = exponent in EXACT_FORWARD, exponent in EXACT_GRADIENT
    for mine, theirs, exact in ((y, torch_y, exact_y), (dx, torch_dx, exact_dx)):
        assert mine.dtype == theirs.dtype == np.float32
        if exact:
            np.testing.assert_array_equal(mine, theirs)
        else:
            np.testing.assert_allclose(mine, theirs, rtol=3e-6, atol=1e-30, equal_nan=True)


def test_the_gradient_of_a_zeroth_power_is_zero_even_at_zero():
    (y, dx), (torch_y, torch_dx) = both(0, "numba")
    assert (dx == 0).all() and (torch_dx == 0).all() and (y == 1).all()


@pytest.mark.parametrize("exponent", [2, 3, 0.5])
def test_float64_and_integer_tensors_keep_their_dtypes(exponent):
    (y, dx), (torch_y, torch_dx) = both(exponent, "numba", np.float64)
    np.testing.assert_allclose(y, torch_y, rtol=1e-15, equal_nan=True)
    np.testing.assert_allclose(dx, torch_dx, rtol=1e-15, equal_nan=True)
    ints = tinytorch.arange(5) ** 3
    assert ints.dtype == tinytorch.int64 and ints.tolist() == (torch.arange(5) ** 3).tolist()


def test_pow_with_a_scalar_exponent_keeps_no_output_for_its_backward():
    y = tinytorch.randn(3, 4, requires_grad=True) ** 3
    assert y._ctx.out is None
