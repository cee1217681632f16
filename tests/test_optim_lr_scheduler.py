"""Learning-rate schedulers: the same float sequence as torch.optim.lr_scheduler."""
import math

import pytest
import torch

import tinytorch
from tinytorch.optim.lr_scheduler import CosineWithWarmupLR, get_cosine_with_warmup_lr


def optimizer(m, lrs=(0.1, 0.03)):
    """An SGD optimizer with one parameter group per lr."""
    return m.optim.SGD([{"params": [m.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs], lr=lrs[0])


def lr_sequence(m, make_scheduler, steps):
    opt = optimizer(m)
    scheduler = make_scheduler(m, opt)
    seq = [scheduler.get_last_lr()]
    for _ in range(steps):
        opt.step()
        scheduler.step()
        seq.append(scheduler.get_last_lr())
        assert seq[-1] == [g["lr"] for g in opt.param_groups]
    return seq


SCHEDULERS = {
    "lambda": lambda m, opt: m.optim.lr_scheduler.LambdaLR(opt, lambda e: 0.95 ** e),
    "lambda_per_group": lambda m, opt: m.optim.lr_scheduler.LambdaLR(opt, [lambda e: 1 / (e + 1), lambda e: e % 3]),
    "step": lambda m, opt: m.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.3),
    "cosine": lambda m, opt: m.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=7),
    "cosine_eta_min": lambda m, opt: m.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=5, eta_min=0.01),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", SCHEDULERS)
def test_sequence_equals_torch_exactly(name):
    steps = 33  # past several restarts of the cosine wave
    assert lr_sequence(tinytorch, SCHEDULERS[name], steps) == lr_sequence(torch, SCHEDULERS[name], steps)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["step", "cosine_eta_min"])
def test_resuming_from_state_dict_continues_the_sequence(name):
    expected = lr_sequence(torch, SCHEDULERS[name], 12)
    opt = optimizer(tinytorch)
    scheduler = SCHEDULERS[name](tinytorch, opt)
    for _ in range(5):
        scheduler.step()
    saved_sched, saved_opt = scheduler.state_dict(), opt.state_dict()
    assert "optimizer" not in saved_sched and saved_sched["last_epoch"] == 5
    opt2 = optimizer(tinytorch)
    opt2.load_state_dict(saved_opt)
    resumed = SCHEDULERS[name](tinytorch, opt2)
    resumed.load_state_dict(saved_sched)
    seq = [resumed.get_last_lr()]
    for _ in range(7):
        resumed.step()
        seq.append(resumed.get_last_lr())
    assert seq == expected[5:]


def test_lambda_state_dict_drops_plain_functions():
    opt = optimizer(tinytorch)
    scheduler = tinytorch.optim.lr_scheduler.LambdaLR(opt, lambda e: 1.0)
    assert scheduler.state_dict()["lr_lambdas"] == [None, None]
    scheduler.load_state_dict(scheduler.state_dict())
    scheduler.step()
    assert scheduler.get_last_lr() == [0.1, 0.03]


def test_resuming_without_initial_lr_is_an_error():
    with pytest.raises(KeyError, match="initial_lr"):
        tinytorch.optim.lr_scheduler.StepLR(optimizer(tinytorch), step_size=2, last_epoch=4)


def test_cosine_with_warmup_shape():
    max_lr, min_lr, warmup, total = 6e-4, 6e-5, 10, 50
    lrs = [get_cosine_with_warmup_lr(s, max_lr, min_lr, warmup, total) for s in range(total + 5)]
    assert lrs[0] == pytest.approx(max_lr / warmup)
    assert lrs[warmup - 1] == pytest.approx(max_lr) and lrs[warmup] == pytest.approx(max_lr)
    assert all(a < b for a, b in zip(lrs[:warmup - 1], lrs[1:warmup]))  # rising linearly
    assert all(b < a for a, b in zip(lrs[warmup:total], lrs[warmup + 1:total + 1]))  # then falling
    assert lrs[(warmup + total) // 2] == pytest.approx((max_lr + min_lr) / 2)
    assert lrs[total] == pytest.approx(min_lr) and lrs[-1] == min_lr
    with pytest.raises(ValueError, match="warmup_steps < max_steps"):
        get_cosine_with_warmup_lr(0, max_lr, min_lr, 10, 10)


def test_cosine_with_warmup_scheduler_sets_each_group():
    opt = optimizer(tinytorch, lrs=(6e-4, 1e-3))
    scheduler = CosineWithWarmupLR(opt, warmup_steps=4, max_steps=20, min_lr_ratio=0.1)
    for step in range(25):
        for group, base in zip(opt.param_groups, (6e-4, 1e-3)):
            assert group["lr"] == get_cosine_with_warmup_lr(step, base, base * 0.1, 4, 20)
        opt.step()
        scheduler.step()
    assert scheduler.get_last_lr() == pytest.approx([6e-5, 1e-4])
    assert math.isclose(scheduler.base_lrs[1], 1e-3)
