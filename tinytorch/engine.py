"""micrograd: a scalar `Value` with reverse-mode autograd, and a tiny neural-net library on it.

Stage 1 of the course (Karpathy's micrograd). Each op computes its output and, at the same
time, its *local derivative* d(out)/d(input) for every input; `backward()` then applies the
chain rule from the output down, in reverse topological order:

    input.grad += local_derivative * out.grad

`+=` is what makes a node used twice get both contributions. The topological sort is
iterative, so a graph as deep as you like (a chain of 100,000 ops) backpropagates without
hitting Python's recursion limit.

This module stands alone: it imports nothing else from tinytorch.
"""
import math
import numbers
import random
import shutil
import subprocess
from pathlib import Path


def _as_float(x, op):
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"Value.{op}: expected a real number or a Value, got {type(x).__name__} {x!r}")
    return float(x)


def _power(a, k):
    """a ** k, with 0 ** negative = inf (as torch) instead of ZeroDivisionError."""
    return math.inf if a == 0 and k < 0 else a ** k


class Value:
    """A scalar number that remembers the ops that produced it, to backpropagate through them.

    `data` is the number (a Python float), `grad` is d(root)/d(this) after `root.backward()`.
    `label` is a name shown in the graph drawing (`to_dot`).
    """
    __slots__ = ("data", "grad", "label", "_children", "_local_grads", "_op")
    __array_ufunc__ = None  # numpy scalars on the left defer to Value's reflected ops

    def __init__(self, data, label="", _children=(), _local_grads=(), _op=""):
        self.data = data if type(data) is float else _as_float(data, "__init__")
        self.grad = 0.0
        self.label = label
        self._children = _children        # the inputs of the op that made this Value
        self._local_grads = _local_grads  # d(self)/d(child), one per child
        self._op = _op

    def __repr__(self):
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    # ---- binary ops: `other` may be a Value or a real number (wrapped as a constant leaf) ----

    def __add__(self, other):
        """out = a + b.   d(out)/da = 1,  d(out)/db = 1."""
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, "", (self, other), (1.0, 1.0), "+")

    def __mul__(self, other):
        """out = a * b.   d(out)/da = b,  d(out)/db = a."""
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, "", (self, other), (other.data, self.data), "*")

    def __pow__(self, exponent):
        """out = a ** k.   d(out)/da = k * a**(k-1),  d(out)/dk = a**k * ln(a).

        A plain-number exponent is a constant (one input, as in micrograd). For a Value exponent
        the derivative in k follows torch: 0 where a == 0 and k >= 0, nan where a < 0.
        """
        a = self.data
        k = exponent.data if isinstance(exponent, Value) else _as_float(exponent, "__pow__")
        if a < 0 and not k.is_integer():
            raise ValueError(f"Value.__pow__: negative base {a} to the non-integer power {k} is not a real number")
        if a == 0 and k < 0:
            raise ZeroDivisionError(f"Value.__pow__: 0.0 to the negative power {k}")
        out = a ** k
        d_base = k * _power(a, k - 1) if k != 0 else 0.0
        if not isinstance(exponent, Value):
            return Value(out, "", (self,), (d_base,), f"**{k:g}")
        d_exponent = out * math.log(a) if a > 0 else (0.0 if a == 0 else math.nan)
        return Value(out, "", (self, exponent), (d_base, d_exponent), "**")

    def __neg__(self):  # -a
        return self * -1.0

    def __sub__(self, other):  # a - b
        return self + (-other)

    def __truediv__(self, other):  # a / b
        return self * other ** -1.0

    def __radd__(self, other):  # other + self
        return self + other

    def __rmul__(self, other):  # other * self
        return self * other

    def __rsub__(self, other):  # other - self
        return other + (-self)

    def __rtruediv__(self, other):  # other / self
        return other * self ** -1.0

    def __rpow__(self, base):  # base ** self
        return Value(base) ** self

    # ---- unary ops ----

    def exp(self):
        """out = e**a.   d(out)/da = out.   Overflows to inf like torch for a > ~709.78."""
        try:
            out = math.exp(self.data)
        except OverflowError:
            out = math.inf
        return Value(out, "", (self,), (out,), "exp")

    def log(self):
        """out = ln(a).   d(out)/da = 1/a.   Needs a > 0."""
        if self.data <= 0:
            raise ValueError(f"Value.log: input must be > 0, got {self.data}")
        return Value(math.log(self.data), "", (self,), (1.0 / self.data,), "log")

    def tanh(self):
        """out = tanh(a).   d(out)/da = 1 - out**2.   Stable for any a (saturates to +-1)."""
        t = math.tanh(self.data)
        return Value(t, "", (self,), (1.0 - t * t,), "tanh")

    def relu(self):
        """out = max(a, 0).   d(out)/da = 1 if a > 0 else 0."""
        positive = self.data > 0
        return Value(self.data if positive else 0.0, "", (self,), (1.0 if positive else 0.0,), "ReLU")

    def sigmoid(self):
        """out = 1 / (1 + e**-a).   d(out)/da = out * (1 - out).   Stable for any a."""
        a = self.data
        if a >= 0:
            s = 1.0 / (1.0 + math.exp(-a))
        else:
            e = math.exp(a)
            s = e / (1.0 + e)
        return Value(s, "", (self,), (s * (1.0 - s),), "sigmoid")

    # ---- backpropagation ----

    def topological_order(self):
        """Every Value this one depends on, each after all of its inputs, ending with `self`.

        Iterative depth-first search: a node is emitted once all of its inputs have been.
        """
        order, visited = [], {self}
        stack = [(self, iter(self._children))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if child not in visited:
                    visited.add(child)
                    stack.append((child, iter(child._children)))
                    break
            else:
                stack.pop()
                order.append(node)
        return order

    def backward(self):
        """Fill `.grad` of every Value this one depends on with d(self)/d(that Value).

        Leaves (inputs, parameters) accumulate, as in torch: call `zero_grad` between steps.
        Intermediate nodes are reset first, so calling backward twice on the same graph adds
        exactly one more gradient to the leaves (micrograd would double-count).
        """
        order = self.topological_order()
        for node in order:
            if node._children:
                node.grad = 0.0
        self.grad += 1.0
        for node in reversed(order):
            g = node.grad
            for child, local in zip(node._children, node._local_grads):
                child.grad += local * g


def weighted_sum(weights, inputs, bias):
    """out = bias + w_0 x_0 + w_1 x_1 + ... as ONE node: a neuron's pre-activation.

    `weights` (n Values), `inputs` (n Values or numbers), `bias` (a Value).

    d(out)/dw_i = x_i,  d(out)/dx_i = w_i,  d(out)/dbias = 1.
    The same number (summed in the same order) and the same gradients as micrograd's chain of
    2n `*` and `+` nodes, in one node instead of 2n: the moons demo builds 10x fewer Values.
    """
    if len(weights) != len(inputs):
        raise ValueError(f"weighted_sum: {len(weights)} weights but {len(inputs)} inputs")
    inputs = [x if isinstance(x, Value) else Value(x) for x in inputs]
    total = bias.data
    for w, x in zip(weights, inputs):
        total += w.data * x.data
    local_grads = (*[x.data for x in inputs], *[w.data for w in weights], 1.0)
    return Value(total, "", (*weights, *inputs, bias), local_grads, "Σw·x+b")


# ---- the graph as Graphviz DOT ----

def to_dot(root, rankdir="LR"):
    """The expression graph of `root` as Graphviz DOT text.

    Each Value is a record box `label | data | grad`; each op is a small ellipse between its
    inputs and its output (as in micrograd's draw_dot).
    """
    order = root.topological_order()
    name = {node: f"v{i}" for i, node in enumerate(order)}
    lines = [f"digraph {{\n  rankdir={rankdir};", "  node [fontname=Helvetica];"]
    for node in order:
        fields = ([node.label] if node.label else []) + [f"data {node.data:.4f}", f"grad {node.grad:.4f}"]
        record = " | ".join(map(_escape, fields))
        lines.append(f'  {name[node]} [shape=record, label="{{ {record} }}"];')
        if node._children:
            op = f"{name[node]}_op"
            lines.append(f'  {op} [shape=ellipse, label="{_escape(node._op)}"];')
            lines.append(f"  {op} -> {name[node]};")
            lines.extend(f"  {name[child]} -> {op};" for child in node._children)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _escape(text):
    """Backslash the characters that DOT record labels treat as syntax."""
    return "".join("\\" + ch if ch in '\\"{}|<>' else ch for ch in text)


def render_png(root, path):
    """Draw the graph of `root` to the PNG file `path` with Graphviz's `dot`; returns the path."""
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError("render_png: Graphviz's `dot` program is not installed (e.g. `apt install graphviz`);"
                           " to_dot(value) still gives the DOT text")
    path = Path(path)
    result = subprocess.run([dot, "-Tpng", "-o", str(path)], input=to_dot(root).encode(), capture_output=True)
    if result.returncode != 0:
        raise RuntimeError(f"render_png: dot failed for {path}: {result.stderr.decode(errors='replace').strip()}")
    return path


# ---- a tiny neural-net library (micrograd's nn.py) ----

class Module:
    """What every net here has: `parameters()` (a list of Values) and `zero_grad()`."""

    def parameters(self):
        return []

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    """out = relu(b + sum_i w_i x_i), or without the relu when `nonlin=False`.

    Weights start uniform in [-1, 1] drawn from `rng` (a `random.Random`; default: the global
    `random` module, so `random.seed(1337)` reproduces micrograd's demo), bias at 0.
    """

    def __init__(self, nin, nonlin=True, rng=None):
        rng = rng or random
        self.w = [Value(rng.uniform(-1, 1), label="w") for _ in range(nin)]
        self.b = Value(0.0, label="b")
        self.nonlin = nonlin

    def __call__(self, x):
        if len(x) != len(self.w):
            raise ValueError(f"Neuron: expected {len(self.w)} inputs, got {len(x)}")
        act = weighted_sum(self.w, x, self.b)
        return act.relu() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]

    def __repr__(self):
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):
    """`nout` independent neurons on the same `nin` inputs; one output is returned unwrapped."""

    def __init__(self, nin, nout, nonlin=True, rng=None):
        self.neurons = [Neuron(nin, nonlin, rng) for _ in range(nout)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self):
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """Layers of sizes nin -> nouts[0] -> ... -> nouts[-1]: ReLU hidden layers, linear last layer."""

    def __init__(self, nin, nouts, rng=None):
        sizes = [nin] + list(nouts)
        self.layers = [Layer(sizes[i], sizes[i + 1], nonlin=i != len(nouts) - 1, rng=rng)
                       for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self):
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
