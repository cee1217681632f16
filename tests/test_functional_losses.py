"""nn.functional losses: fused cross_entropy / nll_loss / mse_loss == naive twin == torch, forward
and backward in float64; ignore_index, weights, label smoothing, extra dims; extreme logits."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, strategies as st

import tinytorch
import tinytorch.nn.functional as F
from devices import on_devices
from test_functional import LAYOUTS, lay_out, three_way

pytestmark = pytest.mark.torch


@st.composite
def classification(draw, max_extra_dims=2):
    """(logits, targets, options): logits (N, C) or (N, C, d...) in a drawn layout, int64 targets
    with some set to the drawn ignore_index, and drawn weight / reduction / label smoothing."""
    n, n_classes = draw(st.integers(1, 6)), draw(st.integers(1, 7))
    extra = tuple(draw(st.lists(st.integers(1, 3), max_size=max_extra_dims)))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    logits = lay_out(rng.normal(0, 3, (n, n_classes) + extra), draw(st.sampled_from(LAYOUTS)))
    targets = rng.integers(0, n_classes, (n,) + extra)
    ignore_index = draw(st.sampled_from([-100, 0, n_classes - 1])) if n_classes > 1 else -100
    targets[rng.random(targets.shape) < 0.3] = ignore_index
    if (targets == ignore_index).all():  # keep at least one counted target, so 'mean' is finite
        targets.reshape(-1)[0] = (ignore_index + 1) % n_classes if ignore_index >= 0 else 0
    weight = rng.uniform(0.2, 2.0, n_classes) if draw(st.booleans()) else None
    options = dict(ignore_index=ignore_index, reduction=draw(st.sampled_from(["mean", "sum", "none"])),
                   label_smoothing=draw(st.sampled_from([0.0, 0.0, 0.1, 0.5])))
    return logits, targets, weight, options


def _with_weight(fn, weight, **options):
    if weight is None:
        return lambda x, t: fn(x, t, **options)
    return lambda x, t, w: fn(x, t, weight=w, **options)


@on_devices
@given(classification())
def test_cross_entropy_matches_naive_and_torch(device, case):
    logits, targets, weight, options = case
    arrays = [logits, targets] + ([weight] if weight is not None else [])
    grads = [True, False, False][:len(arrays)]
    three_way(_with_weight(F.cross_entropy, weight, **options), _with_weight(F.cross_entropy_naive, weight, **options),
              _with_weight(TF.cross_entropy, weight, **options), arrays, grads, device=device)


@on_devices
@given(classification())
def test_nll_loss_matches_naive_and_torch(device, case):
    logits, targets, weight, options = case
    options.pop("label_smoothing")
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    arrays = [lay_out(logp, "strided"), targets] + ([weight] if weight is not None else [])
    grads = [True, False, False][:len(arrays)]
    three_way(_with_weight(F.nll_loss, weight, **options), _with_weight(F.nll_loss_naive, weight, **options),
              _with_weight(TF.nll_loss, weight, **options), arrays, grads, device=device)


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
    tinytorch.testing.assert_close(loss, expected, atol=1e-12)
    tinytorch.testing.assert_close(mine.grad, theirs.grad, atol=1e-12)
    assert (mine.grad.numpy()[:, -3:] == 0).all()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_float32_cross_entropy_with_the_numba_kernels_matches_torch(reduction, monkeypatch):
    """kernels="numba": one pass each way (kernels/cpu/cross_entropy.py), ignored rows, extreme logits."""
    import tinytorch.backends as backends
    monkeypatch.setattr(backends, "kernels", "numba")
    asked = []
    real = backends.cpu_only_kernel
    monkeypatch.setattr(backends, "cpu_only_kernel", lambda n, xp: asked.append(n) or real(n, xp))
    rng = np.random.default_rng(4)
    logits = rng.normal(0, 2, (5, 11)).astype(np.float32)
    logits[3] = [1e4, -1e4] + [0.0] * 9           # large logits: the loss keeps its small part
    targets = np.array([1, -1, 10, 0, 4])          # row 1 ignored
    mine, theirs = tinytorch.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(mine, tinytorch.tensor(targets), ignore_index=-1, reduction=reduction)
    expected = TF.cross_entropy(theirs, torch.tensor(targets), ignore_index=-1, reduction=reduction)
    (loss.sum() if reduction == "none" else loss).backward()
    (expected.sum() if reduction == "none" else expected).backward()
    assert asked == ["cross_entropy_forward", "cross_entropy_backward"]
    tinytorch.testing.assert_close(loss, expected, atol=1e-5, rtol=1e-6)
    tinytorch.testing.assert_close(mine.grad, theirs.grad, atol=1e-7, rtol=1e-5)
    assert (mine.grad.numpy()[1] == 0).all()
    with pytest.raises(IndexError, match="Target 11 is out of bounds"):
        F.cross_entropy(mine, tinytorch.tensor([0, 1, 2, 3, 11]), ignore_index=-1)
    assert np.isnan(F.cross_entropy(mine, tinytorch.tensor([-1] * 5), ignore_index=-1).item())


def test_cross_entropy_unbatched_input_and_legacy_flags():
    logits = np.array([0.5, -1.0, 2.0])
    three_way(lambda x, t: F.cross_entropy(x, t), lambda x, t: F.cross_entropy_naive(x, t),
              lambda x, t: TF.cross_entropy(x, t), [logits, np.array(2)], [True, False])
    x = np.random.default_rng(0).standard_normal((3, 4))
    t = np.array([0, 3, 1])
    got = F.cross_entropy(tinytorch.tensor(x), tinytorch.tensor(t), size_average=False)
    tinytorch.testing.assert_close(got, TF.cross_entropy(torch.tensor(x), torch.tensor(t), reduction="sum"))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_all_targets_ignored_is_nan_for_mean_and_zero_for_sum_with_zero_gradient(reduction):
    x = tinytorch.zeros(2, 3, requires_grad=True)
    loss = F.cross_entropy(x, tinytorch.tensor([-100, -100]), reduction=reduction)
    t_x = torch.zeros(2, 3, requires_grad=True)
    t_loss = TF.cross_entropy(t_x, torch.tensor([-100, -100]), reduction=reduction)
    loss.backward()
    t_loss.backward()
    assert np.isnan(loss.item()) if reduction == "mean" else loss.item() == 0.0
    tinytorch.testing.assert_close(loss, t_loss)
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
    tinytorch.testing.assert_close(loss, expected, rtol=1e-6)
    tinytorch.testing.assert_close(mine.grad, theirs.grad, atol=1e-7)


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


@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       reduction=st.sampled_from(["mean", "sum", "none"]), layout=st.sampled_from(LAYOUTS), seed=st.integers(0, 99))
def test_mse_loss_matches_naive_and_torch(shape, reduction, layout, seed):
    rng = np.random.default_rng(seed)
    x, y = lay_out(rng.standard_normal(shape), layout), rng.standard_normal(shape)
    three_way(lambda a, b: F.mse_loss(a, b, reduction=reduction), lambda a, b: F.mse_loss_naive(a, b, reduction),
              lambda a, b: TF.mse_loss(a, b, reduction=reduction), [x, y])


def test_mse_loss_with_weight_matches_torch():
    rng = np.random.default_rng(1)
    x, y, w = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.uniform(0, 1, (3, 4))
    three_way(lambda a, b, c: F.mse_loss(a, b, weight=c), lambda a, b, c: F.mse_loss_naive(a, b, weight=c),
              lambda a, b, c: TF.mse_loss(a, b, weight=c), [x, y, w])
