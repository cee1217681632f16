"""Optimizers against torch.optim: same model, same data, same steps -> same parameters."""
import numpy as np
import pytest
import torch

import tinytorch
import tinytorch.nn as nn
from devices import on_devices
from harness import assert_same
from optim_twins import TOLERANCE, batches, mlp, train, twin_models
from tinytorch.nn.utils import clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters


@pytest.mark.torch
@on_devices
@pytest.mark.parametrize("dtype_name", ["float64", "float32"])
def test_adamw_with_clipping_matches_torch(dtype_name, device):
    ref, ours = twin_models(dtype_name, device)
    data = batches(5, dtype_name)
    kw = dict(lr=1e-2, betas=(0.9, 0.95), weight_decay=0.1, eps=1e-8)
    ref_norms = train(torch, ref, torch.optim.AdamW(ref.parameters(), foreach=False, **kw), data, max_norm=0.5)
    our_norms = train(tinytorch, ours, tinytorch.optim.AdamW(ours.parameters(), **kw), data, max_norm=0.5,
                      device=device)
    assert min(ref_norms) > 0.5, "the test must exercise clipping"
    np.testing.assert_allclose(our_norms, ref_norms, **TOLERANCE[dtype_name])
    assert_same(ours.state_dict(), ref.state_dict(), "parameters", device=device, **TOLERANCE[dtype_name])


OPTIMIZER_CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.8, dampening=0.3, weight_decay=0.05)),
    ("SGD", dict(lr=0.1, momentum=0.9, maximize=True)),
    ("Adam", dict(lr=1e-2)),
    ("Adam", dict(lr=1e-2, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=1e-2, maximize=True, eps=1e-6)),
    ("AdamW", dict(lr=1e-2, amsgrad=True)),
    ("AdamW", dict(lr=1e-2, betas=(0.5, 0.9), weight_decay=0.3)),  # 1 - beta1 = 0.5: lerp's other branch
]


@pytest.mark.torch
@on_devices
@pytest.mark.parametrize("dtype_name", ["float64", "float32"])
@pytest.mark.parametrize("name,kw", OPTIMIZER_CASES)
def test_optimizer_matches_torch(name, kw, dtype_name, device):
    ref, ours = twin_models(dtype_name, device)
    data = batches(5, dtype_name)
    train(torch, ref, getattr(torch.optim, name)(ref.parameters(), foreach=False, **kw), data)
    train(tinytorch, ours, getattr(tinytorch.optim, name)(ours.parameters(), **kw), data, device=device)
    assert_same(ours.state_dict(), ref.state_dict(), "parameters", device=device, **TOLERANCE[dtype_name])


@pytest.mark.torch
@pytest.mark.parametrize("dtype_name", ["float64", "float32"])
@pytest.mark.parametrize("name,kw", [case for case in OPTIMIZER_CASES if case[0] != "SGD"])
@pytest.mark.parametrize("kernels", ["numpy", "numba"])
def test_adam_update_kernels_match_torch(name, kw, dtype_name, kernels, kernels_used):
    """Adam and AdamW update through the kernel adam_update_ (with kernels="numba" one Numba pass for
    float32); amsgrad runs the NumPy halves around its maximum."""
    import tinytorch.backends as backends
    ref, ours = twin_models(dtype_name)
    data = batches(5, dtype_name)
    train(torch, ref, getattr(torch.optim, name)(ref.parameters(), foreach=False, **kw), data)
    with backends.using(kernels=kernels):
        train(tinytorch, ours, getattr(tinytorch.optim, name)(ours.parameters(), **kw), data)
    numba_kernel = kernels == "numba" and dtype_name == "float32"
    expected = set() if kw.get("amsgrad") else {f"tinytorch.kernels.{'cpu' if numba_kernel else 'numpy'}.adam"}
    assert kernels_used.get("adam_update_", set()) == expected
    assert_same(ours.state_dict(), ref.state_dict(), "parameters", **TOLERANCE[dtype_name])


def test_adam_numba_update_refuses_mismatched_arrays():
    from tinytorch.kernels.cpu.adam import adam_update_
    p = np.ones(4, np.float32)
    with pytest.raises(ValueError, match=r"adam_update_.*one shape and dtype"):
        adam_update_(p, np.ones(5, np.float32), p.copy(), p.copy(), 1e-3, 0.9, 0.999, 1e-8, 0.0, True, False, 1)
    with pytest.raises(ValueError, match=r"adam_update_.*C-contiguous"):
        q = np.ones((4, 2), np.float32)[:, 0]
        adam_update_(q, q.copy(), q.copy(), q.copy(), 1e-3, 0.9, 0.999, 1e-8, 0.0, True, False, 1)


def no_decay_groups(m, model, **decayed):
    """nanoGPT's configure_optimizers split: weight decay on matrices only, another lr for the rest."""
    params = list(model.parameters())
    return [{"params": [p for p in params if p.dim() >= 2], **decayed},
            {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0, "lr": 3e-3}]


@pytest.mark.torch
def test_param_groups_with_their_own_lr_and_decay_match_torch():
    ref, ours = twin_models("float64")
    data = batches(5, "float64")
    ref_opt = torch.optim.AdamW(no_decay_groups(torch, ref, weight_decay=0.1), lr=1e-2, foreach=False)
    our_opt = tinytorch.optim.AdamW(no_decay_groups(tinytorch, ours, weight_decay=0.1), lr=1e-2)
    assert [g["lr"] for g in our_opt.param_groups] == [1e-2, 3e-3]
    assert [g["weight_decay"] for g in our_opt.param_groups] == [0.1, 0.0]
    train(torch, ref, ref_opt, data)
    train(tinytorch, ours, our_opt, data)
    assert_same(ours.state_dict(), ref.state_dict(), "parameters", **TOLERANCE["float64"])


@pytest.mark.torch
def test_state_dict_has_torch_layout():
    ref, ours = twin_models("float64")
    data = batches(2, "float64")
    ref_opt = torch.optim.AdamW(no_decay_groups(torch, ref), lr=1e-2, foreach=False)
    our_opt = tinytorch.optim.AdamW(no_decay_groups(tinytorch, ours), lr=1e-2)
    train(torch, ref, ref_opt, data)
    train(tinytorch, ours, our_opt, data)
    theirs, mine = ref_opt.state_dict(), our_opt.state_dict()
    assert [g["params"] for g in mine["param_groups"]] == [g["params"] for g in theirs["param_groups"]]
    assert sorted(mine["state"]) == sorted(theirs["state"])
    for i, state in theirs["state"].items():
        assert sorted(mine["state"][i]) == sorted(state)
        assert float(mine["state"][i]["step"]) == float(state["step"]) == 2.0
        np.testing.assert_allclose(mine["state"][i]["exp_avg_sq"].numpy(), state["exp_avg_sq"].numpy(), rtol=1e-10)
    for g_mine, g_theirs in zip(mine["param_groups"], theirs["param_groups"]):
        for key in ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"):
            assert g_mine[key] == g_theirs[key], key


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1, momentum=0.9)), ("AdamW", dict(lr=1e-2, amsgrad=True))])
def test_state_dict_round_trip_resumes_exactly(name, kw):
    def fresh():
        tinytorch.manual_seed(3)
        return mlp(tinytorch, tinytorch.float64)
    data = batches(6, "float64")
    straight = fresh()
    opt = getattr(tinytorch.optim, name)(straight.parameters(), **kw)
    train(tinytorch, straight, opt, data)

    first = fresh()
    opt = getattr(tinytorch.optim, name)(first.parameters(), **kw)
    train(tinytorch, first, opt, data[:3])
    saved_model, saved_opt = first.state_dict(), opt.state_dict()
    resumed = fresh()
    resumed.load_state_dict(saved_model)
    opt2 = getattr(tinytorch.optim, name)(resumed.parameters(), lr=123.0)
    opt2.load_state_dict(saved_opt)
    assert opt2.param_groups[0]["lr"] == kw["lr"]
    train(tinytorch, first, opt, data[3:])  # the old optimizer keeps going: it must not share state
    train(tinytorch, resumed, opt2, data[3:])
    assert_same(resumed.state_dict(), straight.state_dict(), "resumed", atol=0, rtol=0)
    assert_same(first.state_dict(), straight.state_dict(), "continued", atol=0, rtol=0)


def test_load_state_dict_rejects_a_different_layout():
    model = mlp(tinytorch, tinytorch.float32)
    opt = tinytorch.optim.Adam(model.parameters())
    other = tinytorch.optim.Adam(no_decay_groups(tinytorch, model))
    with pytest.raises(ValueError, match="parameter groups"):
        opt.load_state_dict(other.state_dict())
    single = tinytorch.optim.Adam(list(model.parameters())[:2])
    with pytest.raises(ValueError, match="group"):
        opt.load_state_dict(single.state_dict())


def test_updates_are_in_place():
    model = mlp(tinytorch, tinytorch.float32)
    opt = tinytorch.optim.AdamW(model.parameters(), lr=1e-2)
    arrays = [p._data for p in model.parameters()]
    train(tinytorch, model, opt, batches(1, "float32"))
    state_arrays = [opt.state[p]["exp_avg"]._data for p in model.parameters()]
    before = [a.copy() for a in arrays]
    train(tinytorch, model, opt, batches(2, "float32")[1:])
    assert all(p._data is a for p, a in zip(model.parameters(), arrays))
    assert all(opt.state[p]["exp_avg"]._data is a for p, a in zip(model.parameters(), state_arrays))
    assert any(not np.array_equal(a, b) for a, b in zip(arrays, before))


def test_zero_grad_and_skipping_parameters_without_grad():
    w = nn.Parameter(tinytorch.ones(3))
    frozen = nn.Parameter(tinytorch.ones(3))
    opt = tinytorch.optim.SGD([w, frozen], lr=0.5)
    (w * tinytorch.tensor([1.0, 2.0, 3.0])).sum().backward()
    opt.step()
    np.testing.assert_array_equal(w.numpy(force=True), [0.5, 0.0, -0.5])
    np.testing.assert_array_equal(frozen.numpy(force=True), [1.0, 1.0, 1.0])
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(w.grad.numpy(), [0.0, 0.0, 0.0])
    opt.zero_grad()
    assert w.grad is None


def test_step_calls_the_closure_with_grad_enabled():
    w = nn.Parameter(tinytorch.tensor([2.0]))
    opt = tinytorch.optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w ** 2).sum()
        loss.backward()
        return loss

    with tinytorch.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 4.0 and w.item() == 1.0


@pytest.mark.parametrize("make,message", [
    (lambda ps: tinytorch.optim.SGD([], lr=0.1), "empty parameter list"),
    (lambda ps: tinytorch.optim.SGD(ps, lr=-1.0), "Invalid learning rate"),
    (lambda ps: tinytorch.optim.SGD(ps, lr=0.1, nesterov=True), "Nesterov"),
    (lambda ps: tinytorch.optim.Adam(ps, betas=(1.0, 0.9)), "beta parameter at index 0"),
    (lambda ps: tinytorch.optim.AdamW(ps, eps=-1e-8), "epsilon"),
    (lambda ps: tinytorch.optim.Adam([{"params": ps}, {"params": ps[:1]}]), "more than one parameter group"),
    (lambda ps: tinytorch.optim.Adam(ps + ps[:1]), "duplicate"),
])
def test_bad_arguments_are_refused(make, message):
    params = list(mlp(tinytorch, tinytorch.float32).parameters())
    with pytest.raises(ValueError, match=message):
        make(params)


def test_a_set_of_parameters_is_refused():
    with pytest.raises(TypeError, match="ordered"):
        tinytorch.optim.SGD([{"params": set(mlp(tinytorch, tinytorch.float32).parameters())}], lr=0.1)


@pytest.mark.torch
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.1, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    rng = np.random.default_rng(5)
    grads = [rng.standard_normal(s) for s in [(3, 4), (4,), (2, 2, 2)]]
    results = {}
    for m in (torch, tinytorch):
        params = [m.zeros(g.shape, dtype=m.float64, requires_grad=True) for g in grads]
        for p, g in zip(params, grads):
            p.grad = m.tensor(g)
        total = m.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
        results[m.__name__] = (float(total), [p.grad.numpy() for p in params])
    assert results["tinytorch"][0] == pytest.approx(results["torch"][0], rel=1e-12)
    for a, b in zip(results["tinytorch"][1], results["torch"][1]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_clip_grad_norm_edge_cases():
    p = nn.Parameter(tinytorch.zeros(2))
    assert clip_grad_norm_([p], 1.0).item() == 0.0  # no gradients at all
    p.grad = tinytorch.tensor([float("nan"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(p, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_and_vector_round_trip():
    a, b = nn.Parameter(tinytorch.zeros(2, 2)), nn.Parameter(tinytorch.zeros(3))
    a.grad = tinytorch.tensor([[-3.0, 0.5], [2.0, -0.25]])
    clip_grad_value_([a, b], 1.0)
    np.testing.assert_array_equal(a.grad.numpy(), [[-1.0, 0.5], [1.0, -0.25]])
    vec = tinytorch.arange(7, dtype=tinytorch.float32)
    vector_to_parameters(vec, [a, b])
    np.testing.assert_array_equal(a.numpy(force=True), [[0, 1], [2, 3]])
    np.testing.assert_array_equal(parameters_to_vector([a, b]).numpy(force=True), np.arange(7))
    with pytest.raises(ValueError, match="7 elements"):
        vector_to_parameters(tinytorch.zeros(6), [a, b])


@pytest.mark.parametrize("name, options", [
    ("SGD", ["differentiable"]), ("Adagrad", ["differentiable"]), ("Adam", ["capturable", "differentiable"]),
    ("AdamW", ["capturable", "differentiable"]), ("Adamax", ["capturable", "differentiable"]),
    ("NAdam", ["capturable", "differentiable"]), ("RAdam", ["capturable", "differentiable"]),
    ("RMSprop", ["capturable", "differentiable"])])
def test_options_without_a_tinytorch_counterpart_are_refused_by_name(name, options):
    """torch's capturable (CUDA graphs) and differentiable (autograd through the step) raise, naming the
    option, instead of running the plain update; left off, the optimizer builds."""
    make = getattr(tinytorch.optim, name)
    params = [tinytorch.nn.Parameter(tinytorch.ones(2))]
    for option in options:
        with pytest.raises(NotImplementedError, match=f"^{name}: {option}=True is not supported by tinytorch$"):
            make(params, lr=0.1, **{option: True})
    if len(options) == 2:
        with pytest.raises(NotImplementedError, match="capturable=True and differentiable=True are not supported"):
            make(params, lr=0.1, capturable=True, differentiable=True)
    make(params, lr=0.1, **{option: False for option in options})
