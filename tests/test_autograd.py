"""tinytorch.autograd's semantics. Each scenario `fn(m)` runs with m = torch and m = tinytorch and
must give the same results (harness.run_both): reused nodes, accumulation, freed graphs, grad
modes, detach, retain_grad, autograd.grad. Then what torch only shows by raising: freed graphs,
invalid backward calls; and deep graphs."""
import math
import warnings

import pytest
import torch

import tinytorch
from harness import Scenarios, run_both

V = [0.5, -1.0, 2.0]


scenario = Scenarios()


def leaf(m, values=V, dtype=None):
    return m.tensor(values, dtype=dtype or m.float64, requires_grad=True)


# ---- graphs compared with torch -----------------------------------------------------------------
@scenario
def diamond_graph_sums_both_paths(m):
    x = leaf(m)
    y = x * 2
    z = (y.exp() + y * y + y.tanh()).sum()
    z.backward()
    return z, x.grad


def shortcut(m, direct_first):
    """The root adds a node and a node computed from it, in either order."""
    x = leaf(m)
    a = x.exp()
    b = a * 3 + a.sin()
    root = a + b if direct_first else b + a
    root.sum().backward()
    return x.grad


@scenario
def node_runs_after_every_node_that_feeds_it_gradient_direct_first(m):
    return shortcut(m, direct_first=True)


@scenario
def node_runs_after_every_node_that_feeds_it_gradient_direct_last(m):
    return shortcut(m, direct_first=False)


@scenario
def input_used_twice_in_one_op(m):
    x = leaf(m)
    (x * x + x / (x + 3)).sum().backward()
    return x.grad


@scenario
def deep_reuse_of_intermediates(m):
    x = leaf(m)
    h = x
    for _ in range(5):
        h = h * 0.5 + h.sigmoid() * h
    h.sum().backward()
    return x.grad


@scenario
def gradients_accumulate_across_backward_calls(m):
    x = leaf(m)
    (x * x).sum().backward()
    first = x.grad
    (x * 3).sum().backward()
    return x.grad, first is x.grad


@scenario
def retain_graph_allows_a_second_backward(m):
    x = leaf(m)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    return x.grad


@pytest.mark.torch
@pytest.mark.parametrize("build", [lambda x: (x * x).sum(), lambda x: x.exp().sum(), lambda x: (x @ x),
                                   lambda x: x.tanh().mean()], ids=["mul", "exp", "matmul", "tanh"])
def test_second_backward_through_freed_graph_raises(build):
    for m in (torch, tinytorch):
        y = build(leaf(m))
        y.backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            y.backward()


@scenario
def second_backward_through_graph_that_saved_nothing_works_like_torch(m):
    x = leaf(m)
    y = (x + 1 - x.view(3, 1).sum(1)).sum()
    y.backward()
    y.backward()
    return x.grad


@scenario
def detach_stops_gradient_and_shares_storage(m):
    x = leaf(m)
    d = x.detach()
    (d * x).sum().backward()
    with m.no_grad():
        d[0] = 10.0
    return x.grad, d.requires_grad, d.grad_fn is None, x[0].item()


@scenario
def retain_grad_keeps_intermediate_gradient(m):
    x = leaf(m)
    y = x * 2
    y.retain_grad()
    z = y * 3
    (z * z).sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns when reading .grad of a non-leaf
        return y.grad, z.grad, y.retains_grad, x.grad


@scenario
def gradient_reduced_over_broadcast_dims_keeps_leaf_shape_and_dtype(m):
    w = m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    b = m.tensor([0.5, -0.5, 1.0], requires_grad=True)
    c = m.tensor([[2.0]], dtype=m.float64, requires_grad=True)
    ((w + b) * c).sum().backward()
    return w.grad, b.grad, c.grad


@scenario
def backward_with_explicit_gradient(m):
    x = leaf(m)
    g = m.tensor([1.0, 2.0, 3.0], dtype=m.float64)
    (x * x).backward(g)
    x.grad.add_(1)  # the leaf's gradient must not alias g
    return x.grad, g


@scenario
def each_leaf_owns_its_gradient(m):
    a, b = leaf(m), leaf(m)
    (a + b).sum().backward()
    a.grad.mul_(10)
    return a.grad, b.grad


@scenario
def multi_output_op_with_unused_outputs(m):
    x = leaf(m, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    first, _, third = x.split(1)
    values, indices = x.max(dim=1)
    (first.sum() * 2 + third.sum() + values.sum()).backward()
    return x.grad, indices


@scenario
def autograd_grad_returns_gradients_without_touching_dot_grad(m):
    x = leaf(m)
    h = x.exp()
    y = (h * x).sum()
    gx, gh = m.autograd.grad(y, [x, h], retain_graph=True)
    shared = m.autograd.grad([(h * 2).sum(), (h * h).sum()], x)  # two outputs sharing the node h
    return gx, gh, shared, x.grad is None


@scenario
def backward_inputs_restricts_accumulation(m):
    x, w = leaf(m), leaf(m)
    (x * w).sum().backward(inputs=[x])
    return x.grad, w.grad is None


@scenario
def optimizer_style_update_under_no_grad_keeps_leaf(m):
    w = leaf(m)
    (w * w).sum().backward()
    with m.no_grad():
        w -= 0.1 * w.grad
    w.grad.zero_()
    (w * w).sum().backward()
    return w, w.is_leaf, w.grad


@scenario
def setitem_under_no_grad_keeps_a_leaf(m):
    x = leaf(m, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    with m.no_grad():
        x[0] = 10.0
        x[m.tensor([2, 1]), 1] = m.tensor([7.0, 8.0], dtype=m.float64)
        x[x < 4] = 0.0
        x[:, -1:] = x[:, :1] * 2
    (x * x).sum().backward()
    return x, x.is_leaf, x.requires_grad, x.grad


@scenario
def data_attribute_update(m):
    w = leaf(m)
    (w * w).sum().backward()
    w.data -= 0.5 * w.grad
    return w, w.requires_grad


@scenario
def requires_grad_propagation(m):
    x, c = leaf(m), m.tensor(V)
    y = x * c.double()
    return (y.requires_grad, y.grad_fn is None, (c * 2).requires_grad, (c * 2).grad_fn is None,
            y.is_leaf, x.is_leaf, (x > 0).requires_grad, x.argmax().requires_grad, x.detach().is_leaf)


@scenario
def float32_leaf_through_float64_op_gets_float32_grad(m):
    x = leaf(m, dtype=m.float32)
    (x.double() * m.tensor(V, dtype=m.float64)).sum().backward()
    return x.grad


# ---- grad modes ------------------------------------------------------------------------------------
@scenario
def no_grad_context_and_decorators(m):
    x = leaf(m)
    with m.no_grad():
        inside = (x * 2, m.is_grad_enabled())
        with m.enable_grad():
            reenabled = (x * 2).requires_grad

    @m.no_grad()
    def called():
        return (x * 2).requires_grad

    @m.no_grad
    def bare():
        return (x * 2).requires_grad

    @m.enable_grad()
    def enabled():
        return (x * 2).requires_grad

    with m.no_grad():
        enabled_inside = enabled()
    return (inside[0].requires_grad, inside[0].grad_fn is None, inside[1], reenabled, called(), bare(),
            enabled_inside, m.is_grad_enabled())


@scenario
def set_grad_enabled_as_call_context_and_decorator(m):
    x = leaf(m)
    m.set_grad_enabled(False)
    off = (x * 2).requires_grad
    m.set_grad_enabled(True)
    with m.set_grad_enabled(False):
        ctx_off = (m.is_grad_enabled(), (x * 2).requires_grad)
    after = m.is_grad_enabled()

    @m.set_grad_enabled(False)
    def decorated():
        return m.is_grad_enabled()
    return off, ctx_off, after, m.is_grad_enabled(), decorated(), m.is_grad_enabled()


@pytest.mark.torch
@scenario.each
def test_scenario_matches_torch(fn):
    run_both(fn)


def test_no_grad_restores_mode_after_exception():
    with pytest.raises(ValueError):
        with tinytorch.no_grad():
            raise ValueError("inside")
    assert tinytorch.is_grad_enabled()


# ---- deep graphs -------------------------------------------------------------------------------------
def test_backward_through_100k_node_chain_has_no_recursion_limit():
    x = tinytorch.tensor([1.0], dtype=tinytorch.float64, requires_grad=True)
    y = x
    for _ in range(50_000):
        y = y * 1.00001 + 0.0
    y.sum().backward()
    assert math.isclose(x.grad.item(), 1.00001 ** 50_000, rel_tol=1e-9)
    del y  # dropping the 100k-node graph must not overflow the C stack either


# ---- errors -----------------------------------------------------------------------------------------
@pytest.mark.torch
@pytest.mark.parametrize("bad", [
    lambda m: m.tensor([1, 2]).requires_grad_(),                       # integer tensors cannot
    lambda m: leaf(m).exp().backward(),                                 # not a scalar: needs gradient=
    lambda m: m.tensor(V).sum().backward(),                             # nothing requires grad
    lambda m: leaf(m).add_(1),                                          # in place on a grad leaf
    lambda m: leaf(m).__setitem__(0, 1.0),                              # assignment into a grad leaf
    lambda m: (leaf(m) * 2).backward(m.ones(2, dtype=m.float64)),      # gradient of the wrong shape
], ids=["int_requires_grad", "non_scalar", "no_grad_fn", "inplace_leaf", "setitem_leaf", "wrong_gradient_shape"])
def test_invalid_backward_uses_raise_runtime_error_like_torch(bad):
    for m in (torch, tinytorch):
        with pytest.raises(RuntimeError):
            bad(m)
