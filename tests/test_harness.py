"""The tests' harness (tests/harness.py) can fail: assert_same tells kinds, dtypes, shapes,
requires_grad, devices and values apart; run_both catches code that differs between the
libraries; check_op catches a wrong forward, a wrong or missing gradient and a wrong naive
twin; leaf keeps an array's memory layout in both libraries."""
import numpy as np
import pytest
import torch

import tinytorch
from harness import assert_same, check_op, leaf, run_both

pytestmark = pytest.mark.torch


def test_assert_same_accepts_the_same_results_of_every_kind():
    def results(m):
        x = m.tensor([[3.0, 1.0], [2.0, 4.0]], dtype=m.float64, requires_grad=True)
        return (x * 2, x.max(dim=1), x.shape, x.dtype, [1, True, "cpu"], 0.5, {"a": m.arange(3)}, np.ones(2))
    run_both(results)


@pytest.mark.parametrize("mine, theirs, message", [
    (tinytorch.ones(2), torch.ones(2, dtype=torch.float64), "dtype"),
    (tinytorch.ones(2), torch.ones(3), "shape"),
    (tinytorch.ones(2, requires_grad=True), torch.ones(2), "requires_grad"),
    (tinytorch.ones(2), torch.ones(2) + 1e-3, "maxdiff"),
    (tinytorch.tensor(1.0), 1.0, "tinytorch gives a tensor, torch a float"),
    (tinytorch.Size([2, 3]), (2, 3), "Size"),
    (tinytorch.Size([2, 3]), torch.Size([2, 4]), "Size"),
    (tinytorch.float32, torch.float64, "float32"),
    ((1, 2), (1, 2, 3), "2 items"),
    ([1], (1,), "list"),
    ({"a": 1}, {"b": 1}, "keys"),
    (np.ones(2, np.float32), np.ones(2), "float32"),
    (1, 1.0, "int"),
    (True, 1, "bool"),
    (0.5, 0.5001, "0.5"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_assert_same_tells_results_apart(mine, theirs, message):
    with pytest.raises(AssertionError, match=message):
        assert_same(mine, theirs)


def test_assert_same_compares_values_and_indices_pairs_field_by_field():
    x, mirrored = [[3.0, 1.0], [2.0, 4.0]], [[1.0, 3.0], [4.0, 2.0]]   # the same maxima at other indices
    assert_same(tinytorch.tensor(x).max(dim=1), torch.tensor(x).max(dim=1))
    with pytest.raises(AssertionError, match=r"result\.indices"):
        assert_same(tinytorch.tensor(x).max(dim=1), torch.tensor(mirrored).max(dim=1))
    with pytest.raises(AssertionError, match="values_indices"):
        assert_same(tinytorch.tensor(x).max(dim=1), tuple(torch.tensor(x).max(dim=1)))


def test_assert_same_honours_tolerances_and_nans():
    assert_same(tinytorch.tensor([1.0, float("nan")]), torch.tensor([1.0 + 1e-7, float("nan")]))
    assert_same(tinytorch.ones(2), torch.ones(2) + 1e-3, atol=1e-2)
    with pytest.raises(AssertionError, match="maxdiff"):
        assert_same(tinytorch.tensor([1.0, float("nan")]), torch.tensor([1.0, 2.0]))


def test_assert_same_without_values_still_compares_the_rest():
    assert_same(tinytorch.zeros(2), torch.ones(2), values=False)
    with pytest.raises(AssertionError, match="dtype"):
        assert_same(tinytorch.zeros(2), torch.ones(2, dtype=torch.float64), values=False)


def test_assert_same_checks_the_device_tinytorch_should_be_on():
    with pytest.raises(AssertionError, match="not on cuda"):
        assert_same(tinytorch.ones(2), torch.ones(2), device="cuda")


def test_run_both_catches_code_that_differs_between_the_libraries():
    with pytest.raises(AssertionError, match="scaled"):
        run_both(lambda m: m.ones(2) * (2 if m is tinytorch else 3), "scaled")


def test_check_op_accepts_the_same_op_and_returns_tinytorchs_output():
    a, b = np.arange(6.0).reshape(2, 3).T, np.ones((3, 1))
    out = check_op(lambda x, y: (x * y).sum(1), lambda x, y: (x * y).sum(1), a, b, naive=lambda x, y: (x * y).sum(1))
    assert isinstance(out, tinytorch.Tensor) and out.tolist() == [3.0, 5.0, 7.0]


def test_check_op_catches_a_wrong_forward():
    with pytest.raises(AssertionError, match="tinytorch's output"):
        check_op(lambda x: x * 2, lambda x: x * 3, np.ones(3))


def test_check_op_catches_a_wrong_gradient():
    """x * x.detach() has x * x's values but half its gradient."""
    with pytest.raises(AssertionError, match="tinytorch's gradient of input 0"):
        check_op(lambda x: x * x.detach(), lambda x: x * x, np.arange(3.0))


def test_check_op_catches_a_missing_gradient():
    with pytest.raises(AssertionError, match="gradient of input 1: tinytorch gives a NoneType, torch a tensor"):
        check_op(lambda x, y: x + y.detach(), lambda x, y: x + y, np.ones(2), np.ones(2))


def test_check_op_catches_a_wrong_naive_twin():
    with pytest.raises(AssertionError, match="naive twin's gradient of input 0"):
        check_op(lambda x: x * x, lambda x: x * x, np.arange(3.0), naive=lambda x: x * x.detach())


def test_check_op_catches_a_wrong_dtype_and_differentiates_only_the_marked_inputs():
    with pytest.raises(AssertionError, match="dtype"):
        check_op(lambda x: x.float(), lambda x: x, np.ones(3))
    check_op(lambda x, y: x * y.detach(), lambda x, y: x * y, np.ones(2), np.ones(2), grads=[True, False])


def test_leaf_keeps_the_memory_layout_in_both_libraries():
    strided = np.zeros((3, 4))[:, ::2]
    for m in (torch, tinytorch):
        t = leaf(m, np.arange(6.0).reshape(2, 3).T)
        assert not t.is_contiguous() and t.requires_grad and t.tolist() == [[0, 3], [1, 4], [2, 5]]
        assert leaf(m, strided).stride() == (4, 2)
        assert not leaf(m, np.arange(3)).requires_grad


def test_assert_same_compares_integers_exactly_by_default():
    big = 10 ** 9
    assert_same(tinytorch.tensor([big]), torch.tensor([big]))
    with pytest.raises(AssertionError, match="maxdiff: 1.0"):
        assert_same(tinytorch.tensor([big]), torch.tensor([big + 1]))
