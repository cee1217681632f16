"""F.pad and F.interpolate (composites, differentiated by autograd): values and gradients against
torch's in float64 for every mode, on non-contiguous inputs, and a central-difference gradcheck."""
import numpy as np
import pytest
import torch.nn.functional as TF

import tinytorch
import tinytorch.nn.functional as F
from harness import check_op, leaves
from strategies import lay_out
from tinytorch.testing import gradcheck

PADS = [("constant", (1, 2)), ("constant", (2, 1, 0, 3, 1, 1)), ("constant", (-1, 2, 1, -2)),
        ("reflect", (1, 2, 0, 0)), ("reflect", (2, 1, 3, 0)), ("replicate", (3, 1, 0, 2)),
        ("replicate", (-1, 2, 1, -2)), ("circular", (2, 1, 0, 3)), ("circular", (-1, 2, 1, -2))]

RESIZES = [("nearest", {"size": (7, 4)}), ("nearest", {"scale_factor": (1.7, 0.6)}),
           ("nearest", {"scale_factor": 1.5, "recompute_scale_factor": True}),
           ("bilinear", {"size": (7, 4), "align_corners": False}),
           ("bilinear", {"size": (7, 4), "align_corners": True}),
           ("bilinear", {"scale_factor": 2}), ("bilinear", {"scale_factor": (1.7, 0.6), "align_corners": True}),
           ("linear", {"size": 9}), ("linear", {"scale_factor": 0.5, "align_corners": True}), ("linear", {"size": 1})]


def _input(ndim):
    values = np.random.default_rng(ndim).uniform(-2, 2, (2, 3, 5, 6)[:ndim])
    return lay_out(values, "transposed")


@pytest.mark.torch
@pytest.mark.parametrize("mode,pad", PADS, ids=str)
def test_pad_matches_torch_and_central_differences(mode, pad):
    x = _input(4)
    check_op(lambda t: F.pad(t, pad, mode), lambda t: TF.pad(t, pad, mode), x)
    assert gradcheck(lambda t: F.pad(t, pad, mode), *leaves(tinytorch, [x]))


@pytest.mark.torch
def test_pad_constant_value():
    check_op(lambda t: F.pad(t, (1, 1, 2, 0), value=2.5), lambda t: TF.pad(t, (1, 1, 2, 0), value=2.5), _input(3))


@pytest.mark.torch
@pytest.mark.parametrize("mode,params", RESIZES, ids=str)
def test_interpolate_matches_torch_and_central_differences(mode, params):
    x = _input(3 if mode == "linear" else 4)
    check_op(lambda t: F.interpolate(t, mode=mode, **params), lambda t: TF.interpolate(t, mode=mode, **params), x)
    assert gradcheck(lambda t: F.interpolate(t, mode=mode, **params), *leaves(tinytorch, [x]))
