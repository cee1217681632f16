"""In-place ops by torch's rules (tinytorch/inplace.py): each scenario `fn(m)` runs with m = torch and
m = tinytorch and must give the same values, gradients, requires_grad and node names; each refusal
must raise torch's exception with torch's message. The op table (op_cases.py) holds the float64
gradchecks of the in-place rows; this file holds what a row cannot say."""
import re

import pytest
import torch

import tinytorch
from harness import Scenarios, run_both

scenario = Scenarios()


def leaf(m, values=(1.0, 2.0, 3.0)):
    return m.tensor(list(values), requires_grad=True)


def node_name(t):
    """grad_fn's name without torch's C++ namespace ('torch::autograd::CopySlices')."""
    return None if t.grad_fn is None else t.grad_fn.name().split("::")[-1]


@scenario
def mul_by_a_tensor_that_requires_grad_keeps_the_old_values(m):
    x, w = leaf(m), leaf(m, (2.0, 3.0, 4.0))
    y = x * 1
    y.mul_(w)
    y.sum().backward()
    return y, x.grad, w.grad, node_name(y)


@scenario
def nodes_recorded_before_an_in_place_op_keep_the_old_tensor(m):
    x = leaf(m)
    y = x * 1
    z = y * 3
    y.mul_(2)
    (z + y).sum().backward()
    return x.grad


@scenario
def a_view_written_in_place_gives_its_base_copy_slices(m):
    x = m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    y = x * 1
    y[:, 1].mul_(2)
    (y * y).sum().backward()
    return y, x.grad, node_name(y)


@scenario
def a_view_taken_before_its_base_changed_follows_the_base(m):
    x = m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    y = x * 1
    v = y[:, 1]
    y.mul_(2)
    (v * v).sum().backward()
    return v, x.grad, node_name(v)


@scenario
def assigning_a_tensor_that_requires_grad_makes_the_target_require_grad(m):
    w = leaf(m, (1.0, 2.0))
    a = m.zeros(3, 2)
    a[1] = w * 2
    (a * a).sum().backward()
    return a, a.requires_grad, a.is_leaf, node_name(a), w.grad


@scenario
def index_put_with_repeated_indices_accumulates(m):
    x, v = leaf(m), leaf(m, (1.0, 10.0, 100.0))
    y = x * 1
    y.index_put_((m.tensor([0, 2, 0]),), v, accumulate=True)
    (y * y).sum().backward()
    return y, x.grad, v.grad, node_name(y)


@scenario
def plus_equals_into_an_element(m):
    x = leaf(m)
    y = x * 2
    y[0] += 1
    (y * y).sum().backward()
    return y, x.grad, node_name(y)


@scenario
def lecture5_dlogits_are_built_in_place_in_the_graph(m):
    """Lecture 5's exercise as written: the manual gradient of cross_entropy, in place on the softmax."""
    g = m.Generator().manual_seed(42)
    logits = m.randn(4, 5, generator=g).requires_grad_()
    yb = m.tensor([1, 2, 3, 0])
    n = logits.shape[0]
    dlogits = m.nn.functional.softmax(logits, 1)
    dlogits[range(n), yb] -= 1
    dlogits /= n
    loss = m.nn.functional.cross_entropy(logits, yb)
    loss.backward()
    return (dlogits - logits.grad).abs().max() < 1e-6, dlogits.requires_grad, node_name(dlogits)


@scenario
def zero_and_fill_on_a_non_leaf_send_zero_gradient_back(m):
    x = leaf(m)
    y = x * 2
    y.zero_()
    z = x * 3
    z[1:].fill_(7.0)
    (y + z).sum().backward()
    return y, z, x.grad


@scenario
def copy_into_a_non_leaf_routes_the_gradient_to_the_source(m):
    x, s = leaf(m), leaf(m, (5.0, 6.0, 7.0))
    y = x * 2
    y.copy_(s * s)
    y.sum().backward()
    return y, x.grad, s.grad


@scenario
def in_place_ops_under_no_grad_leave_the_graph_alone(m):
    x = leaf(m)
    y = x * 2
    with m.no_grad():
        x.add_(1)
        x.mul_(2)
        x.clamp_(0, 5)
    y.sum().backward()
    return x, x.grad, x.is_leaf


@scenario
def relu_inplace_in_a_graph(m):
    x = m.tensor([-1.0, 2.0, -3.0], requires_grad=True)
    y = x * 2
    m.nn.functional.relu(y, inplace=True)
    y.sum().backward()
    return y, x.grad


@scenario
def retain_grad_follows_the_tensor_through_an_in_place_op(m):
    x = leaf(m)
    y = x * 2
    y.retain_grad()
    y.add_(1)
    (y * y).sum().backward()
    return y.grad, x.grad


@scenario
def versions_count_in_place_ops_and_views_share_them(m):
    x = m.zeros(3)
    v = x[1:]
    x.add_(1)
    v.mul_(2)
    d = x.detach()
    d.zero_()
    x[0] = 5
    x += 1
    return x._version, v._version, d._version, m.zeros(2)._version


@scenario
def optimizer_steps_bump_versions(m):
    w = m.nn.Parameter(m.ones(2))
    opt = m.optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    opt.step()
    return w._version


@pytest.mark.torch
@scenario.each
def test_scenario_matches_torch(fn):
    run_both(fn)


# ---- what torch refuses: the same exception, the same message ------------------------------------
def _silently_wrong_before(m):
    """The issue's example: y is changed under no_grad after y * y kept it."""
    x = leaf(m)
    y = x * 2.0
    z = (y * y).sum()
    with m.no_grad():
        y[0] = 100.0
    z.backward()


def _optimizer_step_between_forward_and_backward(m):
    m.manual_seed(0)
    net = m.nn.Sequential(m.nn.Linear(3, 4), m.nn.Tanh(), m.nn.Linear(4, 2))
    opt = m.optim.SGD(net.parameters(), lr=0.1)
    out = net(m.ones(5, 3)).pow(2).sum()
    net(m.ones(5, 3)).sum().backward()
    opt.step()
    out.backward()


def _leaf_modified_under_no_grad(m):
    x = leaf(m)
    z = (x * x).sum()
    with m.no_grad():
        x.add_(1)
    z.backward()


def _output_kept_by_exp_modified(m):
    y = leaf(m).exp()
    y.mul_(2)
    y.sum().backward()


def _in_place_on_a_leaf(m):
    leaf(m).add_(1)


def _plus_equals_on_a_leaf(m):
    x = leaf(m)
    x += 1


def _setitem_on_a_leaf(m):
    leaf(m)[0] = 1.0


def _in_place_on_a_view_of_a_leaf(m):
    leaf(m)[:2].mul_(2)


def _write_into_an_expanded_tensor(m):
    m.zeros(1, 3).expand(2, 3).add_(1)


def _float_into_an_int_tensor(m):
    m.zeros(3, dtype=m.int64).add_(1.5)


REFUSED = [_silently_wrong_before, _optimizer_step_between_forward_and_backward, _leaf_modified_under_no_grad,
           _output_kept_by_exp_modified, _in_place_on_a_leaf, _plus_equals_on_a_leaf, _setitem_on_a_leaf,
           _in_place_on_a_view_of_a_leaf, _write_into_an_expanded_tensor, _float_into_an_int_tensor]


def _message_core(message, library):
    """The part of a message both libraries share: up to torch's hint, library names dropped, and
    the modified tensor's description (torch may name a view of it where tinytorch names its memory,
    see test_modified_saved_tensor_error_names_the_node_shape_and_versions)."""
    message = message.split(" Hint:")[0].replace(f"{library}.", "")
    message = re.sub(r"\[\w+ \[[\d, ]*\]\](, which is output \d+ of \w+,)?", "[tensor]", message)
    return re.sub(r"^\w+_?: ", "", message)  # tinytorch may name the op first


@pytest.mark.torch
@pytest.mark.parametrize("fn", REFUSED, ids=lambda f: f.__name__.strip("_"))
def test_refused_as_torch_refuses(fn):
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(type(theirs.value)) as mine:
        fn(tinytorch)
    expected = _message_core(str(theirs.value), "torch")
    got = _message_core(str(mine.value), "tinytorch")
    if "Float can't be cast" in expected:  # torch says 'Float', tinytorch the dtype's name
        assert "can't be cast to the desired output type" in got
    else:
        assert got == expected


def test_modified_saved_tensor_error_names_the_node_shape_and_versions():
    x = tinytorch.ones(2, 3, requires_grad=True)
    y = x.sigmoid()
    y.mul_(3)
    y.add_(1)
    with pytest.raises(RuntimeError) as e:
        y.sum().backward()
    message = str(e.value)
    assert "[tinytorch.FloatTensor [2, 3]]" in message
    assert "is at version 2; expected version 0" in message
    assert "SigmoidBackward0" in message


def test_version_check_sees_writes_through_detach_and_data():
    """A saved array changed through another tensor on the same memory is caught too."""
    for alias in (lambda t: t.detach(), lambda t: t.data, lambda t: t.detach()[1:]):
        x = tinytorch.ones(3, requires_grad=True)
        y = x * 2
        z = (y * y).sum()
        alias(y).mul_(5)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.backward()


def test_unchanged_graph_still_backpropagates_after_unrelated_in_place_ops():
    """Versions of arrays no node kept may change freely: add's backward needs neither input."""
    x = tinytorch.ones(3, requires_grad=True)
    b = tinytorch.zeros(3)
    y = x + b
    b.add_(4)
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]


def test_in_place_result_keeps_the_tensor_object_and_its_memory():
    x = tinytorch.ones(2, 2, requires_grad=True)
    y = x * 2
    memory = y._data
    assert y.add_(1) is y and y._data is memory
    v = y[0]
    assert v.mul_(3) is v and v._base is y and y._data is memory
    assert y.tolist() == [[9.0, 9.0], [3.0, 3.0]]


def _unary_in_place_then(m, name, then_mul):
    x = m.tensor([1.0, 2.0, 3.0], dtype=m.float64, requires_grad=True)
    y = x * 1
    getattr(y, f"{name}_")(*((1.5,) if name == "clamp_min" else ()))
    if then_mul:
        y.mul_(2)
    try:
        (y * y).sum().backward()
    except RuntimeError as e:
        return "refused", _message_core(str(e), m.__name__)
    return y, x.grad


@pytest.mark.torch
@pytest.mark.parametrize("then_mul", [False, True], ids=["alone", "then_mul_"])
@pytest.mark.parametrize("name", ["neg", "exp", "sin", "sqrt", "tanh", "sigmoid", "relu", "abs", "log", "square", "clamp_min"])
def test_unary_in_place_ops_record_and_refuse_as_torch(name, then_mul):
    """exp_, tanh_, sigmoid_ and sqrt_ keep their output for backward, so a later mul_ is refused;
    sin_, log_ and abs_ keep their input, which no later op can change."""
    run_both(lambda m: _unary_in_place_then(m, name, then_mul))
