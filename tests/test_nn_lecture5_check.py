"""Lecture 5's check: the fused (hand-derived) gradients of cross-entropy and batch norm equal
autograd through the naive twins, to within float rounding (the lecture: maxdiff ~5e-9, 9e-10)."""
import pytest

import tinytorch
from tinytorch.nn.lecture5_check import lecture5_check, main


@pytest.mark.parametrize("dtype,tolerance", [(tinytorch.float32, 1e-7), (tinytorch.float64, 1e-15)])
def test_fused_gradients_match_autograd_of_the_naive_twins(dtype, tolerance, capsys):
    results = lecture5_check(dtype)
    for name in ("logits", "hprebn"):
        exact, approximate, maxdiff = results[name]
        assert approximate and maxdiff < tolerance, (name, results[name])
    assert results["loss_forward"] < 100 * tolerance
    assert results["batchnorm_forward"] < 100 * tolerance
    printed = capsys.readouterr().out
    assert "logits          | exact: " in printed and "hprebn          | exact: " in printed


def test_script_exits_zero_and_prints_the_lecture_lines(capsys):
    assert main(["--dtype", "float32"]) == 0
    assert "| approximate: True  | maxdiff:" in capsys.readouterr().out
