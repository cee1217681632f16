"""tinytorch.nn.fused_common.exp_rows: a block of rows is shifted by the block's max and the rows
whose terms would underflow are redone, so softmax and cross_entropy keep their precision on rows
that lie far apart (+80, -80, x20) in one block."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tinytorch
import tinytorch.nn.functional as F
from harness import assert_same, check_op

pytestmark = pytest.mark.torch


def rows_of_many_scales(dtype, n_rows=600, width=9):
    """Logits whose rows lie far apart (+80, -80, x20), in one block of rows, with a row of -inf."""
    x = np.random.default_rng(3).standard_normal((n_rows, width)) * 3
    x[::4] += 80
    x[1::4] -= 80
    x[2::4] *= 20
    x[3] = -np.inf
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_keeps_precision_in_rows_far_below_the_block_max(dtype):
    """Every probability above 1e-30 keeps its relative precision; a row of -inf is nan, as in torch."""
    x = rows_of_many_scales(dtype)
    mine = tinytorch.tensor(x, requires_grad=True)
    out = F.softmax(mine, -1)
    exact = torch.softmax(torch.tensor(x.astype(np.float64)), -1).numpy()
    got = out.numpy(force=True)
    assert np.isnan(got[3]).all() and np.isnan(exact[3]).all()
    kept = exact > 1e-30
    assert np.max(np.abs(got[kept] / exact[kept] - 1)) < (1e-4 if dtype == np.float32 else 1e-11)
    w = np.random.default_rng(4).standard_normal(x.shape).astype(dtype)
    (out[4:] * tinytorch.tensor(w[4:])).sum().backward()
    theirs = torch.tensor(x, requires_grad=True)
    (torch.softmax(theirs, -1)[4:] * torch.tensor(w[4:])).sum().backward()
    assert_same(mine.grad[4:], theirs.grad[4:], "gradient", atol=1e-6 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_matches_torch_on_rows_far_apart(dtype, label_smoothing):
    x = np.delete(rows_of_many_scales(dtype), 3, axis=0)
    target = np.random.default_rng(5).integers(0, x.shape[1], x.shape[0])
    tol = dict(atol=1e-5, rtol=1e-5) if dtype == np.float32 else dict(atol=1e-12, rtol=1e-12)
    check_op(lambda t, y: F.cross_entropy(t, y, label_smoothing=label_smoothing),
             lambda t, y: TF.cross_entropy(t, y, label_smoothing=label_smoothing), x, target,
             naive=lambda t, y: F.cross_entropy_naive(t, y, label_smoothing=label_smoothing), **tol)
