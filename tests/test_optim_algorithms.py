"""RMSprop, Adagrad, Adamax, NAdam, RAdam and LBFGS against torch.optim: the same model, data and
steps give the same parameters (to float rounding), the same state under torch's keys, and a
state_dict that resumes exactly. The model, data and training loop are test_optim.py's."""
import numpy as np
import pytest
import torch

import tinytorch
from devices import on_devices
from harness import assert_same
from optim_twins import TOLERANCE, batches, mlp, train, twin_models

N_STEPS = 8  # RAdam's rectified branch starts at step 6 (beta2 = 0.999): both branches run

OPTIMIZER_CASES = [
    ("RMSprop", dict(lr=1e-2)),
    ("RMSprop", dict(lr=1e-2, alpha=0.9, eps=1e-6, weight_decay=0.1)),
    ("RMSprop", dict(lr=1e-2, alpha=0.9, momentum=0.9, centered=True)),
    ("RMSprop", dict(lr=1e-2, alpha=0.4, centered=True, maximize=True)),  # 1 - alpha >= 0.5: lerp's other branch
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.3, eps=1e-8)),
    ("Adagrad", dict(lr=0.1, maximize=True)),
    ("Adamax", dict(lr=1e-2)),
    ("Adamax", dict(lr=1e-2, betas=(0.4, 0.99), weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=1e-2)),
    ("NAdam", dict(lr=1e-2, betas=(0.8, 0.99), weight_decay=0.1, momentum_decay=0.1)),
    ("NAdam", dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=1e-2)),
    ("RAdam", dict(lr=1e-2, betas=(0.5, 0.9), weight_decay=0.1)),
    ("RAdam", dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True, maximize=True, eps=1e-6)),
]
case_ids = [f"{name}-{'-'.join(kw)}" for name, kw in OPTIMIZER_CASES]


@pytest.mark.torch
@on_devices
@pytest.mark.parametrize("dtype_name", ["float64", "float32"])
@pytest.mark.parametrize("name,kw", OPTIMIZER_CASES, ids=case_ids)
def test_optimizer_matches_torch_step_by_step(name, kw, dtype_name, device):
    ref, ours = twin_models(dtype_name, device)
    ref_opt = getattr(torch.optim, name)(ref.parameters(), foreach=False, **kw)
    our_opt = getattr(tinytorch.optim, name)(ours.parameters(), **kw)
    for step, batch in enumerate(batches(N_STEPS, dtype_name)):
        train(torch, ref, ref_opt, [batch])
        train(tinytorch, ours, our_opt, [batch], device=device)
        assert_same(ours.state_dict(), ref.state_dict(), f"parameters after step {step + 1}", device=device,
                    **TOLERANCE[dtype_name])
    if dtype_name == "float64":  # (float32 normalised moments such as g / sqrt(v) magnify rounding)
        assert_same(state_tensors(our_opt), state_tensors(ref_opt), "optimizer state", device=device,
                    **TOLERANCE[dtype_name])


def as_arrays(value):
    """A torch state_dict with NumPy arrays for its tensors (as tinytorch.load gives them back)."""
    if isinstance(value, torch.Tensor):
        return value.numpy()
    if isinstance(value, dict):
        return {k: as_arrays(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_arrays(v) for v in value]
    return value


def state_tensors(optimizer):
    """{parameter index: {key: value}} of a state_dict, the keys in sorted order."""
    return {i: {k: s[k] for k in sorted(s)} for i, s in optimizer.state_dict()["state"].items()}


@pytest.mark.torch
@pytest.mark.parametrize("name,kw", [case for case in OPTIMIZER_CASES if case[0] != "Adagrad"][::2], ids=str)
def test_a_torch_state_dict_loads_and_training_continues_alike(name, kw):
    """torch's optimizer state (its keys, its float32 step tensors) loads into tinytorch's optimizer,
    which then steps as a torch optimizer that loaded it does."""
    ref, ours = twin_models("float64")
    data = batches(6, "float64")
    ref_opt = getattr(torch.optim, name)(ref.parameters(), foreach=False, **kw)
    train(torch, ref, ref_opt, data[:3])
    saved = ref_opt.state_dict()
    ref_opt = getattr(torch.optim, name)(ref.parameters(), foreach=False, **kw)
    ref_opt.load_state_dict(saved)
    ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    our_opt = getattr(tinytorch.optim, name)(ours.parameters(), **kw)
    our_opt.load_state_dict(as_arrays(saved))
    train(torch, ref, ref_opt, data[3:])
    train(tinytorch, ours, our_opt, data[3:])
    assert_same(ours.state_dict(), ref.state_dict(), "parameters", **TOLERANCE["float64"])


@pytest.mark.parametrize("name,kw", [case for case in OPTIMIZER_CASES if case[0] != "NAdam"][::2], ids=str)
def test_state_dict_round_trip_resumes_exactly(name, kw):
    """(NAdam resumes with its float32 mu_product cast to the parameters' dtype, as torch's does.)"""
    def fresh():
        tinytorch.manual_seed(3)
        return mlp(tinytorch, tinytorch.float64)
    data = batches(6, "float64")
    straight = fresh()
    train(tinytorch, straight, getattr(tinytorch.optim, name)(straight.parameters(), **kw), data)
    first = fresh()
    opt = getattr(tinytorch.optim, name)(first.parameters(), **kw)
    train(tinytorch, first, opt, data[:3])
    resumed = fresh()
    resumed.load_state_dict(first.state_dict())
    opt2 = getattr(tinytorch.optim, name)(resumed.parameters(), lr=123.0)
    opt2.load_state_dict(opt.state_dict())
    assert opt2.param_groups[0]["lr"] == kw["lr"]
    train(tinytorch, first, opt, data[3:])  # the old optimizer keeps going: it must not share state
    train(tinytorch, resumed, opt2, data[3:])
    assert_same(resumed.state_dict(), straight.state_dict(), "resumed", atol=0, rtol=0)
    assert_same(first.state_dict(), straight.state_dict(), "continued", atol=0, rtol=0)


def test_adagrad_creates_its_state_with_the_optimizer_as_torch():
    w = tinytorch.nn.Parameter(tinytorch.zeros(3))
    state = tinytorch.optim.Adagrad([w], initial_accumulator_value=0.5).state_dict()["state"][0]
    assert float(state["step"]) == 0.0 and state["step"].dtype == tinytorch.float32
    assert state["sum"].tolist() == [0.5, 0.5, 0.5]


@pytest.mark.parametrize("make,message", [
    (lambda ps: tinytorch.optim.RMSprop(ps, alpha=-0.1), "Invalid alpha value"),
    (lambda ps: tinytorch.optim.RMSprop(ps, momentum=-1), "Invalid momentum value"),
    (lambda ps: tinytorch.optim.Adagrad(ps, lr_decay=-1), "Invalid lr_decay value"),
    (lambda ps: tinytorch.optim.Adagrad(ps, initial_accumulator_value=-1), "initial_accumulator_value"),
    (lambda ps: tinytorch.optim.Adamax(ps, betas=(0.9, 1.0)), "beta parameter at index 1"),
    (lambda ps: tinytorch.optim.NAdam(ps, momentum_decay=-1), "Invalid momentum_decay value"),
    (lambda ps: tinytorch.optim.RAdam(ps, eps=-1), "Invalid epsilon value"),
    (lambda ps: tinytorch.optim.LBFGS([{"params": ps[:1]}, {"params": ps[1:]}]), "parameter groups"),
])
def test_bad_arguments_are_refused(make, message):
    params = list(mlp(tinytorch, tinytorch.float32).parameters())
    with pytest.raises(ValueError, match=message):
        make(params)


# ---- LBFGS: step(closure) -------------------------------------------------------------------

LBFGS_CASES = [
    dict(),
    dict(lr=0.5, max_iter=5, history_size=2),  # the history fills up and drops its oldest pairs
    dict(line_search_fn="strong_wolfe"),
    dict(lr=1, max_iter=7, max_eval=9, history_size=3, line_search_fn="strong_wolfe"),
    dict(tolerance_change=1e-3, tolerance_grad=1e-3),  # stops early
]


def lbfgs_run(m, model, opt, data, n_steps=3):
    """LBFGS steps of full-batch MSE regression: the losses step() returned, and all the closure saw."""
    x, y = (m.tensor(np.concatenate(a)) for a in zip(*data))
    seen = []

    def closure():
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        seen.append(loss.item())
        loss.backward()
        return loss
    returned = [opt.step(closure).item() for _ in range(n_steps)]
    return returned, seen


@pytest.mark.torch
@pytest.mark.parametrize("dtype_name", ["float64", "float32"])
@pytest.mark.parametrize("kw", LBFGS_CASES, ids=str)
def test_lbfgs_matches_torch(kw, dtype_name):
    ref, ours = twin_models(dtype_name)
    data = batches(4, dtype_name)
    ref_opt, our_opt = torch.optim.LBFGS(ref.parameters(), **kw), tinytorch.optim.LBFGS(ours.parameters(), **kw)
    n_steps = 2 if dtype_name == "float64" else 1  # float32: the directions amplify rounding, step after step
    ref_returned, ref_seen = lbfgs_run(torch, ref, ref_opt, data, n_steps)
    our_returned, our_seen = lbfgs_run(tinytorch, ours, our_opt, data, n_steps)
    assert len(our_seen) == len(ref_seen) > 3, (our_seen, ref_seen)
    ours_state, ref_state = our_opt.state_dict()["state"][0], ref_opt.state_dict()["state"][0]
    assert sorted(ours_state) == sorted(ref_state)
    for key in ("func_evals", "n_iter"):
        assert ours_state[key] == ref_state[key], key
    assert len(ours_state["old_dirs"]) == len(ref_state["old_dirs"])
    if dtype_name == "float32":
        np.testing.assert_allclose(our_seen, ref_seen, rtol=1e-4)
        return
    tolerance = dict(atol=1e-10, rtol=1e-8)
    np.testing.assert_allclose(our_seen, ref_seen, **tolerance)
    np.testing.assert_allclose(our_returned, ref_returned, **tolerance)
    assert_same(ours.state_dict(), ref.state_dict(), "parameters", **tolerance)
    assert_same(ours_state["d"], ref_state["d"], "direction", **tolerance)
    assert_same(ours_state["ro"], ref_state["ro"], "ro", **tolerance)


def test_lbfgs_state_dict_round_trip_resumes_exactly():
    def fresh():
        tinytorch.manual_seed(3)
        return mlp(tinytorch, tinytorch.float64)
    data = batches(4, "float64")
    kw = dict(max_iter=4, history_size=3, line_search_fn="strong_wolfe")
    straight = fresh()
    lbfgs_run(tinytorch, straight, tinytorch.optim.LBFGS(straight.parameters(), **kw), data)
    first = fresh()
    opt = tinytorch.optim.LBFGS(first.parameters(), **kw)
    lbfgs_run(tinytorch, first, opt, data, n_steps=1)
    resumed = fresh()
    resumed.load_state_dict(first.state_dict())
    opt2 = tinytorch.optim.LBFGS(resumed.parameters(), **kw)
    opt2.load_state_dict(opt.state_dict())
    lbfgs_run(tinytorch, resumed, opt2, data, n_steps=2)
    assert_same(resumed.state_dict(), straight.state_dict(), "resumed", atol=0, rtol=0)
