"""Factories and random functions: torch's signatures, dtypes and shapes; manual_seed and
Generator reproducibility; the distributions drawn from."""
import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import tinytorch
from harness import assert_same, run_both

RANDOM_CALLS = {
    "randn_varargs": lambda m, g: m.randn(2, 3),
    "randn_tuple": lambda m, g: m.randn((2, 3)),
    "randn_0d": lambda m, g: m.randn(()),
    "randn_empty": lambda m, g: m.randn(0, 3),
    "randn_float64": lambda m, g: m.randn(4, dtype=m.float64),
    "randn_requires_grad": lambda m, g: m.randn(2, requires_grad=True),
    "randn_generator": lambda m, g: m.randn(5, generator=g),
    "randn_device": lambda m, g: m.randn(2, device="cpu"),
    "rand": lambda m, g: m.rand(4, 1),
    "rand_float64_generator": lambda m, g: m.rand(3, dtype=m.float64, generator=g),
    "randint_high_size": lambda m, g: m.randint(10, (3,)),
    "randint_low_high_size": lambda m, g: m.randint(2, 10, (3, 2)),
    "randint_size_kw": lambda m, g: m.randint(0, 5, size=(4,)),
    "randint_high_kw": lambda m, g: m.randint(high=5, size=(2,)),
    "randint_dtype": lambda m, g: m.randint(3, 5, (2,), dtype=m.int32),
    "randint_float_dtype": lambda m, g: m.randint(5, (2,), dtype=m.float32),
    "randint_generator": lambda m, g: m.randint(0, 100, (6,), generator=g),
    "randperm": lambda m, g: m.randperm(6),
    "randperm_dtype": lambda m, g: m.randperm(6, dtype=m.float32),
    "randperm_generator": lambda m, g: m.randperm(5, generator=g),
    "randn_like": lambda m, g: m.randn_like(m.ones(2, 3, dtype=m.float64)),
    "rand_like": lambda m, g: m.rand_like(m.ones(2)),
    "randint_like": lambda m, g: m.randint_like(m.ones(2), 5),
    "randint_like_low_high": lambda m, g: m.randint_like(m.ones(2, dtype=m.int64), 3, 5),
    "normal": lambda m, g: m.normal(0.0, 1.0, size=(3,)),
    "normal_": lambda m, g: m.empty(3).normal_(),
    "uniform_": lambda m, g: m.empty(3, dtype=m.float64).uniform_(-1, 1),
    "multinomial_1d": lambda m, g: m.multinomial(m.tensor([0.1, 0.9]), 5, replacement=True),
    "multinomial_2d": lambda m, g: m.tensor([[0.2, 0.8], [0.5, 0.5]]).multinomial(4, True, generator=g),
    "multinomial_no_replacement": lambda m, g: m.multinomial(m.tensor([1.0, 2.0, 3.0]), 3),
    "multinomial_one": lambda m, g: m.multinomial(m.ones(4, 7), 1),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", list(RANDOM_CALLS))
def test_random_call_signature_matches_torch(name):
    call = RANDOM_CALLS[name]
    ours = call(tinytorch, tinytorch.Generator().manual_seed(1))
    theirs = call(torch, torch.Generator().manual_seed(1))
    assert_same(ours, theirs, name, values=False)


@pytest.mark.parametrize("name", list(RANDOM_CALLS))
def test_manual_seed_reproduces_every_random_function(name):
    call = RANDOM_CALLS[name]
    draws = []
    for seed in (7, 7, 8):
        tinytorch.manual_seed(seed)
        draws.append(call(tinytorch, tinytorch.Generator().manual_seed(seed)).numpy(force=True))
    np.testing.assert_array_equal(draws[0], draws[1])
    if draws[0].dtype.kind == "f" and draws[0].size > 1:
        assert not np.array_equal(draws[0], draws[2]), "a different seed gave the same draw"


def test_generator_is_independent_of_the_global_stream():
    g1 = tinytorch.Generator().manual_seed(42)
    first = tinytorch.randn(5, generator=g1)
    g2 = tinytorch.Generator().manual_seed(42)
    tinytorch.randn(100)  # draws from the default generator must not disturb g2
    np.testing.assert_array_equal(first.numpy(), tinytorch.randn(5, generator=g2).numpy())
    assert g2.initial_seed() == 42


@pytest.mark.torch
def test_manual_seed_returns_a_generator_and_sets_initial_seed():
    run_both(lambda m: (type(m.manual_seed(5)).__name__, m.initial_seed(), m.Generator().manual_seed(3).initial_seed()))


def test_rng_state_round_trip():
    tinytorch.manual_seed(0)
    state = tinytorch.get_rng_state()
    a = tinytorch.rand(4)
    tinytorch.set_rng_state(state)
    np.testing.assert_array_equal(a.numpy(), tinytorch.rand(4).numpy())


@pytest.mark.parametrize("low, high", [(0, 1), (-3, 4), (5, 6), (0, 1000)])
def test_randint_stays_in_half_open_range(low, high):
    x = tinytorch.randint(low, high, (2000,))
    assert x.dtype == tinytorch.int64
    assert low <= x.min().item() and x.max().item() < high
    if high - low <= 7:
        assert set(x.tolist()) == set(range(low, high))


def test_rand_and_randn_distributions():
    tinytorch.manual_seed(0)
    u = tinytorch.rand(100_000, dtype=tinytorch.float64)
    z = tinytorch.randn(100_000)
    assert 0.0 <= u.min().item() and u.max().item() < 1.0
    assert abs(u.mean().item() - 0.5) < 0.01 and abs(u.var().item() - 1 / 12) < 0.005
    assert abs(z.mean().item()) < 0.02 and abs(z.std().item() - 1) < 0.02


def test_randperm_is_a_permutation():
    assert sorted(tinytorch.randperm(50).tolist()) == list(range(50))


def test_multinomial_with_replacement_follows_the_weights():
    tinytorch.manual_seed(0)
    weights = tinytorch.tensor([[1.0, 2.0, 7.0], [0.0, 5.0, 5.0]])  # rows need not sum to 1
    draws = tinytorch.multinomial(weights, 20_000, replacement=True, generator=tinytorch.Generator().manual_seed(3))
    for row, w in zip(draws.numpy(), weights.numpy()):
        freq = np.bincount(row, minlength=3) / row.size
        np.testing.assert_allclose(freq, w / w.sum(), atol=0.015)


def test_multinomial_without_replacement_never_repeats_and_skips_zero_weights():
    tinytorch.manual_seed(0)
    weights = tinytorch.tensor([[1.0, 0.0, 3.0, 2.0]] * 50)
    draws = weights.multinomial(3)
    for row in draws.tolist():
        assert len(set(row)) == 3 and 1 not in row


def test_multinomial_without_replacement_picks_heavy_classes_first():
    tinytorch.manual_seed(0)
    first = tinytorch.multinomial(tinytorch.tensor([[1.0, 1.0, 8.0]] * 4000), 2)[:, 0]
    assert abs((first == 2).float().mean().item() - 0.8) < 0.03


@pytest.mark.torch
@given(weights=hnp.arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 6)),
                          elements=st.sampled_from([0.0, 0.5, 1.0, 3.0])),
       num_samples=st.integers(1, 6), replacement=st.booleans(), one_row=st.booleans(), seed=st.integers(0, 99))
def test_multinomial_properties_and_torch_agreement(weights, num_samples, replacement, one_row, seed):
    """Shapes, dtype and validity of draws (zero-weight classes only once the positive ones are
    used up, no repeats without replacement), and torch raising exactly when tinytorch does."""
    weights[:, 0] += 0.25  # every row can be drawn from
    if one_row:
        weights = weights[0]
    outcomes = []
    for m in (torch, tinytorch):
        try:
            outcomes.append(m.multinomial(m.tensor(weights), num_samples, replacement,
                                          generator=m.Generator().manual_seed(seed)))
        except RuntimeError:
            outcomes.append(None)
    theirs, ours = outcomes
    assert (ours is None) == (theirs is None)
    if ours is None:
        return
    assert ours.dtype == tinytorch.int64 and tuple(ours.shape) == tuple(theirs.shape) and not ours.requires_grad
    rows, drawn = np.atleast_2d(weights), np.atleast_2d(ours.numpy())
    for w, row in zip(rows, drawn):
        if replacement:
            assert (w[row] > 0).all()
        else:
            positive = int((w > 0).sum())
            assert (w[row[:positive]] > 0).all() and (w[row[positive:]] == 0).all()
            assert len(set(row.tolist())) == len(row)


@pytest.mark.torch
def test_default_dtype_switch_matches_torch():
    def switched(m):
        m.set_default_dtype(m.float64)
        try:
            return (m.tensor([1.0]).dtype, m.zeros(2).dtype, m.randn(2).dtype, m.arange(0.0, 1.0, 0.5).dtype,
                    m.tensor([1]).dtype, (m.tensor([1]) / 2).dtype, m.get_default_dtype())
        finally:
            m.set_default_dtype(m.float32)
    run_both(switched)


def test_from_numpy_shares_memory_and_tensor_copies():
    a = np.arange(3.0)
    shared, copied = tinytorch.from_numpy(a), tinytorch.tensor(a)
    a[0] = 10.0
    assert shared[0].item() == 10.0 and copied[0].item() == 0.0
    assert shared.dtype == tinytorch.float64
