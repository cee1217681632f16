"""The testing helpers can fail: gradcheck catches a wrong backward, assert_close prints the
lecture-5 triple, compare_with_torch catches wrong values, gradients and dtypes."""
import numpy as np
import pytest

import tinytorch
from tinytorch.autograd import Function
from tinytorch.testing import assert_close, cmp, compare_with_torch, gradcheck, leaf, numerical_grad


class SquareWithWrongBackward(Function):
    """y = x^2, but backward claims dy/dx = 3x."""

    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return x * x

    @staticmethod
    def backward(ctx, g):
        return g * 3 * ctx.x


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.x = x
        return x * x

    @staticmethod
    def backward(ctx, g):
        return g * 2 * ctx.x


def x64(values=(0.5, -1.0, 2.0)):
    return tinytorch.tensor(values, dtype=tinytorch.float64, requires_grad=True)


def test_gradcheck_accepts_a_correct_backward():
    assert gradcheck(Square.apply, x64())


def test_gradcheck_rejects_a_wrong_backward_with_the_triple():
    with pytest.raises(AssertionError, match=r"exact: False \| approximate: False \| maxdiff"):
        gradcheck(SquareWithWrongBackward.apply, x64())


def test_gradcheck_checks_every_input_and_output():
    a, b = x64(), x64((1.0, 2.0, 3.0))
    assert gradcheck(lambda u, v: (Square.apply(u) * v, u - v), a, b)
    with pytest.raises(AssertionError, match="input 1"):
        gradcheck(lambda u, v: (u * v, SquareWithWrongBackward.apply(v)), a, b)


def test_gradcheck_on_a_non_contiguous_input_restores_it():
    t = leaf(tinytorch, np.arange(6.0).reshape(2, 3).T)
    before = t._data.copy()
    assert not t.is_contiguous()
    assert gradcheck(lambda x: (x * x).sum(0), t)
    np.testing.assert_array_equal(t._data, before)
    assert not t.is_contiguous()


def test_gradcheck_requires_float64():
    with pytest.raises(ValueError, match="float64"):
        gradcheck(Square.apply, tinytorch.ones(3, requires_grad=True))


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


def test_cmp_prints_the_lecture_5_line(capsys):
    exact, approx, maxdiff = cmp("logits", tinytorch.tensor([1.0, 2.0]), np.array([1.0, 2.0]))
    assert (exact, approx, maxdiff) == (True, True, 0.0)
    line = capsys.readouterr().out
    assert "logits" in line and "| exact: True" in line and "| approximate: True" in line and "| maxdiff: 0.0" in line


@pytest.mark.torch
def test_compare_with_torch_accepts_equal_code():
    outs = compare_with_torch(lambda m, a, b: (a * b).sum(1), np.ones((2, 3)), np.arange(6.0).reshape(2, 3))
    assert outs[0].shape == (2,)


@pytest.mark.torch
def test_compare_with_torch_catches_a_wrong_forward():
    with pytest.raises(AssertionError, match="output 0"):
        compare_with_torch(lambda m, a: a * (2 if m is tinytorch else 3), np.ones(3))


@pytest.mark.torch
def test_compare_with_torch_catches_a_wrong_gradient():
    def fn(m, a):
        return Square.apply(a) if m is tinytorch else a * a
    compare_with_torch(fn, np.arange(3.0))
    with pytest.raises(AssertionError, match="input 0 grad"):
        compare_with_torch(lambda m, a: SquareWithWrongBackward.apply(a) if m is tinytorch else a * a, np.arange(3.0))


@pytest.mark.torch
def test_compare_with_torch_catches_a_wrong_dtype():
    with pytest.raises(AssertionError, match="dtype"):
        compare_with_torch(lambda m, a: a.float() if m is tinytorch else a, np.ones(3))


@pytest.mark.torch
def test_leaf_keeps_the_memory_layout_in_both_libraries():
    import torch
    strided = np.zeros((3, 4))[:, ::2]
    for m in (torch, tinytorch):
        t = leaf(m, np.arange(6.0).reshape(2, 3).T)
        assert not t.is_contiguous() and t.requires_grad and t.tolist() == [[0, 3], [1, 4], [2, 5]]
        assert leaf(m, strided).stride() == (4, 2)
