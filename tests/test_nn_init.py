"""nn.init: gains, fans, distributions, in-place semantics, and torch's default layer inits."""
import math

import numpy as np
import pytest
import torch

import tinytorch
import tinytorch.nn as nn
from tinytorch.nn import init


@pytest.mark.torch
@pytest.mark.parametrize("nonlinearity,param", [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                                                ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None),
                                                ("conv2d", None)])
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(torch.nn.init.calculate_gain(nonlinearity, param))


def test_calculate_gain_rejects_unknown_names():
    with pytest.raises(ValueError, match="swish"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="negative_slope"):
        init.calculate_gain("leaky_relu", True)


def sample_std_and_bounds(fill, shape=(400, 500)):
    t = tinytorch.empty(*shape)
    out = fill(t)
    assert out is t
    values = t.numpy().astype(np.float64)
    return values.mean(), values.std(), values.min(), values.max()


# (fill, expected std, expected bound or None) for a 400 x 500 weight: fan_in 500, fan_out 400.
DISTRIBUTIONS = {
    "uniform": (lambda t: init.uniform_(t, -2.0, 4.0), math.sqrt(36 / 12), (-2.0, 4.0)),
    "normal": (lambda t: init.normal_(t, 0.0, 0.02), 0.02, None),
    "kaiming_uniform": (lambda t: init.kaiming_uniform_(t, a=math.sqrt(5)), 1 / math.sqrt(3 * 500),
                        (-1 / math.sqrt(500), 1 / math.sqrt(500))),
    "kaiming_uniform_relu_fan_out": (lambda t: init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"),
                                     math.sqrt(2 / 400), (-math.sqrt(6 / 400), math.sqrt(6 / 400))),
    "kaiming_normal": (lambda t: init.kaiming_normal_(t, nonlinearity="tanh"), 5 / 3 / math.sqrt(500), None),
    "xavier_uniform": (lambda t: init.xavier_uniform_(t, gain=2.0), 2 * math.sqrt(2 / 900),
                       (-2 * math.sqrt(6 / 900), 2 * math.sqrt(6 / 900))),
    "xavier_normal": (lambda t: init.xavier_normal_(t), math.sqrt(2 / 900), None),
}


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_distributions_have_the_documented_spread(name):
    fill, std, bounds = DISTRIBUTIONS[name]
    mean, sample_std, low, high = sample_std_and_bounds(fill)
    assert sample_std == pytest.approx(std, rel=0.01)
    if bounds is None:
        assert mean == pytest.approx(0.0, abs=0.01 * std)
    else:
        assert bounds[0] <= low and high <= bounds[1]
        assert low < bounds[0] + 0.01 * (bounds[1] - bounds[0]) and high > bounds[1] - 0.01 * (bounds[1] - bounds[0])


@pytest.mark.torch
def test_trunc_normal_stays_in_bounds_with_torch_spread():
    t = init.trunc_normal_(tinytorch.empty(300, 300), mean=0.5, std=1.0, a=-1.0, b=1.5)
    ref = torch.nn.init.trunc_normal_(torch.empty(300, 300), mean=0.5, std=1.0, a=-1.0, b=1.5)
    values = t.numpy()
    assert values.min() >= -1.0 and values.max() <= 1.5
    assert values.std() == pytest.approx(float(ref.std()), rel=0.02)
    assert values.mean() == pytest.approx(float(ref.mean()), abs=0.01)
    with pytest.warns(UserWarning, match="more than 2 std"):  # far in the tail: torch's uniform proposals
        far = init.trunc_normal_(tinytorch.empty(1000), mean=0.0, std=1.0, a=10.0, b=11.0).numpy()
    assert far.min() >= 10.0 and far.max() <= 11.0 and far.mean() < 10.2


def test_constant_fills_and_fan_errors():
    t = tinytorch.empty(2, 3)
    assert init.constant_(t, 0.25) is t and (t.numpy() == 0.25).all()
    assert (init.ones_(t).numpy() == 1).all() and (init.zeros_(t).numpy() == 0).all()
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(tinytorch.empty(5))
    with pytest.raises(ValueError, match="fan_sideways"):
        init.kaiming_normal_(tinytorch.empty(2, 2), mode="fan_sideways")


def test_generator_makes_draws_reproducible_and_independent():
    draw = lambda seed: init.normal_(tinytorch.empty(4, 4), generator=tinytorch.Generator().manual_seed(seed))  # noqa: E731
    np.testing.assert_array_equal(draw(7).numpy(), draw(7).numpy())
    assert not np.array_equal(draw(7).numpy(), draw(8).numpy())
    tinytorch.manual_seed(0)
    a = init.uniform_(tinytorch.empty(3))
    tinytorch.manual_seed(0)
    np.testing.assert_array_equal(init.uniform_(tinytorch.empty(3)).numpy(), a.numpy())


def test_init_of_a_parameter_records_no_graph():
    layer = nn.Linear(3, 3)
    out = init.kaiming_normal_(layer.weight)
    assert out is layer.weight and layer.weight.is_leaf and layer.weight.requires_grad
    init.zeros_(layer.bias)
    assert layer.bias.is_leaf and not layer.bias.numpy(force=True).any()


def test_default_inits_follow_torch():
    tinytorch.manual_seed(0)
    linear = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (linear.weight, linear.bias):
        values = p.numpy(force=True)
        assert -bound <= values.min() and values.max() <= bound and values.max() > 0.95 * bound
    assert linear.weight.numpy(force=True).std() == pytest.approx(bound / math.sqrt(3), rel=0.02)
    emb = nn.Embedding(500, 200).weight.numpy(force=True)
    assert emb.std() == pytest.approx(1.0, rel=0.02) and abs(emb.mean()) < 0.01
    ln, bn = nn.LayerNorm(5), nn.BatchNorm1d(5)
    for layer in (ln, bn):
        assert (layer.weight.numpy(force=True) == 1).all() and (layer.bias.numpy(force=True) == 0).all()
    assert (bn.running_mean.numpy() == 0).all() and (bn.running_var.numpy() == 1).all()
    assert bn.num_batches_tracked.item() == 0


# ---- torch's own weights after the same seed -----------------------------------------------------

INITS = {
    "uniform": lambda m, t: m.nn.init.uniform_(t, -2.0, 4.0),
    "normal": lambda m, t: m.nn.init.normal_(t, 0.0, 0.02),
    "kaiming_uniform": lambda m, t: m.nn.init.kaiming_uniform_(t, a=math.sqrt(5)),
    "kaiming_uniform_relu_fan_out": lambda m, t: m.nn.init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"),
    "kaiming_normal": lambda m, t: m.nn.init.kaiming_normal_(t, nonlinearity="tanh"),
    "xavier_uniform": lambda m, t: m.nn.init.xavier_uniform_(t, gain=2.0),
    "xavier_normal": lambda m, t: m.nn.init.xavier_normal_(t),
    "trunc_normal": lambda m, t: m.nn.init.trunc_normal_(t),
    "trunc_normal_narrow_std": lambda m, t: m.nn.init.trunc_normal_(t, std=0.02),
    "trunc_normal_tail": lambda m, t: m.nn.init.trunc_normal_(t, mean=0.5, std=1.0, a=2.0, b=2.5),
}


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(400, 500), (3, 5), (7, 3, 2)])
@pytest.mark.parametrize("name", INITS)
def test_inits_draw_torchs_weights(name, shape):
    """Exactly torch's values: the same draws, bounds computed in torch's order. (trunc_normal_tail
    takes torch's uniform-proposal sampler, whose acceptance compares float32 logs: NumPy's and
    torch's agree on these draws.)"""
    def weights(m):
        m.manual_seed(3)
        return [INITS[name](m, m.empty(*shape)), m.rand(2)]
    ours, theirs = weights(tinytorch), weights(torch)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.torch
def test_layers_start_from_torchs_weights():
    """Constructors draw in torch's order: Linear's weight (kaiming_uniform_, a=sqrt(5)) then its
    bias (U(-1/sqrt(in), 1/sqrt(in))), Embedding's N(0, 1) with the padding row zeroed, LayerNorm none."""
    def model(m):
        m.manual_seed(1337)
        return m.nn.Sequential(m.nn.Embedding(27, 10, padding_idx=0), m.nn.Linear(10, 200), m.nn.LayerNorm(200),
                               m.nn.Linear(200, 27, bias=False), m.nn.Linear(768, 3072))
    ours, theirs = model(tinytorch).state_dict(), model(torch).state_dict()
    assert list(ours) == list(theirs)
    for name in ours:
        np.testing.assert_array_equal(ours[name].numpy(), theirs[name].numpy(), err_msg=name)
