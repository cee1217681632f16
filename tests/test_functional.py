"""nn.functional activations: each fused op == its naive twin == torch, forward and backward,
in float64 on hypothesis-drawn shapes and layouts; stability at extreme inputs; float32 stays
float32. The helpers here (`three_way`, `layouts`, ...) serve the other test_functional_* files."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, strategies as st

import tinytorch
import tinytorch.nn.functional as F
from devices import on_devices
from tinytorch.nn.special import normal_cdf

pytestmark = pytest.mark.torch

LAYOUTS = ("contiguous", "transposed", "strided")


def lay_out(values, layout):
    """The same values stored contiguously, transposed (Fortran order) or as every other element."""
    if layout == "transposed" and values.ndim >= 2:
        return np.asfortranarray(values)
    if layout == "strided" and values.ndim >= 1:
        buffer = np.zeros(values.shape[:-1] + (2 * values.shape[-1],), values.dtype)
        buffer[..., ::2] = values
        return buffer[..., ::2]
    return np.ascontiguousarray(values)


def shapes(min_dims=1, max_dims=4, max_side=5):
    return st.lists(st.integers(1, max_side), min_size=min_dims, max_size=max_dims).map(tuple)


def _leaf(lib, array, grad, device="cpu"):
    if lib is torch:
        t = torch.tensor(array)
        return t.requires_grad_(True) if grad else t
    t = tinytorch.from_numpy(array)
    if device != "cpu":
        t = t.to(device)
    return t.requires_grad_(True) if grad else t


def _run(lib, fn, arrays, grads, device="cpu"):
    leaves = [_leaf(lib, a, g, device) if isinstance(a, np.ndarray) else a for a, g in zip(arrays, grads)]
    out = fn(*leaves)
    if any(grads):
        w = np.random.default_rng(7).standard_normal(tuple(out.shape))
        (out * _leaf(lib, w.astype(_numpy(out).dtype), False, device)).sum().backward()
    got = [t.grad for t, g in zip(leaves, grads) if g]
    return out, got, leaves


def _numpy(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.numpy(force=True)


def three_way(fused, naive, reference, arrays, grads=None, atol=1e-9, rtol=1e-7, device="cpu"):
    """Run fused and naive (tinytorch, on `device`) and reference (torch, on the CPU) on the same
    arrays; compare the outputs and the gradients of sum(out * w) w.r.t. every input marked in
    `grads` (default: the floating ones). Gradient shapes must equal input shapes exactly.
    Returns the three outputs."""
    if grads is None:
        grads = [isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in arrays]
    expected, expected_grads, _ = _run(torch, reference, [a.copy() if isinstance(a, np.ndarray) else a
                                                          for a in arrays], grads)
    outs = []
    for name, fn in (("fused", fused), ("naive", naive)):
        out, got, leaves = _run(tinytorch, fn, [a.copy() if isinstance(a, np.ndarray) else a for a in arrays]
                                if name == "naive" else arrays, grads, device)
        assert out.device.type == device, f"{name} output is on {out.device}, not {device}"
        assert tuple(out.shape) == tuple(expected.shape), f"{name} output shape"
        tinytorch.testing.assert_close(_numpy(out), _numpy(expected), atol=atol, rtol=rtol, name=f"{name} output")
        for k, (g, e, leaf) in enumerate(zip(got, expected_grads, [x for x, f in zip(leaves, grads) if f])):
            assert g is not None, f"{name}: input {k} got no gradient"
            assert tuple(g.shape) == tuple(leaf.shape), f"{name}: grad shape {tuple(g.shape)} != {tuple(leaf.shape)}"
            tinytorch.testing.assert_close(_numpy(g), _numpy(e), atol=atol, rtol=rtol, name=f"{name} grad {k}")
        outs.append(out)
    return outs + [expected]


@st.composite
def float_arrays(draw, shape_strategy=None, scale=2.0):
    """A float64 array of a drawn shape and layout, values from a drawn seed."""
    shape = draw(shape_strategy or shapes())
    seed = draw(st.integers(0, 2 ** 16))
    values = np.random.default_rng(seed).uniform(-scale, scale, shape)
    return lay_out(values, draw(st.sampled_from(LAYOUTS)))


def dim_of(ndim):
    return st.integers(-ndim, ndim - 1)


# ---- softmax family ----

@on_devices
@given(st.data())
def test_softmax_and_log_softmax_match_naive_and_torch(device, data):
    x = data.draw(float_arrays(scale=5.0))
    dim = data.draw(dim_of(x.ndim))
    three_way(lambda t: F.softmax(t, dim), lambda t: F.softmax_naive(t, dim), lambda t: TF.softmax(t, dim), [x],
              device=device)
    three_way(lambda t: F.log_softmax(t, dim), lambda t: F.log_softmax_naive(t, dim),
              lambda t: TF.log_softmax(t, dim), [x], device=device)


def test_softmax_dtype_argument_and_legacy_dim():
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    out = F.softmax(tinytorch.tensor(x), dim=-1, dtype=tinytorch.float64)
    assert out.dtype == tinytorch.float64
    with pytest.warns(UserWarning, match="Implicit dimension"):
        implicit = F.softmax(tinytorch.tensor(x))
    tinytorch.testing.assert_close(implicit, TF.softmax(torch.tensor(x), dim=1), atol=1e-6)
    assert tinytorch.tensor(x).softmax(0).shape == (3, 4)


# ---- pointwise activations ----

POINTWISE = {
    "tanh": (F.tanh, F.tanh_naive, TF.tanh),
    "sigmoid": (F.sigmoid, F.sigmoid_naive, TF.sigmoid),
    "relu": (F.relu, F.relu_naive, TF.relu),
    "silu": (F.silu, F.silu_naive, TF.silu),
    "gelu": (F.gelu, F.gelu_naive, TF.gelu),
    "gelu_tanh": (lambda t: F.gelu(t, approximate="tanh"), lambda t: F.gelu_naive(t, approximate="tanh"),
                  lambda t: TF.gelu(t, approximate="tanh")),
}


@on_devices
@pytest.mark.parametrize("name", sorted(POINTWISE))
@given(x=float_arrays(scale=6.0))
def test_pointwise_activation_matches_naive_and_torch(device, name, x):
    fused, naive, reference = POINTWISE[name]
    three_way(fused, naive, reference, [x], device=device)


@pytest.mark.parametrize("dtype,rel", [(np.float64, 1e-13), (np.float32, 2e-5)])
def test_normal_cdf_is_accurate_to_the_dtype(dtype, rel):
    x = np.linspace(-12, 12, 20001).astype(dtype)
    expected = np.array([0.5 * math.erfc(-float(v) / math.sqrt(2)) for v in x])
    got = normal_cdf(x)
    assert got.dtype == dtype
    meaningful = expected > 1e-30
    assert np.max(np.abs(got[meaningful] / expected[meaningful] - 1)) < rel
    assert np.max(np.abs(got - expected)) < (1e-15 if dtype == np.float64 else 3e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "tanh", "sigmoid", "gelu", "gelu_tanh", "silu"])
def test_activation_stays_finite_at_extreme_inputs(name, dtype):
    ops = {"softmax": lambda t: F.softmax(t, -1), "log_softmax": lambda t: F.log_softmax(t, -1),
           **{k: v[0] for k, v in POINTWISE.items()}}
    refs = {"softmax": lambda t: TF.softmax(t, -1), "log_softmax": lambda t: TF.log_softmax(t, -1),
            **{k: v[2] for k, v in POINTWISE.items()}}
    x = np.array([[1e4, -1e4, 0.0, 3.0], [-1e4, -1e4, -1e4, 1e4]], dtype)
    mine = tinytorch.tensor(x, requires_grad=True)
    out = ops[name](mine)
    out.sum().backward()
    theirs = torch.tensor(x, requires_grad=True)
    ref = refs[name](theirs)
    ref.sum().backward()
    assert out.dtype.name == np.dtype(dtype).name and mine.grad.dtype.name == np.dtype(dtype).name
    assert np.isfinite(out.numpy(force=True)).all() and np.isfinite(mine.grad.numpy()).all()
    tinytorch.testing.assert_close(out, ref, atol=1e-3, rtol=1e-5)
    tinytorch.testing.assert_close(mine.grad, theirs.grad, atol=1e-5, rtol=1e-5)


def rows_of_many_scales(dtype, n_rows=600, width=9):
    """Logits whose rows lie far apart (+80, -80, x20), in one block of rows, with a row of -inf."""
    x = np.random.default_rng(3).standard_normal((n_rows, width)) * 3
    x[::4] += 80
    x[1::4] -= 80
    x[2::4] *= 20
    x[3] = -np.inf
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_keeps_precision_in_rows_far_below_the_block_max(dtype):
    """fused_common.exp_rows shifts a block of rows by the block's max and redoes the rows whose
    terms that would underflow: every probability above 1e-30 keeps its relative precision."""
    x = rows_of_many_scales(dtype)
    mine = tinytorch.tensor(x, requires_grad=True)
    out = F.softmax(mine, -1)
    exact = torch.softmax(torch.tensor(x.astype(np.float64)), -1).numpy()
    got = out.numpy(force=True)
    assert np.isnan(got[3]).all() and np.isnan(exact[3]).all()   # a row of -inf is nan, as in torch
    kept = exact > 1e-30
    assert np.max(np.abs(got[kept] / exact[kept] - 1)) < (1e-4 if dtype == np.float32 else 1e-11)
    w = np.random.default_rng(4).standard_normal(x.shape).astype(dtype)
    (out[4:] * tinytorch.tensor(w[4:])).sum().backward()
    theirs = torch.tensor(x, requires_grad=True)
    (torch.softmax(theirs, -1)[4:] * torch.tensor(w[4:])).sum().backward()
    tinytorch.testing.assert_close(mine.grad[4:], theirs.grad[4:], atol=1e-6 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_matches_torch_on_rows_far_apart(dtype):
    x = np.delete(rows_of_many_scales(dtype), 3, axis=0)
    target = np.random.default_rng(5).integers(0, x.shape[1], x.shape[0])
    tol = dict(atol=1e-5, rtol=1e-5) if dtype == np.float32 else dict(atol=1e-12, rtol=1e-12)
    for smoothing in (0.0, 0.1):
        three_way(lambda t, y: F.cross_entropy(t, y, label_smoothing=smoothing),
                  lambda t, y: F.cross_entropy_naive(t, y, label_smoothing=smoothing),
                  lambda t, y: TF.cross_entropy(t, y, label_smoothing=smoothing), [x, target], [True, False], **tol)


def test_relu_inplace_writes_into_the_input_without_grad():
    x = tinytorch.tensor([-1.0, 2.0])
    assert F.relu(x, inplace=True) is x and x.tolist() == [0.0, 2.0]


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(tinytorch.ones(2), approximate="erf")


# ---- dropout ----

@given(x=float_arrays(), p=st.sampled_from([0.1, 0.5, 0.9]), seed=st.integers(0, 100))
def test_dropout_fused_equals_naive_with_the_same_draws(x, p, seed):
    grads = []
    outs = []
    for fn in (F.dropout, F.dropout_naive):
        tinytorch.manual_seed(seed)
        t = tinytorch.from_numpy(x.copy()).requires_grad_(True)
        out = fn(t, p, True)
        (out * out).sum().backward()
        outs.append(out.numpy(force=True))
        grads.append(t.grad.numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-12, atol=0)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=0)
    kept = outs[0] != 0
    np.testing.assert_allclose(outs[0][kept], x[kept] / (1 - p), rtol=1e-12)


def test_dropout_keeps_about_1_minus_p_and_respects_training_and_p():
    tinytorch.manual_seed(0)
    x = tinytorch.ones(200_000)
    kept = (F.dropout(x, 0.3) != 0).float().mean().item()
    assert abs(kept - 0.7) < 0.01
    assert F.dropout(x, 0.3, training=False) is x
    assert (F.dropout(x, 1.0) == 0).all().item()
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.5)


# ---- float32 in, float32 out ----

def test_float32_stays_float32_forward_and_backward():
    rng = np.random.default_rng(0)
    x = tinytorch.tensor(rng.standard_normal((4, 6)).astype(np.float32), requires_grad=True)
    w = tinytorch.tensor(rng.standard_normal(6).astype(np.float32), requires_grad=True)
    b = tinytorch.tensor(rng.standard_normal(6).astype(np.float32), requires_grad=True)
    W = tinytorch.tensor(rng.standard_normal((5, 6)).astype(np.float32), requires_grad=True)
    target = tinytorch.tensor([0, 1, 2, -100])
    outs = [F.softmax(x, -1), F.log_softmax(x, 0), F.gelu(x), F.gelu(x, approximate="tanh"), F.silu(x),
            F.dropout(x, 0.2), F.layer_norm(x, (6,), w, b), F.batch_norm(x, None, None, w, b, training=True),
            F.linear(x, W, b[:5]), F.embedding(tinytorch.tensor([1, 1, 3]), x),
            F.cross_entropy(x, target, label_smoothing=0.1), F.nll_loss(x, target), F.mse_loss(x, x * 0.5),
            F.scaled_dot_product_attention(x[None], x[None], x[None], is_causal=True)]
    for out in outs:
        assert out.dtype == tinytorch.float32, out
        out.sum().backward()
        for t in (x, w, b, W):
            assert t.grad is None or t.grad.dtype == tinytorch.float32


# ---- kernel dispatch ----

def test_float32_softmax_layer_norm_and_tanh_gelu_go_through_the_backend_kernels(monkeypatch):
    import tinytorch.backends as backends
    asked = []
    real = backends.get_kernel
    monkeypatch.setattr(backends, "get_kernel", lambda name, xp: asked.append(name) or real(name, xp))
    monkeypatch.setattr(F, "_chosen_kernels", {})    # forget the choices earlier tests cached
    x = tinytorch.randn(3, 5, requires_grad=True)
    F.softmax(x, -1).sum().backward()
    F.layer_norm(x, (5,), tinytorch.ones(5), tinytorch.zeros(5)).sum().backward()
    F.gelu(x, approximate="tanh").sum().backward()
    assert asked == ["softmax_forward", "softmax_backward", "layernorm_forward", "layernorm_backward",
                     "gelu_forward", "gelu_backward"]
    asked.clear()
    F.softmax(x, -1)                                      # asked once per setting, then remembered
    assert asked == []
    F.softmax(x, 0)                                       # not the last axis: the xp code
    F.softmax(x.double(), -1)                             # float64: the xp code
    F.layer_norm(x, (3, 5))                               # two normalized dims: the xp code
    F.gelu(x)                                             # the exact form: the xp code
    assert asked == []


@pytest.mark.parametrize("kernels", ["numpy", "numba"])
def test_float32_softmax_layer_norm_and_gelu_match_torch_with_either_backend(kernels, monkeypatch):
    import tinytorch.backends as backends
    monkeypatch.setattr(backends, "kernels", kernels)
    rng = np.random.default_rng(0)
    x = lay_out(rng.standard_normal((6, 2, 13)).astype(np.float32), "strided")
    w, b = rng.standard_normal(13).astype(np.float32), rng.standard_normal(13).astype(np.float32)
    three_way(lambda t: F.softmax(t, -1), lambda t: F.softmax_naive(t, -1), lambda t: TF.softmax(t, -1), [x],
              atol=1e-6, rtol=1e-5)
    three_way(lambda t, w, b: F.layer_norm(t, (13,), w, b), lambda t, w, b: F.layer_norm_naive(t, (13,), w, b),
              lambda t, w, b: TF.layer_norm(t, (13,), w, b), [x, w, b], atol=1e-5, rtol=1e-4)
    three_way(lambda t: F.gelu(t * 3, approximate="tanh"), lambda t: F.gelu_naive(t * 3, approximate="tanh"),
              lambda t: TF.gelu(t * 3, approximate="tanh"), [x], atol=1e-5, rtol=1e-4)


def test_unsupported_functional_name_says_so():
    with pytest.raises(AttributeError, match=r"does not support 'torch.nn.functional.grid_sample' yet"):
        F.grid_sample
