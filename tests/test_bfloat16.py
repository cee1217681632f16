"""bfloat16 tensors against torch's: creation and conversion, the promotion table, arithmetic and
matmul rounded as torch rounds them, printing, `.item()`, and checkpoints in both directions (torch's
zip format and safetensors)."""
import itertools

import numpy as np
import pytest
import torch

import tinytorch

VALUES = [1.1, -2.5, 3.0e-3, 65504.0, 1.0e30, -0.0]


def same(got, want):
    assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1]
    np.testing.assert_array_equal(got.detach().float().numpy(), want.detach().float().numpy())


@pytest.mark.parametrize("make", [
    lambda m: m.tensor(VALUES, dtype=m.bfloat16),
    lambda m: m.tensor(VALUES).to(m.bfloat16),
    lambda m: m.tensor(VALUES, dtype=m.float64).bfloat16(),
    lambda m: m.zeros(2, 3, dtype=m.bfloat16),
    lambda m: m.full((2,), 1 / 3, dtype=m.bfloat16),
    lambda m: m.arange(5, dtype=m.bfloat16),
    lambda m: m.tensor(VALUES, dtype=m.bfloat16).float(),
    lambda m: m.tensor(VALUES, dtype=m.bfloat16).half(),
    lambda m: m.tensor([1.7, -2.2], dtype=m.bfloat16).long(),
], ids=["tensor", "to", "bfloat16()", "zeros", "full", "arange", "to_float", "to_half", "to_long"])
def test_creation_and_conversion_round_as_torch(make):
    same(make(tinytorch), make(torch))


@pytest.mark.parametrize("n", [4, 16, 33])
@pytest.mark.parametrize("draw", [
    lambda m, n: m.randn(n, dtype=m.bfloat16),
    lambda m, n: m.rand(n, dtype=m.bfloat16),
    lambda m, n: m.empty(n, dtype=m.bfloat16).normal_(2.0, 3.0),
    lambda m, n: m.empty(n, dtype=m.bfloat16).uniform_(-1.0, 2.0),
], ids=["randn", "rand", "normal_", "uniform_"])
def test_random_draws_are_torchs(draw, n):
    """torch's reduced-precision streams (below 16 elements per element, else 16 uniforms a block)."""
    tinytorch.manual_seed(0)
    torch.manual_seed(0)
    same(draw(tinytorch, n), draw(torch, n))


DTYPES = ["bfloat16", "float16", "float32", "float64", "int64", "int32", "uint8", "bool"]


@pytest.mark.parametrize("a, b", itertools.product(["bfloat16"], DTYPES))
def test_promotion_table_is_torchs(a, b):
    for x, y in ((a, b), (b, a)):
        got = (tinytorch.ones(2, dtype=getattr(tinytorch, x)) + tinytorch.ones(2, dtype=getattr(tinytorch, y))).dtype
        want = (torch.ones(2, dtype=getattr(torch, x)) + torch.ones(2, dtype=getattr(torch, y))).dtype
        assert str(got).split(".")[1] == str(want).split(".")[1]


@pytest.mark.parametrize("scalar", [2.5, 3, True, "0-d float32", "0-d int64"])
def test_scalars_and_zero_dim_tensors_keep_bfloat16(scalar):
    results = []
    for m in (torch, tinytorch):
        other = scalar if not isinstance(scalar, str) else m.tensor(1.5 if "float" in scalar else 2,
                                                                      dtype=getattr(m, scalar.split()[1]))
        results.append(m.tensor(VALUES[:3], dtype=m.bfloat16) * other)
    same(results[1], results[0])


@pytest.mark.parametrize("op", [
    lambda m, a, b: a + b, lambda m, a, b: a * b, lambda m, a, b: a / b, lambda m, a, b: a @ b.T,
    lambda m, a, b: m.nn.functional.linear(a, b), lambda m, a, b: (a @ b.T).softmax(-1),
    lambda m, a, b: m.exp(a), lambda m, a, b: m.nn.functional.gelu(a), lambda m, a, b: m.tanh(a),
    lambda m, a, b: m.nn.functional.layer_norm(a, (6,)),
], ids=["add", "mul", "div", "matmul", "linear", "softmax", "exp", "gelu", "tanh", "layer_norm"])
def test_arithmetic_and_matmul_match_torch_within_one_rounding(op):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 4, 6)).astype(np.float32)
    got = op(tinytorch, *(tinytorch.tensor(v, dtype=tinytorch.bfloat16) for v in (a, b)))
    want = op(torch, *(torch.tensor(v, dtype=torch.bfloat16) for v in (a, b)))
    assert got.dtype is tinytorch.bfloat16 and want.dtype is torch.bfloat16
    np.testing.assert_allclose(got.float().numpy(), want.float().numpy(), rtol=2 ** -7, atol=1e-6)


def test_gradients_of_bfloat16_leaves_are_bfloat16():
    grads = []
    for m in (torch, tinytorch):
        x = m.tensor([1.1, -2.0, 0.3], dtype=m.bfloat16, requires_grad=True)
        (x * x).sum().backward()
        grads.append(x.grad)
    same(grads[1], grads[0])


@pytest.mark.parametrize("values", [VALUES, [[1.123456, -2.0], [3.0, 4.0]], [1e-5, 1.0], 0.1, [7.0, 8.0]])
def test_printing_and_item_are_torchs(values):
    got, want = tinytorch.tensor(values, dtype=tinytorch.bfloat16), torch.tensor(values, dtype=torch.bfloat16)
    assert repr(got).replace("tinytorch.", "torch.").replace(",\n       dtype", ", dtype") == \
        repr(want).replace(",\n       dtype", ", dtype")
    if got.ndim == 0:
        assert got.item() == want.item() and type(got.item()) is float


def test_checkpoints_round_trip_with_torch(tmp_path):
    torch.save({"w": torch.tensor(VALUES, dtype=torch.bfloat16)}, tmp_path / "torch.pt")
    same(tinytorch.load(tmp_path / "torch.pt")["w"], torch.tensor(VALUES, dtype=torch.bfloat16))
    for name in ("tiny.pt", "tiny.safetensors"):
        tinytorch.save({"w": tinytorch.tensor(VALUES, dtype=tinytorch.bfloat16)}, tmp_path / name)
        same(tinytorch.load(tmp_path / name)["w"], torch.tensor(VALUES, dtype=torch.bfloat16))
    same(torch.load(tmp_path / "tiny.pt")["w"], torch.tensor(VALUES, dtype=torch.bfloat16))
