"""tinytorch.distributions against torch.distributions: the same seed gives the same samples (each
distribution draws as torch's does), and log_prob, entropy, mean, variance, shapes, rsample's
gradients, repr and argument / sample validation are torch's."""
import numpy as np
import pytest
import torch
import torch.distributions as TD

import tinytorch
import tinytorch.distributions as D
from harness import Scenarios, assert_same, run_both

PROBS = np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]], dtype=np.float32)
LOGITS = np.log(PROBS) + 1.3
scenarios = Scenarios()


def dist(m):
    return TD if m is torch else D


def summary(d, value, sample_shapes=((), (4,), (3, 2))):
    """What a distribution gives: samples (drawn in this order), log_prob(value), and its moments."""
    out = [d.sample(s) for s in sample_shapes]
    out += [d.log_prob(value), d.entropy(), d.batch_shape, d.event_shape]
    for name in ("mean", "variance", "stddev"):
        out.append(getattr(d, name))
    return out


@scenarios
def categorical_probs(m):
    m.manual_seed(0)
    c = dist(m).Categorical(probs=m.tensor(PROBS))
    return summary(c, m.tensor([2, 0])) + [c.logits, c.probs, c.mode, c.enumerate_support(), c.param_shape]


@scenarios
def categorical_logits_broadcast_value(m):
    m.manual_seed(1)
    c = dist(m).Categorical(logits=m.tensor(LOGITS))
    return summary(c, m.tensor([[2], [0], [1]])) + [c.probs, c.enumerate_support(expand=False)]


@scenarios
def categorical_one_row(m):
    m.manual_seed(2)
    return summary(dist(m).Categorical(probs=m.tensor([1.0, 2.0, 3.0, 0.0])), m.tensor(1), ((), (5,), (17,)))


@scenarios
def normal(m):
    m.manual_seed(0)
    n = dist(m).Normal(m.tensor([0.0, 1.0]), m.tensor([1.0, 2.0]))
    return summary(n, m.tensor([0.5, -1.0]), ((), (20,), (3, 1))) + [n.rsample((3,)), n.mode]


@scenarios
def normal_numbers(m):
    m.manual_seed(3)
    n = dist(m).Normal(0.5, 2.0)
    return summary(n, m.tensor([[0.3], [-2.0]]), ((), (17,))) + [n.rsample(), repr(n)]


@scenarios
def uniform(m):
    m.manual_seed(0)
    u = dist(m).Uniform(m.tensor([0.0, 1.0]), m.tensor([1.0, 3.0]))
    value = m.tensor([0.5, 2.5])
    return summary(u, value, ((), (20,))) + [u.rsample((2,)), u.cdf(value), u.icdf(m.tensor([0.25, 0.5]))]


@scenarios
def bernoulli_probs(m):
    m.manual_seed(0)
    b = dist(m).Bernoulli(probs=m.tensor([0.1, 0.5, 0.9]))
    return summary(b, m.tensor([1.0, 0.0, 1.0])) + [b.logits, b.mode, b.enumerate_support(), repr(b)]


@scenarios
def bernoulli_logits(m):
    m.manual_seed(4)
    b = dist(m).Bernoulli(logits=m.tensor([-3.0, 0.0, 40.0]))
    return summary(b, m.tensor([[1.0], [0.0]])) + [b.probs, repr(b)]


@scenarios
def bernoulli_number(m):
    m.manual_seed(5)
    return summary(dist(m).Bernoulli(0.3), m.tensor(1.0), ((), (20,)))


@pytest.mark.torch
@scenarios.each
def test_matches_torch(fn):
    """Every value, sample and shape is torch's (the printed names aside: tinytorch.Size)."""
    ours, theirs = fn(tinytorch), fn(torch)
    assert len(ours) == len(theirs)
    for k, (a, b) in enumerate(zip(ours, theirs)):
        if isinstance(a, str):
            assert a == b.replace("torch.", "tinytorch."), (a, b)
        else:
            assert_same(a, b, f"{fn.__name__}[{k}]", atol=1e-6, rtol=1e-5)


@pytest.mark.torch
def test_rsample_is_differentiable_in_the_parameters():
    def grads(m):
        m.manual_seed(0)
        loc, scale = m.tensor([0.0, 1.0], requires_grad=True), m.tensor([1.0, 2.0], requires_grad=True)
        low, high = m.tensor([0.0], requires_grad=True), m.tensor([2.0], requires_grad=True)
        x = dist(m).Normal(loc, scale).rsample((3,))
        y = dist(m).Uniform(low, high).rsample((4,))
        ((x ** 2).sum() + (y ** 3).sum() + dist(m).Normal(loc, scale).log_prob(x.detach()).sum()).backward()
        return [loc.grad, scale.grad, low.grad, high.grad]
    run_both(grads)


@pytest.mark.torch
@pytest.mark.parametrize("make", [
    lambda m: dist(m).Normal(m.tensor([0.0]), m.tensor([-1.0])),
    lambda m: dist(m).Categorical(probs=m.tensor([0.5, -0.5])),
    lambda m: dist(m).Bernoulli(probs=m.tensor([1.5])),
    lambda m: dist(m).Uniform(m.tensor([1.0]), m.tensor([0.0])),
    lambda m: dist(m).Normal(0.0, 1.0).log_prob(0.5),
    lambda m: dist(m).Categorical(logits=m.zeros(3)).log_prob(m.tensor(5)),
    lambda m: dist(m).Categorical(logits=m.zeros(2, 3)).log_prob(m.tensor([0, 1, 2])),
    lambda m: dist(m).Uniform(0.0, 1.0).log_prob(m.tensor(2.0)),
    lambda m: dist(m).Bernoulli(0.5).log_prob(m.tensor(0.5)),
    lambda m: dist(m).Bernoulli(0.5, 0.5),
    lambda m: dist(m).Categorical(probs=m.tensor(1.0)),
], ids=["negative_scale", "negative_probs", "probs_above_1", "low_above_high", "value_not_a_tensor",
        "category_out_of_range", "value_not_broadcastable", "outside_support", "not_boolean", "probs_and_logits",
        "zero_dim_probs"])
def test_validation_raises_torchs_value_error(make):
    messages = []
    for m in (torch, tinytorch):
        with pytest.raises(ValueError) as caught:
            make(m)
        messages.append(str(caught.value).split(" of distribution ")[0].split(":")[0])
    assert messages[0] == messages[1]


@pytest.mark.torch
def test_validation_can_be_turned_off():
    def unchecked(m):
        d = dist(m).Normal(m.tensor([0.0]), m.tensor([-1.0]), validate_args=False)
        return d.scale, d.log_prob(m.tensor([0.0]))
    run_both(unchecked)
    try:
        D.Distribution.set_default_validate_args(False)
        assert D.Bernoulli(probs=tinytorch.tensor([2.0])).probs.item() == 2.0
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args("yes")
