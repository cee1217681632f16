"""The loss modules of issue 18 (BCELoss, BCEWithLogitsLoss, L1Loss, SmoothL1Loss, HuberLoss,
KLDivLoss, CosineEmbeddingLoss, MarginRankingLoss) and what their functional forms decide beyond
the table rows of functional_cases.py: legacy reduction flags, pos_weight broadcasting,
'batchmean' and the 'mean' warning, the clamped logs, extreme logits, class-probability
targets of CrossEntropyLoss, and shape and dtype errors in one line."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tinytorch
import tinytorch.nn.functional as F
from harness import assert_same, check_op

rng = np.random.default_rng(0)
X = rng.normal(0, 2, (4, 3))
P = rng.uniform(0.05, 0.95, (4, 3))
T = rng.uniform(0, 1, (4, 3))
W = rng.uniform(0.5, 2, 3)
SIGNS = np.array([1.0, -1.0, -1.0, 1.0])

# name: (module kwargs as a function of the library, input arrays)
MODULES = {
    "BCELoss": (lambda m: dict(weight=m.tensor(W)), [P, T]),
    "BCEWithLogitsLoss": (lambda m: dict(weight=m.tensor(W[:1]), pos_weight=m.tensor(W), reduction="sum"), [X, T]),
    "L1Loss": (lambda m: dict(reduction="none"), [X, T]),
    "SmoothL1Loss": (lambda m: dict(beta=0.5), [X, T]),
    "HuberLoss": (lambda m: dict(delta=0.5, reduction="sum"), [X, T]),
    "KLDivLoss": (lambda m: dict(reduction="batchmean", log_target=True), [np.log(P), np.log(T)]),
    "CosineEmbeddingLoss": (lambda m: dict(margin=0.2), [X, X[::-1].copy(), np.array([1, -1, 1, -1])]),
    "MarginRankingLoss": (lambda m: dict(margin=0.5, reduction="none"), [X[:, 0], X[:, 1], SIGNS]),
    "CrossEntropyLoss": (lambda m: dict(weight=m.tensor(W), label_smoothing=0.1), [X, P / P.sum(1, keepdims=True)]),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", list(MODULES))
def test_module_matches_torch_forward_and_backward(name):
    kwargs, inputs = MODULES[name]
    check_op(lambda *ts: getattr(tinytorch.nn, name)(**kwargs(tinytorch))(*ts),
             lambda *ts: getattr(torch.nn, name)(**kwargs(torch))(*ts), *inputs)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["BCELoss", "BCEWithLogitsLoss", "L1Loss", "SmoothL1Loss", "KLDivLoss"])
@pytest.mark.parametrize("size_average, reduce", [(False, None), (None, False), (True, True)])
def test_legacy_size_average_and_reduce_flags(name, size_average, reduce):
    x, t = (np.log(P), T) if name == "KLDivLoss" else (P, T)
    mine = getattr(tinytorch.nn, name)(size_average=size_average, reduce=reduce)
    theirs = getattr(torch.nn, name)(size_average=size_average, reduce=reduce)
    assert mine.reduction == theirs.reduction
    assert_same(mine(tinytorch.tensor(x), tinytorch.tensor(t)), theirs(torch.tensor(x), torch.tensor(t)))


def test_module_buffers_and_repr_are_torchs():
    loss = tinytorch.nn.BCEWithLogitsLoss(weight=tinytorch.ones(3), pos_weight=tinytorch.tensor([1.0, 2.0, 3.0]))
    assert list(loss.state_dict()) == ["weight", "pos_weight"] and repr(loss) == "BCEWithLogitsLoss()"
    assert list(tinytorch.nn.BCELoss().state_dict()) == [] and tinytorch.nn.HuberLoss(delta=2.0).delta == 2.0


@pytest.mark.torch
@pytest.mark.parametrize("pos_weight_shape", [(3,), (1, 3), (4, 1), ()])
def test_pos_weight_broadcasts_over_the_input(pos_weight_shape):
    pos_weight = rng.uniform(0.5, 3, pos_weight_shape)
    check_op(_with_pos_weight(F.binary_cross_entropy_with_logits, tinytorch, pos_weight),
             _with_pos_weight(TF.binary_cross_entropy_with_logits, torch, pos_weight), X, T,
             naive=_with_pos_weight(F.binary_cross_entropy_with_logits_naive, tinytorch, pos_weight))


def _with_pos_weight(loss, m, pos_weight):
    """(x, t) -> loss(x, t, pos_weight=...) with pos_weight a tensor of library m."""
    return lambda x, t: loss(x, t, pos_weight=m.tensor(pos_weight))


@pytest.mark.torch
def test_kl_div_batchmean_is_the_sum_over_the_batch_and_mean_warns():
    x, t = tinytorch.tensor(np.log(P)), tinytorch.tensor(T)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batchmean = F.kl_div(x, t, reduction="batchmean")
        F.kl_div(x, t, size_average=True)                 # the legacy flags give no warning, as torch's
    assert_same(batchmean, TF.kl_div(torch.tensor(np.log(P)), torch.tensor(T), reduction="batchmean"))
    assert np.isclose(batchmean.item(), F.kl_div(x, t, reduction="sum").item() / 4)
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        tinytorch.nn.KLDivLoss()(x, t)
    with pytest.raises(ValueError, match="'batchmean' is not a valid value for reduction"):
        tinytorch.nn.L1Loss(reduction="batchmean")


@pytest.mark.torch
def test_kl_div_target_gradient_at_zero_is_torchs_nan():
    """torch's t log t is xlogy(t, t): its derivative in t is NaN where t = 0 (t / t), log t + 1 - x elsewhere."""
    grads = []
    for m in (tinytorch, torch):
        x = m.tensor([-1.0, -2.0, -0.5], requires_grad=True)
        t = m.tensor([0.0, 0.3, 0.7], requires_grad=True)
        m.nn.functional.kl_div(x, t, reduction="sum").backward()
        grads.append(t.grad)
    assert_same(*grads, "kl_div target gradient")
    assert np.isnan(grads[0][0].item())


@pytest.mark.torch
def test_regression_target_of_another_shape_broadcasts_with_torchs_warning():
    with pytest.warns(UserWarning, match=r"Using a target size .* different to the input size"):
        mine = F.smooth_l1_loss(tinytorch.tensor(X), tinytorch.tensor(T[0]))
    with pytest.warns(UserWarning):
        theirs = TF.smooth_l1_loss(torch.tensor(X), torch.tensor(T[0]))
    assert_same(mine, theirs)


@pytest.mark.torch
def test_binary_cross_entropy_clamps_its_logs_at_minus_100():
    """Probabilities 0 and 1: a loss of 100 where the target disagrees, a gradient kept finite by
    the 1e-12 floor of x (1 - x) (the naive twin's autograd, through log 0, gives nan there)."""
    x = np.array([0.0, 1.0, 0.5, 1.0])
    check_op(F.binary_cross_entropy, TF.binary_cross_entropy, x, np.array([1.0, 0.0, 0.5, 1.0]),
             grads=[True, False])


@pytest.mark.torch
def test_binary_cross_entropy_with_logits_is_stable_for_extreme_logits():
    x = np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0])
    t = np.array([1.0, 0.0, 0.5, 1.0, 0.0])
    out = check_op(_with_pos_weight(F.binary_cross_entropy_with_logits, tinytorch, 3.0),
                   _with_pos_weight(TF.binary_cross_entropy_with_logits, torch, 3.0), x, t)
    assert np.isfinite(out.item())


def test_float32_in_float32_out():
    x = tinytorch.tensor(P.astype(np.float32), requires_grad=True)
    t = tinytorch.tensor(T.astype(np.float32))
    outs = [F.binary_cross_entropy(x, t, weight=tinytorch.tensor(W)), F.l1_loss(x, t), F.smooth_l1_loss(x, t),
            F.binary_cross_entropy_with_logits(x, t, pos_weight=tinytorch.tensor(W)), F.huber_loss(x, t),
            F.kl_div(x, t, reduction="batchmean"), F.cross_entropy(x, t, label_smoothing=0.1),
            F.cosine_embedding_loss(x, t, tinytorch.tensor([1, -1, 1, -1])), F.margin_ranking_loss(x, t, t)]
    for out in outs:
        assert out.dtype == tinytorch.float32, out
        x.grad = None
        out.backward()
        assert x.grad.dtype == tinytorch.float32


def _t(*shape, dtype=tinytorch.float64):
    return tinytorch.full(shape, 0.5, dtype=dtype)


ERRORS = {  # name: (call, exception class, message pattern)
    "bce target shape": (lambda: F.binary_cross_entropy(_t(3, 4), _t(4)), ValueError,
                         r"binary_cross_entropy: Using a target size \(4,\) that is different to the input size "
                         r"\(3, 4\) is deprecated"),
    "bce range": (lambda: F.binary_cross_entropy(_t(2) * 3, _t(2)), RuntimeError, "input should be between 0 and 1"),
    "bce target range": (lambda: F.binary_cross_entropy(_t(2), -_t(2)), RuntimeError,
                         "target should be between 0 and 1"),
    "bce weight shape": (lambda: F.binary_cross_entropy(_t(3, 4), _t(3, 4), weight=_t(3)), RuntimeError,
                         r"binary_cross_entropy: shapes \(3, 4\) and \(3,\) cannot be broadcast together"),
    "bce dtype": (lambda: F.binary_cross_entropy(_t(2, dtype=tinytorch.float32), _t(2)), TypeError,
                  "expected tensors of one dtype"),
    "logits target shape": (lambda: F.binary_cross_entropy_with_logits(_t(3, 4), _t(3, 1)), ValueError,
                            r"Target size \(3, 1\) must be the same as input size \(3, 4\)"),
    "pos_weight grows input": (lambda: F.binary_cross_entropy_with_logits(_t(4), _t(4), pos_weight=_t(2, 4)),
                               RuntimeError, "pos_weight must broadcast to the input's shape"),
    "pos_weight mismatch": (lambda: F.binary_cross_entropy_with_logits(_t(3, 4), _t(3, 4), pos_weight=_t(3)),
                            RuntimeError, r"shapes \(3, 4\) and \(3,\) cannot be broadcast together"),
    "l1 broadcast": (lambda: F.l1_loss(_t(3, 4), _t(3, 3)), RuntimeError, "cannot be broadcast together"),
    "l1 integer": (lambda: F.l1_loss(tinytorch.ones(2, dtype=tinytorch.long), tinytorch.ones(2, dtype=tinytorch.long)),
                   TypeError, "l1_loss: expected a floating-point input"),
    "l1 weight shape": (lambda: F.l1_loss(_t(3, 4), _t(3, 4), weight=_t(4)), ValueError,
                        r"shapes \(3, 4\) and \(4,\) do not match \(input, weight\)"),
    "smooth_l1 beta": (lambda: F.smooth_l1_loss(_t(2), _t(2), beta=-1.0), RuntimeError, "negative values for beta"),
    "huber delta": (lambda: F.huber_loss(_t(2), _t(2), delta=0.0), RuntimeError, "non-positive values for delta"),
    "kl reduction": (lambda: F.kl_div(_t(2), _t(2), reduction="avg"), ValueError, "'avg' is not a valid value"),
    "cosine 2-d target": (lambda: F.cosine_embedding_loss(_t(3, 4), _t(3, 4), _t(3, 1)), RuntimeError,
                          "multi-target is not supported"),
    "cosine input dims": (lambda: F.cosine_embedding_loss(_t(3, 4), _t(4), _t(3)), RuntimeError,
                          "a 1-d target expects 2-d inputs"),
    "ranking dims": (lambda: F.margin_ranking_loss(_t(3, 4), _t(4), _t(4)), RuntimeError,
                     "should have the same number of dimensions"),
    "float target of another shape": (lambda: F.cross_entropy(_t(3, 4), _t(3)), TypeError,
                                      "cross_entropy: expected class indices of an integer dtype as target"),
    "probabilities ignore_index": (lambda: F.cross_entropy(_t(3, 4), _t(3, 4), ignore_index=0), ValueError,
                                   "ignore_index .* is not supported for class-probability"),
    "probabilities dtype": (lambda: F.cross_entropy(_t(3, 4), _t(3, 4, dtype=tinytorch.float32)), TypeError,
                            "expected tensors of one dtype"),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_errors_name_the_op_and_shapes_in_one_line(name):
    call, kind, pattern = ERRORS[name]
    with pytest.raises(kind, match=pattern) as info:
        call()
    assert "\n" not in str(info.value)
