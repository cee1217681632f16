"""Hooks, as torch has them: Tensor.register_hook, Tensor.register_post_accumulate_grad_hook,
Module.register_forward_pre_hook and register_forward_hook, each removable through its handle
(hooks.py). Each scenario `fn(m)` runs with m = torch and m = tinytorch and must give the same
results, the hooks' own records included."""
import pytest
import torch

import tinytorch
from harness import Scenarios, run_both

scenario = Scenarios()


def leaf(m, values=(1.0, 2.0, 3.0)):
    return m.tensor(list(values), requires_grad=True)


# ---- tensor hooks -------------------------------------------------------------------------------
@scenario
def a_leaf_hook_sees_the_whole_gradient_once_and_may_replace_it(m):
    x = leaf(m)
    seen = []
    x.register_hook(lambda g: seen.append(g.clone()) or g * 10)
    (x * x + x.exp() + 2 * x).sum().backward()
    return seen, x.grad


@scenario
def a_non_leaf_hook_changes_what_flows_upstream(m):
    x = leaf(m)
    y = x * 3
    seen = []
    y.register_hook(lambda g: seen.append(g.clone()) or -g)
    (y * y).sum().backward()
    return seen, x.grad


@scenario
def retained_gradient_is_taken_after_the_hooks(m):
    x = leaf(m)
    y = x.sin()
    y.retain_grad()
    y.register_hook(lambda g: g * 2)
    y.sum().backward()
    return y.grad, x.grad


@scenario
def hooks_run_in_registration_order_and_each_sees_the_previous_result(m):
    x = leaf(m)
    y = x * 1
    log = []
    y.register_hook(lambda g: log.append(("first", g.clone())) or g + 1)
    y.register_hook(lambda g: log.append(("second", g.clone())) or None)
    y.sum().backward()
    return log, x.grad


@scenario
def a_removed_hook_no_longer_runs(m):
    x = leaf(m)
    calls = []
    handle = x.register_hook(lambda g: calls.append(1))
    x.sum().backward()
    handle.remove()
    x.sum().backward()
    with x.register_hook(lambda g: calls.append(2)):
        x.sum().backward()
    x.sum().backward()
    return calls, x.grad


@scenario
def post_accumulate_hooks_see_the_accumulated_gradient(m):
    x = leaf(m)
    seen = []
    x.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.clone()))
    (x * x).sum().backward()
    (x * 3).sum().backward()
    return seen


@scenario
def post_accumulate_hooks_fire_once_per_parameter_and_last_layer_first(m):
    m.manual_seed(0)
    net = m.nn.Sequential(m.nn.Linear(3, 4), m.nn.Tanh(), m.nn.Linear(4, 2))
    order = []
    for name, p in net.named_parameters():
        p.register_post_accumulate_grad_hook(lambda p, name=name: order.append(name.split(".")[0]))
    net(m.ones(5, 3)).sum().backward()
    return order


@scenario
def a_parameter_used_twice_gets_one_post_accumulate_call(m):
    w = m.nn.Parameter(m.ones(2, 2))
    calls = []
    w.register_post_accumulate_grad_hook(lambda p: calls.append(p.grad.clone()))
    x = m.ones(1, 2)
    ((x @ w) @ w).sum().backward()
    return calls


@scenario
def leaf_hook_is_applied_to_the_root_of_backward(m):
    x = leaf(m)
    x.register_hook(lambda g: g * 5)
    x.backward(m.ones(3))
    return x.grad


# ---- module hooks -------------------------------------------------------------------------------
def _linear(m):
    layer = m.nn.Linear(2, 2)
    with m.no_grad():
        layer.weight.copy_(m.tensor([[0.5, -1.0], [2.0, 0.25]]))
        layer.bias.copy_(m.tensor([0.1, -0.2]))
    return layer


@scenario
def forward_pre_hook_replaces_the_arguments(m):
    layer = _linear(m)
    layer.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
    layer.register_forward_pre_hook(lambda mod, args: args[0] + 1)  # one value: wrapped in a tuple
    return layer(m.ones(1, 2)), layer.weight


@scenario
def forward_hook_sees_inputs_and_replaces_the_output(m):
    layer = _linear(m)
    seen = []
    layer.register_forward_hook(lambda mod, args, out: seen.append((args[0].clone(), out.clone())) or out * 0)
    return layer(m.ones(1, 2)), seen


@scenario
def hooks_with_kwargs_and_prepend_run_in_torchs_order(m):
    class Scale(m.nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    mod = Scale()
    log = []
    mod.register_forward_pre_hook(lambda mod, args, kwargs: log.append("pre") or (args, {"factor": 3.0}),
                                  with_kwargs=True)
    mod.register_forward_pre_hook(lambda mod, args: log.append("pre first") or None, prepend=True)
    mod.register_forward_hook(lambda mod, args, kwargs, out: log.append(("post", kwargs["factor"])) or out + 1,
                              with_kwargs=True)
    return mod(m.ones(2)), log


@scenario
def removed_module_hooks_stop(m):
    layer = _linear(m)
    handle = layer.register_forward_hook(lambda mod, args, out: out * 0)
    first = layer(m.ones(1, 2))
    handle.remove()
    return first, layer(m.ones(1, 2))


@scenario
def always_call_hooks_run_when_forward_raises(m):
    class Fails(m.nn.Module):
        def forward(self, x):
            raise ValueError("bad input")

    mod = Fails()
    log = []
    mod.register_forward_hook(lambda mod, args, out: log.append(("always", out)), always_call=True)
    mod.register_forward_hook(lambda mod, args, out: log.append("normal"))
    try:
        mod(m.ones(1))
    except ValueError as e:
        log.append(str(e))
    return log


@pytest.mark.torch
@scenario.each
def test_scenario_matches_torch(fn):
    run_both(fn)


def test_post_accumulate_hook_order_puts_the_last_layer_first():
    """What the torch comparison above establishes, stated: a data-parallel bucket for the last
    layer can start while the first layer's gradients are still being computed."""
    assert post_accumulate_hooks_fire_once_per_parameter_and_last_layer_first(tinytorch) == ["2", "2", "0", "0"]


@pytest.mark.parametrize("register", [lambda t: t.register_hook(lambda g: g),
                                      lambda t: t.register_post_accumulate_grad_hook(lambda p: None)],
                         ids=["register_hook", "register_post_accumulate_grad_hook"])
def test_hooks_refuse_tensors_that_need_no_gradient(register):
    for m in (torch, tinytorch):
        with pytest.raises(RuntimeError, match="doesn't require gradient"):
            register(m.ones(2))


def test_post_accumulate_hooks_refuse_non_leaves():
    for m in (torch, tinytorch):
        with pytest.raises(RuntimeError, match="non-leaf"):
            (leaf(m) * 2).register_post_accumulate_grad_hook(lambda p: None)


def test_post_accumulate_hook_gets_a_gradient_of_its_own():
    """The hook may change .grad in place (a data-parallel all-reduce does) without touching another
    leaf's gradient, although add's backward hands both leaves the same array."""
    a, b = leaf(tinytorch), leaf(tinytorch)
    a.register_post_accumulate_grad_hook(lambda p: p.grad.mul_(0))
    (a + b).sum().backward()
    assert b.grad.tolist() == [1.0, 1.0, 1.0] and a.grad.tolist() == [0.0, 0.0, 0.0]
