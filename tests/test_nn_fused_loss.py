"""tinytorch.nn.fused_loss beyond the table's rows: a language model's padded batch, the Numba
cross-entropy kernels in float32, unbatched input and the legacy flags, all targets ignored,
extreme logits, and the errors for bad targets, shapes, weights and reductions."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tinytorch
import tinytorch.nn.functional as F
from harness import assert_same, check_op

pytestmark = pytest.mark.torch


def test_cross_entropy_ignore_index_matches_torch_on_a_language_model_batch():
    rng = np.random.default_rng(3)
    logits = rng.normal(0, 2, (4, 9, 11))          # (B, T, vocab) as a GPT produces it
    targets = rng.integers(0, 11, (4, 9))
    targets[:, -3:] = -1                           # padding at the end of each row
    mine = tinytorch.tensor(logits, requires_grad=True)
    theirs = torch.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(mine.view(-1, 11), tinytorch.tensor(targets).view(-1), ignore_index=-1)
    expected = TF.cross_entropy(theirs.view(-1, 11), torch.tensor(targets).view(-1), ignore_index=-1)
    loss.backward()
    expected.backward()
    assert_same((loss, mine.grad), (expected, theirs.grad))
    assert (mine.grad.numpy()[:, -3:] == 0).all()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("kernels", ["numpy", "numba"])
def test_float32_cross_entropy_kernels_match_torch(reduction, kernels, kernels_used):
    """Without weights or smoothing the cross_entropy kernels run (with kernels="numba" one pass each
    way, kernels/cpu/cross_entropy.py); ignored rows, extreme logits."""
    import tinytorch.backends as backends
    with backends.using(kernels=kernels):
        check_plain_cross_entropy(reduction)
    package = "cpu" if kernels == "numba" else "numpy"
    assert kernels_used == {name: {f"tinytorch.kernels.{package}.cross_entropy"}
                            for name in ("cross_entropy_forward", "cross_entropy_backward")}


def check_plain_cross_entropy(reduction):
    rng = np.random.default_rng(4)
    logits = rng.normal(0, 2, (5, 11)).astype(np.float32)
    logits[3] = [1e4, -1e4] + [0.0] * 9           # large logits: the loss keeps its small part
    targets = np.array([1, -1, 10, 0, 4])          # row 1 ignored
    mine, theirs = tinytorch.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(mine, tinytorch.tensor(targets), ignore_index=-1, reduction=reduction)
    expected = TF.cross_entropy(theirs, torch.tensor(targets), ignore_index=-1, reduction=reduction)
    (loss.sum() if reduction == "none" else loss).backward()
    (expected.sum() if reduction == "none" else expected).backward()
    assert_same(loss, expected, "loss", atol=1e-5, rtol=1e-6)
    assert_same(mine.grad, theirs.grad, "gradient", atol=1e-7, rtol=1e-5)
    assert (mine.grad.numpy()[1] == 0).all()
    with pytest.raises(IndexError, match="Target 11 is out of bounds"):
        F.cross_entropy(mine, tinytorch.tensor([0, 1, 2, 3, 11]), ignore_index=-1)
    assert np.isnan(F.cross_entropy(mine, tinytorch.tensor([-1] * 5), ignore_index=-1).item())


def test_cross_entropy_unbatched_input_and_legacy_flags():
    logits = np.array([0.5, -1.0, 2.0])
    check_op(F.cross_entropy, TF.cross_entropy, logits, np.array(2), naive=F.cross_entropy_naive)
    x = np.random.default_rng(0).standard_normal((3, 4))
    t = np.array([0, 3, 1])
    got = F.cross_entropy(tinytorch.tensor(x), tinytorch.tensor(t), size_average=False)
    assert_same(got, TF.cross_entropy(torch.tensor(x), torch.tensor(t), reduction="sum"))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_all_targets_ignored_is_nan_for_mean_and_zero_for_sum_with_zero_gradient(reduction):
    x = tinytorch.zeros(2, 3, requires_grad=True)
    loss = F.cross_entropy(x, tinytorch.tensor([-100, -100]), reduction=reduction)
    t_x = torch.zeros(2, 3, requires_grad=True)
    t_loss = TF.cross_entropy(t_x, torch.tensor([-100, -100]), reduction=reduction)
    loss.backward()
    t_loss.backward()
    assert np.isnan(loss.item()) if reduction == "mean" else loss.item() == 0.0
    assert_same(loss, t_loss)
    assert x.grad.tolist() == t_x.grad.tolist() == [[0.0] * 3] * 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_cross_entropy_is_stable_at_extreme_logits(dtype, label_smoothing):
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [5e3, -5e3, 1e4]], dtype)
    targets = np.array([1, 2, 0])
    mine = tinytorch.tensor(logits, requires_grad=True)
    theirs = torch.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(mine, tinytorch.tensor(targets), label_smoothing=label_smoothing)
    expected = TF.cross_entropy(theirs, torch.tensor(targets), label_smoothing=label_smoothing)
    loss.backward()
    expected.backward()
    assert loss.dtype.name == np.dtype(dtype).name and mine.grad.dtype.name == np.dtype(dtype).name
    assert np.isfinite(loss.item()) and np.isfinite(mine.grad.numpy()).all()
    assert_same(loss, expected, "loss", atol=1e-6, rtol=1e-6)
    assert_same(mine.grad, theirs.grad, "gradient", atol=1e-7, rtol=1e-5)


def test_cross_entropy_rejects_bad_targets_and_shapes():
    x = tinytorch.zeros(2, 3)
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        F.cross_entropy(x, tinytorch.tensor([0, 3]))
    with pytest.raises(ValueError, match=r"cross_entropy: shapes \(2, 3\) and \(3,\)"):
        F.cross_entropy(x, tinytorch.tensor([0, 1, 2]))
    with pytest.raises(TypeError, match="integer dtype"):
        F.cross_entropy(x, tinytorch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="weight must have shape"):
        F.cross_entropy(x, tinytorch.tensor([0, 1]), weight=tinytorch.ones(4))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, tinytorch.tensor([0, 1]), reduction="avg")
