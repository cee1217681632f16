"""grad_fn.name() is torch's name for the node of the same op (ops/torch_names.py): printed tensors
(`grad_fn=<SelectBackward0>`) read as torch's. Composites that torch computes as one op and
tinytorch as several keep the name of their last op: amax (a max then a squeeze), std (sqrt of
var), square (x * x), norm, and attention's output."""
import pytest
import torch

import tinytorch

EXPRESSIONS = {  # name: fn(m, x, i) for a 3 x 4 float leaf x and the index tensor i = [0, 2]
    "x[0]": lambda m, x, i: x[0],
    "x[:2]": lambda m, x, i: x[:2],
    "x[0, 1:3]": lambda m, x, i: x[0, 1:3],
    "x[:, 0]": lambda m, x, i: x[:, 0],
    "x[0, :]": lambda m, x, i: x[0, :],
    "x[None]": lambda m, x, i: x[None],
    "x[...]": lambda m, x, i: x[...],
    "x[i]": lambda m, x, i: x[i],
    "x[i, 0]": lambda m, x, i: x[i, 0],
    "x[x>0]": lambda m, x, i: x[x > 0],
    "x[1:, None]": lambda m, x, i: x[1:, None],
    "view": lambda m, x, i: x.view(-1),
    "reshape": lambda m, x, i: x.reshape(-1),
    "reshape_t": lambda m, x, i: x.t().reshape(-1),
    "flatten": lambda m, x, i: x.flatten(),
    "squeeze": lambda m, x, i: x[None].squeeze(),
    "squeeze0": lambda m, x, i: x[None].squeeze(0),
    "unsqueeze": lambda m, x, i: x.unsqueeze(0),
    "T": lambda m, x, i: x.T,
    "t": lambda m, x, i: x.t(),
    "transpose": lambda m, x, i: x.transpose(0, 1),
    "permute": lambda m, x, i: x.permute(1, 0),
    "expand": lambda m, x, i: x[None].expand(2, 3, 4),
    "sum": lambda m, x, i: x.sum(),
    "sum1": lambda m, x, i: x.sum(1),
    "sum1k": lambda m, x, i: x.sum(1, keepdim=True),
    "mean": lambda m, x, i: x.mean(),
    "mean0": lambda m, x, i: x.mean(0),
    "mm": lambda m, x, i: x @ x.t(),
    "mv": lambda m, x, i: x @ x[0],
    "bmm": lambda m, x, i: x[None] @ x.t()[None],
    "matmul3d2d": lambda m, x, i: x[None] @ x.t(),
    "dot": lambda m, x, i: x[0] @ x[1],
    "add": lambda m, x, i: x + 1,
    "radd": lambda m, x, i: 1 + x,
    "sub": lambda m, x, i: x - x,
    "rsub": lambda m, x, i: 1 - x,
    "mul": lambda m, x, i: x * 2,
    "div": lambda m, x, i: x / 2,
    "rdiv": lambda m, x, i: 2 / x,
    "neg": lambda m, x, i: -x,
    "pow": lambda m, x, i: x ** 2,
    "rpow": lambda m, x, i: 2 ** x,
    "exp": lambda m, x, i: x.exp(),
    "log": lambda m, x, i: x.abs().log(),
    "tanh": lambda m, x, i: x.tanh(),
    "sigmoid": lambda m, x, i: x.sigmoid(),
    "relu": lambda m, x, i: x.relu(),
    "abs": lambda m, x, i: x.abs(),
    "sqrt": lambda m, x, i: x.abs().sqrt(),
    "clamp": lambda m, x, i: x.clamp(0, 1),
    "clamp_min": lambda m, x, i: x.clamp(min=0),
    "max": lambda m, x, i: x.max(),
    "max1": lambda m, x, i: x.max(1).values,
    "min": lambda m, x, i: x.min(),
    "var": lambda m, x, i: x.var(),
    "logsumexp": lambda m, x, i: x.logsumexp(1),
    "cumsum": lambda m, x, i: x.cumsum(0),
    "prod": lambda m, x, i: x.prod(),
    "cat": lambda m, x, i: m.cat([x, x]),
    "stack": lambda m, x, i: m.stack([x, x]),
    "unbind": lambda m, x, i: x.unbind()[0],
    "split": lambda m, x, i: x.split(1)[0],
    "chunk": lambda m, x, i: x.chunk(2)[0],
    "where": lambda m, x, i: m.where(x > 0, x, 0.0),
    "masked_fill": lambda m, x, i: x.masked_fill(x > 0, 0.0),
    "maximum": lambda m, x, i: m.maximum(x, x * 2),
    "softmax": lambda m, x, i: m.nn.functional.softmax(x, 1),
    "log_softmax": lambda m, x, i: m.nn.functional.log_softmax(x, 1),
    "ce": lambda m, x, i: m.nn.functional.cross_entropy(x, m.tensor([0, 1, 2])),
    "mse": lambda m, x, i: m.nn.functional.mse_loss(x, x.detach() * 0),
    "nll": lambda m, x, i: m.nn.functional.nll_loss(x, m.tensor([0, 1, 2])),
    "linear2d": lambda m, x, i: m.nn.functional.linear(x, x),
    "linear3d": lambda m, x, i: m.nn.functional.linear(x[None], x),
    "linear_nobias": lambda m, x, i: m.nn.functional.linear(x, x[:2]),
    "linear_bias": lambda m, x, i: m.nn.functional.linear(x, x[:2], x[0, :2]),
    "layer_norm": lambda m, x, i: m.nn.functional.layer_norm(x, (4,)),
    "gelu": lambda m, x, i: m.nn.functional.gelu(x),
    "gelu_tanh": lambda m, x, i: m.nn.functional.gelu(x, approximate="tanh"),
    "embedding": lambda m, x, i: m.nn.functional.embedding(m.tensor([0, 1]), x),
    "one_hot@": lambda m, x, i: m.nn.functional.one_hot(m.tensor([0,1,2]), 4).float() @ x.t(),
    "clone": lambda m, x, i: x.clone(),
    "float64": lambda m, x, i: x.double(),
    "to": lambda m, x, i: x.to(m.float64),
    "contiguous": lambda m, x, i: x.t().contiguous(),
    "tril": lambda m, x, i: x.tril(),
    "flip": lambda m, x, i: x.flip(0),
    "roll": lambda m, x, i: x.roll(1, 0),
    "repeat": lambda m, x, i: x.repeat(2, 1),
    "gather": lambda m, x, i: x.gather(1, m.tensor([[0],[1],[2]])),
    "index_select": lambda m, x, i: x.index_select(0, i),
    "topk": lambda m, x, i: x.topk(2).values,
    "sort": lambda m, x, i: x.sort().values,
    "dropout": lambda m, x, i: m.nn.functional.dropout(x, 0.5),
    "batch_norm": lambda m, x, i: m.nn.functional.batch_norm(x, None, None, training=True),
    "silu": lambda m, x, i: m.nn.functional.silu(x),
    "sin": lambda m, x, i: x.sin(),
}


def node_name(m, expression):
    x = m.tensor([[1.0, -2.0, 3.0, 4.0], [5.0, 6.0, -7.0, 8.0], [0.5, 1.5, 2.5, -3.5]], requires_grad=True)
    out = EXPRESSIONS[expression](m, x, m.tensor([0, 2]))
    return out.grad_fn.name().split("::")[-1]


@pytest.mark.torch
@pytest.mark.parametrize("expression", list(EXPRESSIONS))
def test_node_is_named_as_torch_names_it(expression):
    assert node_name(tinytorch, expression) == node_name(torch, expression)


def test_an_index_node_keeps_its_name_after_backward_freed_its_key():
    x = tinytorch.ones(3, requires_grad=True)
    y = x[tinytorch.tensor([0, 2])]
    y.sum().backward()
    assert y.grad_fn.name() == "IndexBackward0"
