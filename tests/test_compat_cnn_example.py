"""The CNN example (plain PyTorch, in examples/: Conv2d, ReLU, max_pool2d, Linear, nll_loss, SGD
with momentum, on generated bar images) runs unchanged under torch and run_as_torch and prints the
same loss curve within 1e-3 and the same test accuracy."""
import re

import pytest

from scripts import TINYTORCH, losses, run_example

ARGS = ["--steps", "100", "--log-interval", "10"]


@pytest.mark.torch
def test_cnn_classifier_loss_curve_is_torchs_within_1e3():
    ours, theirs = (run_example(launcher, "cnn_classifier.py", *ARGS) for launcher in (TINYTORCH, []))
    assert ours.splitlines()[0] == theirs.splitlines()[0]  # the data and the parameter count
    curves = [losses(out) for out in (ours, theirs)]
    assert len(curves[0]) == len(curves[1]) == 11, ours
    assert max(abs(a - b) for a, b in zip(*curves)) <= 1e-3, curves
    assert curves[0][-1] < curves[0][0] - 0.5, curves[0]  # it learns
    accuracy = [re.search(r"accuracy ([\d.]+)%", out).group(1) for out in (ours, theirs)]
    assert accuracy[0] == accuracy[1], accuracy
