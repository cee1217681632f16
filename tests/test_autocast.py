"""tinytorch.autocast against torch.autocast on the CPU: each op of the table runs under both on the
same float32 (and bfloat16) inputs; the output dtypes must be torch's, the values agree within
bfloat16's tolerance, and the gradients reach the float32 leaves with torch's dtypes and values."""
import warnings

import numpy as np
import pytest
import torch

import tinytorch

RNG = np.random.default_rng(0)
SHAPES = {"x": (4, 3), "w": (5, 3), "b": (5,), "q": (2, 4, 3), "k": (2, 4, 3), "v": (2, 4, 3), "m": (3, 5),
          "c": (4, 5), "p": (2, 3, 5), "y": (4, 3)}
ARRAYS = {name: RNG.standard_normal(shape).astype(np.float32) for name, shape in SHAPES.items()}
TARGET = np.array([0, 2, 1, 2])

# name -> (the op on module m and its inputs, the names of its float inputs; "name:bf16" is a bfloat16 leaf)
CASES = {
    "linear": (lambda m, x, w, b: m.nn.functional.linear(x, w, b), "x w b"),
    "matmul": (lambda m, x, w: x @ w.T, "x w"),
    "mm": (lambda m, x, mat: m.mm(x, mat), "x m"),
    "bmm": (lambda m, q, k: m.bmm(q, k.transpose(1, 2)), "q k"),
    "addmm": (lambda m, c, x, mat: m.addmm(c, x, mat), "c x m"),
    "baddbmm": (lambda m, q, k, v: m.baddbmm(q @ k.transpose(1, 2) * 0, q, v.transpose(1, 2)), "q k v"),
    "sdpa": (lambda m, q, k, v: m.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True), "q k v"),
    "softmax": (lambda m, x: m.nn.functional.softmax(x, dim=-1), "x"),
    "softmax_bf16": (lambda m, x: m.nn.functional.softmax(x, dim=-1), "x:bf16"),
    "log_softmax_bf16": (lambda m, x: m.nn.functional.log_softmax(x, dim=-1), "x:bf16"),
    "layer_norm_bf16": (lambda m, x, w, b: m.nn.functional.layer_norm(x, (3,), w[0], b[:3]), "x:bf16 w b"),
    "cross_entropy": (lambda m, x: m.nn.functional.cross_entropy(x, m.tensor(TARGET)), "x:bf16"),
    "cross_entropy_of_linear": (lambda m, x, w: m.nn.functional.cross_entropy(x @ w.T, m.tensor(TARGET)), "x w"),
    "mse_loss": (lambda m, x, y: m.nn.functional.mse_loss(x, y), "x:bf16 y"),
    "l1_loss": (lambda m, x, y: m.nn.functional.l1_loss(x, y), "x:bf16 y"),
    "prod": (lambda m, x: x.prod(), "x:bf16"),
    "sum_bf16": (lambda m, x: x.sum(), "x:bf16"),
    "add_mixed": (lambda m, x, y: x + y, "x:bf16 y"),
    "gelu_bf16": (lambda m, x: m.nn.functional.gelu(x), "x:bf16"),
    "relu_bf16": (lambda m, x: m.relu(x), "x:bf16"),
    "tanh_bf16": (lambda m, x: m.tanh(x), "x:bf16"),
    "linear_float64": (lambda m, x, w: m.nn.functional.linear(x.double(), w.double()), "x w"),
    "mlp": (lambda m, x, w, mat: m.nn.functional.gelu(x @ mat) @ w, "x w m"),
}


def leaves(m, spec):
    out = []
    for item in spec.split():
        name, _, kind = item.partition(":")
        t = m.tensor(ARRAYS[name])
        if kind == "bf16":
            t = t.to(m.bfloat16)
        out.append(t.requires_grad_())
    return out


def run(m, case):
    fn, spec = CASES[case]
    inputs = leaves(m, spec)
    with m.autocast("cpu", dtype=m.bfloat16):
        out = fn(m, *inputs)
    out.float().sum().backward()
    return out, inputs


def as_numpy(t):
    return t.detach().float().numpy()


@pytest.mark.parametrize("case", CASES)
def test_op_under_autocast_matches_torch(case):
    got, got_inputs = run(tinytorch, case)
    want, want_inputs = run(torch, case)
    assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1]
    np.testing.assert_allclose(as_numpy(got), as_numpy(want), rtol=3e-2, atol=3e-2)
    for g, w in zip(got_inputs, want_inputs):
        assert str(g.grad.dtype).split(".")[1] == str(w.grad.dtype).split(".")[1]
        assert str(g.grad.dtype) == str(g.dtype)
        np.testing.assert_allclose(as_numpy(g.grad), as_numpy(w.grad), rtol=5e-2, atol=5e-2)


def test_default_dtypes_state_and_nesting():
    m = tinytorch
    x = m.ones(2, 2)
    assert m.get_autocast_dtype("cpu") is m.bfloat16 and m.get_autocast_dtype("cuda") is m.float16
    assert not m.is_autocast_enabled("cpu") and not m.is_autocast_enabled()
    with m.autocast("cpu"):
        assert m.is_autocast_enabled("cpu") and (x @ x).dtype is m.bfloat16
        with m.autocast("cpu", dtype=m.float16):
            assert m.get_autocast_dtype("cpu") is m.float16 and (x @ x).dtype is m.float16
            with m.autocast("cpu", enabled=False):
                assert not m.is_autocast_enabled("cpu") and (x @ x).dtype is m.float32
            assert (x @ x).dtype is m.float16
        assert m.get_autocast_dtype("cpu") is m.bfloat16
    assert not m.is_autocast_enabled("cpu") and (x @ x).dtype is m.float32


def test_decorator_and_the_other_names():
    x = tinytorch.ones(2, 2)

    @tinytorch.amp.autocast("cpu")
    def square(t):
        return t @ t

    assert square(x).dtype is tinytorch.bfloat16 and (x @ x).dtype is tinytorch.float32
    with pytest.warns(FutureWarning, match=r"cpu\.amp\.autocast\(args...\)` is deprecated"):
        legacy = tinytorch.cpu.amp.autocast()
    with legacy:
        assert (x @ x).dtype is tinytorch.bfloat16


@pytest.mark.parametrize("make", [lambda m: m.autocast("cuda"), lambda m: m.autocast("cpu", dtype=m.float32)],
                         ids=["cuda_without_gpu", "cpu_float32"])
def test_unusable_autocast_warns_and_disables_as_torch(make):
    results = []
    for m in (torch, tinytorch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with make(m):
                results.append((m.is_autocast_enabled("cpu"), m.is_autocast_enabled("cuda"),
                                [w.category for w in caught], "Disabling autocast" in str(caught[0].message)))
    assert results[0] == results[1]


def test_float64_is_never_cast_and_ints_pass_through():
    m = tinytorch
    with m.autocast("cpu"):
        assert (m.ones(2, 2, dtype=m.float64) @ m.ones(2, 2, dtype=m.float64)).dtype is m.float64
        loss = m.nn.functional.cross_entropy(m.ones(2, 3, dtype=m.bfloat16), m.tensor([0, 1]))
    assert loss.dtype is m.float32
