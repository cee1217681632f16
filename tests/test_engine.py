"""micrograd's scalar engine (`tinytorch.engine`), checked against published numbers and torch float64."""
import math
import os
import random
import re

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from tinytorch.engine import MLP, Layer, Neuron, Value, render_png, to_dot, weighted_sum


def leaf(x):
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def close(a, b, rel=1e-9, abs_=1e-12):
    return a == pytest.approx(b, rel=rel, abs=abs_, nan_ok=True)


# ---- the micrograd README example and the lecture-1 neuron: published numbers ----

def readme_expression(a, b):
    """karpathy/micrograd README.md, written once for Value and torch alike."""
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    return g


def test_readme_example_matches_published_numbers():
    a, b = Value(-4.0), Value(2.0)
    g = readme_expression(a, b)
    g.backward()
    assert (round(g.data, 4), round(a.grad, 4), round(b.grad, 4)) == (24.7041, 138.8338, 645.5773)


@pytest.mark.torch
def test_readme_example_matches_torch():
    a, b = Value(-4.0), Value(2.0)
    g = readme_expression(a, b)
    g.backward()
    ta, tb = leaf(-4.0), leaf(2.0)
    tg = readme_expression(ta, tb)
    tg.backward()
    assert close(g.data, tg.item()) and close(a.grad, ta.grad.item()) and close(b.grad, tb.grad.item())


def lecture_neuron(x1, x2, w1, w2, b, tanh):
    return tanh(x1 * w1 + x2 * w2 + b)


def tanh_from_exp(n):
    e = (2 * n).exp()
    return (e - 1) / (e + 1)


@pytest.mark.parametrize("tanh", [lambda n: n.tanh(), tanh_from_exp], ids=["tanh", "tanh_from_exp"])
def test_lecture1_neuron_matches_published_numbers(tanh):
    x1, x2, w1, w2, b = Value(2.0), Value(0.0), Value(-3.0), Value(1.0), Value(6.8813735870195432)
    o = lecture_neuron(x1, x2, w1, w2, b, tanh)
    o.backward()
    assert round(o.data, 5) == 0.70711
    assert [round(v.grad, 6) for v in (x1, w1, x2, w2)] == [-1.5, 1.0, 0.5, 0.0]


@pytest.mark.torch
def test_lecture1_neuron_matches_torch():
    values = (2.0, 0.0, -3.0, 1.0, 6.8813735870195432)
    ours = [Value(v) for v in values]
    theirs = [leaf(v) for v in values]
    o = lecture_neuron(*ours, tanh=lambda n: n.tanh())
    to = lecture_neuron(*theirs, tanh=torch.tanh)
    o.backward()
    to.backward()
    assert close(o.data, to.item())
    assert all(close(v.grad, t.grad.item()) for v, t in zip(ours, theirs))


# ---- every op's forward and gradient against torch float64 ----

ANY = [-1.7, -0.3, 0.4, 2.2]
POSITIVE = [0.3, 1.0, 2.5]
UNARY_OPS = {  # name: (function written once for Value and torch, inputs where it is defined)
    "neg": (lambda a: -a, ANY),
    "exp": (lambda a: a.exp(), ANY),
    "log": (lambda a: a.log(), POSITIVE),
    "tanh": (lambda a: a.tanh(), ANY),
    "relu": (lambda a: a.relu(), ANY + [0.0]),
    "sigmoid": (lambda a: a.sigmoid(), ANY),
    "pow_int": (lambda a: a**3, ANY),
    "pow_float": (lambda a: a**-1.5, POSITIVE),
    "pow_zero": (lambda a: a**0, ANY),
    "radd": (lambda a: 2.5 + a, ANY),
    "rsub": (lambda a: 2.5 - a, ANY),
    "rmul": (lambda a: 2.5 * a, ANY),
    "rtruediv": (lambda a: 2.5 / a, ANY),
    "rpow": (lambda a: 2.5**a, ANY),
    "add_number": (lambda a: a + 2.5, ANY),
    "sub_number": (lambda a: a - 2.5, ANY),
    "mul_number": (lambda a: a * 2.5, ANY),
    "truediv_number": (lambda a: a / 2.5, ANY),
}
BINARY_OPS = {
    "add": (lambda a, b: a + b, ANY),
    "sub": (lambda a, b: a - b, ANY),
    "mul": (lambda a, b: a * b, ANY),
    "truediv": (lambda a, b: a / b, ANY),
    "pow_value": (lambda a, b: a**b, POSITIVE),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", UNARY_OPS)
def test_unary_op_matches_torch(name):
    fn, points = UNARY_OPS[name]
    for x in points:
        a, ta = Value(x), leaf(x)
        out, tout = fn(a), fn(ta)
        out.backward()
        tout.backward()
        assert close(out.data, tout.item()), (name, x, out.data, tout.item())
        assert close(a.grad, ta.grad.item()), (name, x, a.grad, ta.grad.item())


@pytest.mark.torch
@pytest.mark.parametrize("name", BINARY_OPS)
def test_binary_op_matches_torch(name):
    fn, points = BINARY_OPS[name]
    for x in points:
        for y in points:
            a, b, ta, tb = Value(x), Value(y), leaf(x), leaf(y)
            out, tout = fn(a, b), fn(ta, tb)
            out.backward()
            tout.backward()
            assert close(out.data, tout.item()), (name, x, y)
            assert close(a.grad, ta.grad.item()) and close(b.grad, tb.grad.item()), (name, x, y)


@pytest.mark.torch
@pytest.mark.parametrize("x", [-1000.0, 1000.0])
@pytest.mark.parametrize("name", ["tanh", "sigmoid", "exp"])
def test_saturating_ops_are_stable_at_extremes(name, x):
    fn = UNARY_OPS[name][0]
    a, ta = Value(x), leaf(x)
    out, tout = fn(a), fn(ta)
    out.backward()
    tout.backward()
    assert out.data == tout.item() and a.grad == ta.grad.item()


@pytest.mark.torch
@pytest.mark.parametrize("base, exponent", [(0.0, 2.0), (0.0, 0.0), (-2.0, 3.0), (-2.0, -2.0)])
def test_pow_of_zero_or_negative_base_with_value_exponent_matches_torch(base, exponent):
    a, b, ta, tb = Value(base), Value(exponent), leaf(base), leaf(exponent)
    (a**b).backward()
    (ta**tb).backward()
    assert close(a.grad, ta.grad.item()) and close(b.grad, tb.grad.item()), (a.grad, b.grad, ta.grad, tb.grad)


def test_numpy_scalars_on_the_left_give_a_value():
    out = np.float64(2.0) * Value(3.0) + np.int64(1)
    assert isinstance(out, Value) and out.data == 7.0


@pytest.mark.parametrize("make, error, words", [
    (lambda: Value(0.0).log(), ValueError, "log: input must be > 0"),
    (lambda: Value(-2.0) ** 0.5, ValueError, "negative base -2.0"),
    (lambda: Value(0.0) ** -1, ZeroDivisionError, "negative power"),
    (lambda: Value("3"), TypeError, "got str"),
    (lambda: Value(1.0) + [1.0], TypeError, "got list"),
])
def test_bad_input_raises_a_clear_error(make, error, words):
    with pytest.raises(error, match=re.escape(words)):
        make()


# ---- random expressions (hypothesis) ----

UNARY_STEPS = [
    lambda x: x.tanh(), lambda x: x.sigmoid(), lambda x: x.relu(), lambda x: -x,
    lambda x: x.tanh().exp(), lambda x: (x * x + 1).log(), lambda x: (x * x + 1) ** 0.5, lambda x: x**2,
]
BINARY_STEPS = [
    lambda x, y: x + y, lambda x, y: x - y, lambda x, y: x * y, lambda x, y: x / (y * y + 1),
    lambda x, y: (x * x + 1) ** y.tanh(), lambda x, y: 0.5 * x - y / 3.0, lambda x, y: 1.5 - x * (2 / (1 + y * y)),
]
STEPS = [(lambda x, y, f=f: f(x)) for f in UNARY_STEPS] + BINARY_STEPS


def evaluate(leaves, program):
    """Apply each (step, i, j) of `program` to earlier nodes i and j (reusing nodes: diamonds); sum all nodes."""
    nodes = list(leaves)
    for step, i, j in program:
        nodes.append(STEPS[step](nodes[i % len(nodes)], nodes[j % len(nodes)]))
    out = nodes[0]
    for node in nodes[1:]:
        out = out + node
    return out


@pytest.mark.torch
@given(
    leaves=st.lists(st.floats(-2, 2), min_size=1, max_size=3),
    program=st.lists(st.tuples(st.integers(0, len(STEPS) - 1), st.integers(0, 20), st.integers(0, 20)), max_size=8),
)
def test_random_expressions_match_torch(leaves, program):
    ours = [Value(x) for x in leaves]
    theirs = [leaf(x) for x in leaves]
    out, tout = evaluate(ours, program), evaluate(theirs, program)
    out.backward()
    tout.backward()
    assert close(out.data, tout.item(), rel=1e-7, abs_=1e-9)
    for v, t in zip(ours, theirs):
        assert close(v.grad, t.grad.item(), rel=1e-7, abs_=1e-9), (v.grad, t.grad.item())


# ---- backward semantics ----

@pytest.mark.torch
def test_backward_twice_accumulates_into_leaves_like_torch():
    a, ta = Value(1.5), leaf(1.5)
    mid, tmid = a * a, ta * ta
    out, tout = (mid + mid).tanh(), (tmid + tmid).tanh()
    out.backward()
    out.backward()
    tout.backward(retain_graph=True)
    tout.backward()
    assert close(a.grad, ta.grad.item())


@pytest.mark.torch
def test_two_outputs_sharing_an_intermediate_node_like_torch():
    a, ta = Value(0.7), leaf(0.7)
    mid, tmid = a.exp(), ta.exp()
    (mid * 2).backward()
    (mid * 3).backward()
    (tmid * 2).backward(retain_graph=True)
    (tmid * 3).backward()
    assert close(a.grad, ta.grad.item())


def test_backward_through_a_chain_of_100000_nodes():
    x = Value(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    y.backward()
    assert len(y.topological_order()) == 200_001  # x, 100,000 products and their constant factors
    assert x.grad == pytest.approx(1.00001**100_000, rel=1e-9)


def test_topological_order_puts_inputs_first():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c
    order = e.topological_order()
    position = {node: i for i, node in enumerate(order)}
    assert set(order) == {a, b, c, d, e} and order[-1] is e
    assert all(position[child] < position[node] for node in order for child in node._children)


# ---- Neuron, Layer, MLP ----

def test_weighted_sum_equals_the_chain_of_mul_and_add():
    w, x, b = [Value(0.3), Value(-1.2)], [Value(2.0), Value(0.5)], Value(0.1)
    fused = weighted_sum(w, x, b)
    fused.backward()
    fused_grads = [v.grad for v in w + x + [b]]
    for v in w + x + [b]:
        v.grad = 0.0
    chain = b + w[0] * x[0] + w[1] * x[1]
    chain.backward()
    assert fused.data == chain.data and fused_grads == [v.grad for v in w + x + [b]]


def test_mlp_structure_matches_micrograd():
    model = MLP(2, [16, 16, 1], rng=random.Random(0))
    assert len(model.parameters()) == 337
    assert [n.nonlin for layer in model.layers for n in layer.neurons[:1]] == [True, True, False]
    assert isinstance(model([1.0, -1.0]), Value)
    assert len(Layer(3, 4)([1.0, 2.0, 3.0])) == 4


def test_neuron_is_relu_by_default_and_checks_its_input_length():
    neuron = Neuron(2, rng=random.Random(0))
    neuron.w[0].data, neuron.w[1].data = 1.0, 1.0
    assert neuron([-1.0, -2.0]).data == 0.0 and neuron([1.0, 2.0]).data == 3.0
    with pytest.raises(ValueError, match="Neuron: expected 2 inputs, got 3"):
        neuron([1.0, 2.0, 3.0])


def test_zero_grad_clears_every_parameter():
    model = MLP(3, [4, 1], rng=random.Random(0))
    model([1.0, 2.0, 3.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())


@pytest.mark.torch
def test_mlp_forward_and_parameter_gradients_match_torch():
    model = MLP(3, [4, 4, 1], rng=random.Random(1))
    x = [0.5, -1.0, 2.0]
    out = model(x)
    out.backward()
    h = torch.tensor(x, dtype=torch.float64)
    tensors = []
    for layer in model.layers:
        W = leaf([[w.data for w in n.w] for n in layer.neurons])
        b = leaf([n.b.data for n in layer.neurons])
        tensors.append((layer, W, b))
        h = W @ h + b
        h = h.relu() if layer.neurons[0].nonlin else h
    h.sum().backward()
    assert close(out.data, h.sum().item())
    for layer, W, b in tensors:
        assert np.allclose([[w.grad for w in n.w] for n in layer.neurons], W.grad.numpy(), rtol=1e-12, atol=0)
        assert np.allclose([n.b.grad for n in layer.neurons], b.grad.numpy(), rtol=1e-12, atol=0)


# ---- the graph as DOT ----

def test_to_dot_has_one_record_per_value_and_edges_through_op_nodes():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b{|}")
    c = a * b
    c.label = "c"
    c.backward()
    dot = to_dot(c)
    assert dot.startswith("digraph {") and dot.rstrip().endswith("}")
    records = dict(re.findall(r'(v\d+) \[shape=record, label="\{ (.*?) \}"\];', dot))
    assert sorted(records.values()) == sorted([
        "a | data 2.0000 | grad -3.0000", r"b\{\|\} | data -3.0000 | grad 2.0000", "c | data -6.0000 | grad 1.0000"])
    by_label = {text.split(" | ")[0]: node for node, text in records.items()}
    ops = dict(re.findall(r'(v\d+_op) \[shape=ellipse, label="(.*?)"\];', dot))
    assert list(ops.values()) == ["*"]
    op = next(iter(ops))
    edges = set(re.findall(r"(v\d+(?:_op)?) -> (v\d+(?:_op)?);", dot))
    assert edges == {(by_label["a"], op), (by_label[r"b\{\|\}"], op), (op, by_label["c"])}


def test_render_png_pipes_the_dot_text_to_graphviz(tmp_path, monkeypatch):
    fake_dot = tmp_path / "dot"
    fake_dot.write_text('#!/bin/sh\n[ "$1" = "-Tpng" ] && [ "$2" = "-o" ] && cat > "$3"\n')
    fake_dot.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    x = Value(1.0).tanh()
    written = render_png(x, tmp_path / "graph.png")
    assert written.read_text() == to_dot(x)


def test_render_png_without_graphviz_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="Graphviz's `dot` program is not installed"):
        render_png(Value(1.0), tmp_path / "graph.png")
    assert not (tmp_path / "graph.png").exists()


def test_repr_shows_data_and_grad():
    assert repr(Value(math.pi)) == "Value(data=3.14159, grad=0)"
