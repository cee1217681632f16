"""tinytorch.testing can fail: gradcheck catches a wrong backward and checks every input and
output, numerical_grad differentiates, assert_close and cmp give lecture 5's triple."""
import warnings

import numpy as np
import pytest

import tinytorch
from tinytorch.autograd import Function
from tinytorch.testing import assert_close, cmp, gradcheck, numerical_grad


def square_claiming_slope(slope):
    """A Function y = x^2 whose backward claims dy/dx = slope * x (2 is right)."""
    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.x = x
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g * slope * ctx.x
    return Square


square = square_claiming_slope(2).apply
square_with_wrong_backward = square_claiming_slope(3).apply


def x64(values=(0.5, -1.0, 2.0)):
    return tinytorch.tensor(values, dtype=tinytorch.float64, requires_grad=True)


def test_gradcheck_accepts_a_correct_backward():
    assert gradcheck(square, x64())


def test_gradcheck_rejects_a_wrong_backward_with_the_triple():
    with pytest.raises(AssertionError, match=r"exact: False \| approximate: False \| maxdiff"):
        gradcheck(square_with_wrong_backward, x64())


def test_gradcheck_checks_every_input_and_output():
    a, b = x64(), x64((1.0, 2.0, 3.0))
    assert gradcheck(lambda u, v: (square(u) * v, u - v), a, b)
    with pytest.raises(AssertionError, match="input 1"):
        gradcheck(lambda u, v: (u * v, square_with_wrong_backward(v)), a, b)


def test_gradcheck_on_a_non_contiguous_input_restores_it():
    t = tinytorch.from_numpy(np.arange(6.0).reshape(2, 3).T).requires_grad_(True)
    before = t._data.copy()
    assert not t.is_contiguous()
    assert gradcheck(lambda x: (x * x).sum(0), t)
    np.testing.assert_array_equal(t._data, before)
    assert not t.is_contiguous()


def test_gradcheck_requires_float64():
    with pytest.raises(ValueError, match="float64"):
        gradcheck(square, tinytorch.ones(3, requires_grad=True))


def test_numerical_grad_of_a_known_function():
    x = x64()
    grad = numerical_grad(lambda: float((x._data ** 3).sum()), x)
    np.testing.assert_allclose(grad, 3 * np.array([0.5, -1.0, 2.0]) ** 2, rtol=1e-6)


def test_assert_close_passes_within_tolerance_and_fails_with_the_triple():
    assert_close(tinytorch.tensor([1.0, 2.0]), np.array([1.0, 2.0000001]))
    with pytest.raises(AssertionError, match=r"exact: False \| approximate: False \| maxdiff: 0.5"):
        assert_close(tinytorch.tensor([1.0, 2.0]), np.array([1.0, 2.5]))
    with pytest.raises(AssertionError, match="shape"):
        assert_close(tinytorch.ones(2), np.ones(3))


def test_assert_close_accepts_matching_infinities_and_nans_quietly():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_close(tinytorch.tensor([float("inf"), float("nan"), 1.0]), np.array([np.inf, np.nan, 1.0]))
    with pytest.raises(AssertionError, match="maxdiff: inf"):
        assert_close(tinytorch.tensor([float("inf")]), np.array([-np.inf]))


def test_cmp_prints_the_lecture_5_line(capsys):
    exact, approx, maxdiff = cmp("logits", tinytorch.tensor([1.0, 2.0]), np.array([1.0, 2.0]))
    assert (exact, approx, maxdiff) == (True, True, 0.0)
    line = capsys.readouterr().out
    assert "logits" in line and "| exact: True" in line and "| approximate: True" in line and "| maxdiff: 0.0" in line
