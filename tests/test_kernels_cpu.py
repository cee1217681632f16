"""Every Numba CPU kernel version against its oracle (kernels/reference.py, or the NumPy entry in
kernels/numpy), the NumPy entries against the oracles, and the oracles against torch.

Awkward shapes (1, 7, 13, 33, 65: not multiples of a SIMD width, a 4x4 tile or a cache block)
for every version, forward and backward; float64 through the entry points; -inf, NaN and
large-offset inputs; bad arguments; torch's normal samples bit for bit.
"""
import importlib
import math

import numpy as np
import pytest

from tinytorch import backends
from tinytorch.kernels import ORACLE_NAMES, cpu, reference
from tinytorch.kernels.validate import IN_PLACE_NAMES, check_in_place, check_outputs, make_args

ROW_SHAPES = [(1, 1), (7, 13), (13, 33), (33, 65), (2, 3, 65)]  # (..., C)
# (M, K, N); the last one crosses matmul v3's cache blocks (KC = 1024 deep, NC = 256 wide, MC = 64 rows)
MATMUL_SHAPES = [(1, 1, 1), (7, 13, 33), (65, 33, 7), (13, 65, 65), (67, 1030, 263)]
# (rows, H) of an LSTM step (the word-level language model's is (20, 200)); a parameter's shape for SGD,
# the last one filling more than one thread
IN_PLACE_SHAPES = {"lstm_cell_forward_": [(1, 1), (7, 13), (3, 33), (20, 200), (2, 65)],
                   "lstm_cell_backward_": [(1, 1), (7, 13), (3, 33), (20, 200), (2, 65)],
                   "sgd_update_": [(1,), (7, 13), (1000,), (33, 65), (300007,)]}

VERSIONS = [(name, kernel) for name, kernels in cpu.VERSIONS.items() for kernel in kernels]
BOTH = pytest.mark.parametrize("package", ["numpy", "cpu"])  # a kernel's NumPy entry and its Numba twin


def entry(package, name):
    """The entry point of kernel `name` in kernels/<package>."""
    return getattr(importlib.import_module(f"tinytorch.kernels.{package}.{backends._MODULES[name]}"), name)


def shapes_for(name):
    return MATMUL_SHAPES if name == "matmul" else ROW_SHAPES


@pytest.mark.parametrize("case", range(len(ROW_SHAPES)))
@pytest.mark.parametrize("name,kernel", VERSIONS, ids=[k.__name__ for _, k in VERSIONS])
def test_version_matches_oracle(name, kernel, case):
    args = make_args(name, shapes_for(name)[case], np.random.default_rng(case))
    check_outputs(name, kernel(*args), args)


@pytest.mark.parametrize("case", range(len(ROW_SHAPES)))
@pytest.mark.parametrize("name", ORACLE_NAMES)
def test_numpy_entries_match_the_oracles(name, case):
    module = importlib.import_module(f"tinytorch.kernels.numpy.{backends._MODULES[name]}")
    for dtype in (np.float32, np.float64):
        args = make_args(name, shapes_for(name)[case], np.random.default_rng(case), dtype)
        check_outputs(name, getattr(module, name)(*args), args)


@pytest.mark.parametrize("name", ORACLE_NAMES)
def test_entry_points_keep_float64_precision(name):
    args = make_args(name, (33, 13, 7) if name == "matmul" else (7, 65), np.random.default_rng(1), np.float64)
    check_outputs(name, getattr(cpu, name)(*args), args)


@pytest.mark.parametrize("name", ORACLE_NAMES)
def test_entry_points_accept_non_contiguous_inputs(name):
    args = make_args(name, (13, 33, 7) if name == "matmul" else (7, 33), np.random.default_rng(2))
    strided = tuple(np.asfortranarray(a) if isinstance(a, np.ndarray) else a for a in args)
    assert not strided[0].flags.c_contiguous or strided[0].ndim == 1
    check_outputs(name, getattr(cpu, name)(*strided), args)


@pytest.mark.parametrize("forward", cpu.VERSIONS["softmax_forward"], ids=lambda f: f.__name__)
def test_softmax_masked_entries_are_exact_zeros(forward):
    x = np.random.default_rng(3).standard_normal((5, 37)).astype(np.float32)
    mask = np.triu(np.ones((5, 37), bool), k=1)
    x[mask] = -np.inf
    out = forward(x)
    assert (out[mask] == 0).all()
    check_outputs("softmax_forward", out, (x,))


def test_softmax_is_stable_for_large_logits_and_propagates_nan():
    x = np.random.default_rng(4).standard_normal((4, 65)).astype(np.float32) * 1000
    check_outputs("softmax_forward", cpu.softmax_forward(x), (x,))
    x[2, 40] = np.nan
    out = cpu.softmax_forward(x)
    assert np.isnan(out[2]).all() and np.isfinite(out[[0, 1, 3]]).all()


@pytest.mark.parametrize("forward", cpu.VERSIONS["layernorm_forward"], ids=lambda f: f.__name__)
def test_layernorm_statistics_survive_a_large_offset(forward):
    """x = 1000 + noise: E[x^2] - E[x]^2 in float32 would lose the variance; shifted sums keep it."""
    x64 = 1000 + np.random.default_rng(5).standard_normal((8, 768))
    w, b = np.ones(768, np.float32), np.zeros(768, np.float32)
    out, mean, rstd = forward(x64.astype(np.float32), w, b, 1e-5)
    _, mean64, rstd64 = reference.layernorm_forward(x64, w.astype(np.float64), b.astype(np.float64))
    np.testing.assert_allclose(rstd, rstd64, rtol=1e-3)
    np.testing.assert_allclose(mean, mean64, rtol=1e-6)


@pytest.mark.parametrize("call, message", [
    (lambda: cpu.matmul(np.ones((3, 4), np.float32), np.ones((5, 6), np.float32)), r"matmul.*\(3, 4\).*\(5, 6\)"),
    (lambda: cpu.matmul(np.ones((3, 4), np.float32), np.ones((2, 4, 6), np.float32)), r"matmul.*\(2, 4, 6\)"),
    (lambda: cpu.matmul(np.ones((3, 4), np.float32), np.ones((4, 6))), r"matmul.*float32.*float64"),
    (lambda: cpu.softmax_forward(np.ones((3, 4), np.int64)), r"softmax_forward.*int64"),
    (lambda: cpu.softmax_forward(np.ones((3, 0), np.float32)), r"softmax_forward.*\(3, 0\)"),
    (lambda: cpu.softmax_backward(np.ones((3, 4), np.float32), np.ones((3, 5), np.float32)),
     r"softmax_backward.*\(3, 4\)"),
    (lambda: cpu.layernorm_forward(np.ones((3, 4), np.float32), np.ones(5, np.float32), np.ones(4, np.float32)),
     r"layernorm_forward.*w.*\(4,\).*\(5,\)"),
    (lambda: cpu.layernorm_backward(*(np.ones((3, 4), np.float32),) * 2, np.ones(4, np.float32),
                                    np.ones(3, np.float32), np.ones(4, np.float32)), r"layernorm_backward.*rstd.*\(3,\)"),
])
def test_bad_arguments_raise_a_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.torch
def test_oracles_match_torch():
    """The oracles (and the backward formulas in their docstrings) agree with torch autograd."""
    import torch

    rng = np.random.default_rng(6)
    a, b = rng.standard_normal((2, 7, 13)), rng.standard_normal((13, 5))
    np.testing.assert_allclose(reference.matmul(a, b), torch.from_numpy(a) @ torch.from_numpy(b), rtol=1e-12)

    x = torch.tensor(rng.standard_normal((3, 5, 33)), requires_grad=True)
    dout = torch.tensor(rng.standard_normal((3, 5, 33)))
    w, bias = (torch.tensor(rng.standard_normal(33), requires_grad=True) for _ in range(2))
    out = torch.softmax(x, -1)
    out.backward(dout)
    np.testing.assert_allclose(reference.softmax_forward(x.detach().numpy()), out.detach(), rtol=1e-12)
    np.testing.assert_allclose(reference.softmax_backward(dout.numpy(), out.detach().numpy()), x.grad, rtol=1e-10)

    x.grad = None
    out = torch.nn.functional.layer_norm(x, (33,), w, bias, 1e-5)
    out.backward(dout)
    got, mean, rstd = reference.layernorm_forward(x.detach().numpy(), w.detach().numpy(), bias.detach().numpy())
    np.testing.assert_allclose(got, out.detach(), rtol=1e-10, atol=1e-12)
    grads = reference.layernorm_backward(dout.numpy(), x.detach().numpy(), w.detach().numpy(), mean, rstd)
    for mine, theirs in zip(grads, (x.grad, w.grad, bias.grad)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-12)


@BOTH
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embedding_backward_adds_repeated_indices(dtype, package):
    embedding_backward = entry(package, "embedding_backward")
    rng = np.random.default_rng(7)
    idx = rng.integers(0, 9, 200)                      # every index repeats; some of 0..10 never occur
    rows = rng.standard_normal((200, 33)).astype(dtype)
    expected = np.zeros((11, 33), dtype)
    np.add.at(expected, idx, rows)
    got = embedding_backward(idx, rows, 11)
    assert got.dtype == dtype and got.shape == (11, 33)
    np.testing.assert_allclose(got, expected, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)


@BOTH
def test_embedding_backward_refuses_bad_indices_and_shapes(package):
    embedding_backward = entry(package, "embedding_backward")
    rows = np.ones((3, 4), np.float32)
    with pytest.raises(ValueError, match=r"embedding_backward.*\[0, 5\).*\[0, 5\]"):
        embedding_backward(np.array([0, 5, 1]), rows, 5)
    with pytest.raises(ValueError, match=r"embedding_backward.*idx \(2,\).*rows \(3, 4\)"):
        embedding_backward(np.array([0, 1]), rows, 5)


@pytest.mark.parametrize("kernels", ["numpy", "numba"])
def test_embedding_gradient_matches_torch(kernels, kernels_used):
    import torch

    import tinytorch
    import tinytorch.nn.functional as F
    rng = np.random.default_rng(8)
    idx, w = rng.integers(0, 6, (4, 9)), rng.standard_normal((6, 5)).astype(np.float32)
    g = rng.standard_normal((4, 9, 5))
    ours = tinytorch.tensor(w, requires_grad=True)
    with backends.using(kernels=kernels):
        F.embedding(tinytorch.tensor(idx), ours).backward(tinytorch.tensor(g.astype(np.float32)))
    package = "cpu" if kernels == "numba" else "numpy"
    assert kernels_used["embedding_backward"] == {f"tinytorch.kernels.{package}.embedding"}
    theirs = torch.tensor(w, requires_grad=True)
    torch.nn.functional.embedding(torch.tensor(idx), theirs).backward(torch.tensor(g, dtype=torch.float32))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("causal,q0,scale", [(False, 0, 0.3), (True, 0, 0.3), (True, 3, 1.0), (True, 0, -2.0)])
@BOTH
def test_attention_softmax_in_place_matches_the_masked_oracle(causal, q0, scale, package):
    attention_softmax_forward_ = entry(package, "attention_softmax_forward_")
    attention_softmax_backward_ = entry(package, "attention_softmax_backward_")
    rng = np.random.default_rng(9)
    s, dp = rng.standard_normal((2, 3, 5, 9)).astype(np.float32), rng.standard_normal((2, 3, 5, 9)).astype(np.float32)
    sees = np.arange(9)[None, :] <= q0 + np.arange(5)[:, None] if causal else np.ones((5, 9), bool)
    expected = reference.softmax_forward(np.where(sees, s * scale, -np.inf))
    p = attention_softmax_forward_(s.copy(), scale, causal, q0)
    check_outputs("softmax_forward", p, (np.where(sees, s * scale, -np.inf),))
    assert (p[..., ~sees] == 0).all()
    ds = attention_softmax_backward_(dp.copy(), expected, scale)
    np.testing.assert_allclose(ds, scale * reference.softmax_backward(dp, expected), rtol=1e-4, atol=1e-6)


@BOTH
def test_attention_softmax_in_place_refuses_strided_or_mismatched_arrays(package):
    attention_softmax_forward_ = entry(package, "attention_softmax_forward_")
    attention_softmax_backward_ = entry(package, "attention_softmax_backward_")
    with pytest.raises(ValueError, match=r"attention_softmax_forward_.*C-contiguous.*\(4, 3\)"):
        attention_softmax_forward_(np.ones((3, 4), np.float32).T, 1.0, True)
    with pytest.raises(ValueError, match=r"attention_softmax_backward_.*\(2, 3\).*\(2, 4\)"):
        attention_softmax_backward_(np.ones((2, 3), np.float32), np.ones((2, 4), np.float32), 1.0)


@BOTH
def test_cross_entropy_kernels_match_log_softmax_in_float64_and_refuse_bad_shapes(package):
    cross_entropy_forward = entry(package, "cross_entropy_forward")
    cross_entropy_backward = entry(package, "cross_entropy_backward")
    rng = np.random.default_rng(10)
    x, t = rng.standard_normal((9, 7)) * 3, rng.integers(0, 7, 9)
    t[4] = -100
    log_p = x - x.max(1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(1, keepdims=True))
    loss, stats, counted = cross_entropy_forward(x, t, -100)
    expected = np.where(t == -100, 0.0, -log_p[np.arange(9), np.maximum(t, 0)])
    assert counted == 8
    np.testing.assert_allclose(loss, expected, rtol=1e-12, atol=1e-12)
    coef = rng.standard_normal(9)
    onehot = np.eye(7)[np.maximum(t, 0)]
    expected_dx = np.where((t == -100)[:, None], 0.0, coef[:, None] * (np.exp(log_p) - onehot))
    np.testing.assert_allclose(cross_entropy_backward(x, t, -100, stats, coef), expected_dx, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match=r"cross_entropy_forward.*\(9, 7\).*\(8,\)"):
        cross_entropy_forward(x, t[:8], -100)


@BOTH
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gelu_backward_and_forward_matches_both_oracles_and_writes_over_dout(dtype, package):
    gelu_backward_and_forward_ = entry(package, "gelu_backward_and_forward_")
    rng = np.random.default_rng(11)
    x, dout = (rng.standard_normal((7, 33)) * 3).astype(dtype), rng.standard_normal((7, 33)).astype(dtype)
    written = dout.copy()
    dx, y = gelu_backward_and_forward_(written, x)
    assert dx is written
    check_outputs("gelu_backward", dx, (dout, x))
    check_outputs("gelu_forward", y, (x,))
    with pytest.raises(ValueError, match=r"gelu_backward_and_forward_: dout \(33, 7\) must be C-contiguous"):
        gelu_backward_and_forward_(np.ones((7, 33), dtype).T, x.T)


def awkward_uniforms(n, rng):
    """float32 uniforms on torch's 24-bit grid, with the edges (0, 2^-24, 1 - 2^-24) and values around
    sqrt(1/2), where log's mantissa range switches, and around each octant of sincos."""
    u = (rng.integers(0, 2 ** 24, n) * 2.0 ** -24).astype(np.float32)
    edges = np.array([0, 2 ** -24, 1 - 2 ** -24, 0.5, 0.25, 1 - 0.70710677, 1 - 0.70710683, 0.125, 0.375, 0.625,
                      0.875, 0.999, 1e-7, 0.3, 0.6, 0.9], np.float32)
    u[:16] = edges
    return u


@pytest.mark.parametrize("mean,std", [(0.0, 1.0), (0.5, 0.02), (-3.0, 7.5)])
def test_box_muller_blocks_numba_gives_the_numpy_bits(mean, std):
    u = awkward_uniforms(16 * 4099, np.random.default_rng(12))
    expected = entry("numpy", "box_muller_blocks")(u, mean, std)
    got = entry("cpu", "box_muller_blocks")(u, mean, std)
    assert got.dtype == np.float32 and np.array_equal(got.view(np.int32), expected.view(np.int32))


def test_box_muller_blocks_numba_refuses_what_is_not_float32_blocks():
    with pytest.raises(ValueError, match=r"box_muller_blocks: needs float32 uniforms \(16k,\).*float64"):
        entry("cpu", "box_muller_blocks")(np.zeros(16), 0.0, 1.0)
    with pytest.raises(ValueError, match=r"box_muller_blocks.*\(17,\)"):
        entry("cpu", "box_muller_blocks")(np.zeros(17, np.float32), 0.0, 1.0)


@pytest.mark.parametrize("decoupled,maximize,weight_decay",
                         [(True, False, 0.1), (False, True, 0.01), (False, False, 0.0)])
def test_adam_update_numba_matches_the_numpy_entry(decoupled, maximize, weight_decay):
    rng = np.random.default_rng(13)
    arrays = [rng.standard_normal(1000).astype(np.float32) for _ in range(3)] + [rng.random(1000).astype(np.float32)]
    results = []
    for package in ("numpy", "cpu"):
        p, g, m, v = (a.copy() for a in arrays)
        for step in (1, 2, 3):
            entry(package, "adam_update_")(p, g, m, v, 1e-2, 0.9, 0.999, 1e-8, weight_decay, decoupled, maximize, step)
        results.append((p, m, v))
    for mine, oracle in zip(*results):
        np.testing.assert_allclose(mine, oracle, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("exponent", [3, 3.0, 2, 0.5, -1, 5, 1.5])
def test_power_numba_gives_the_numpy_bits(exponent):
    rng = np.random.default_rng(14)
    a, g = rng.standard_normal((7, 65)).astype(np.float32), rng.standard_normal((7, 65)).astype(np.float32)
    a[0, :4] = [0.0, -0.0, np.inf, np.nan]
    with np.errstate(all="ignore"):
        for name, args in (("power", (a, exponent)), ("power_backward", (g, a, exponent))):
            expected, got = entry("numpy", name)(*args), entry("cpu", name)(*args)
            assert got.dtype == np.float32 and np.array_equal(got, expected, equal_nan=True), name


def _heads(layout, rng, shape):
    """q, k, v (B, H, T, D) float32 in a layout: "contiguous"; "qkv", strided views of one (B, T, 3, H, D)
    projection as the GPT makes them; "odd", a reversed batch axis and a strided head dim (the
    kernel copies them first)."""
    B, H, T, D = shape
    if layout == "contiguous":
        return [rng.standard_normal(shape).astype(np.float32) for _ in range(3)]
    if layout == "qkv":
        qkv = rng.standard_normal((B, T, 3, H, D)).astype(np.float32)
        return [qkv[:, :, i].transpose(0, 2, 1, 3) for i in range(3)]
    return [rng.standard_normal((B, H, T, 2 * D)).astype(np.float32)[::-1, :, :, ::2] for _ in range(3)]


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (2, 3, 17, 7), (1, 2, 33, 40), (3, 2, 16, 16), (2, 1, 5, 3)])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("layout", ["contiguous", "qkv", "odd"])
@BOTH
def test_attention_heads_kernels_match_torch(shape, causal, layout, package):
    """The whole-head kernels (forward: out and P; backward: dq, dk, dv written into the arrays given,
    here in q's odd layouts too) against torch's scaled_dot_product_attention in float64."""
    import torch
    forward, backward = entry(package, "attention_heads_forward_"), entry(package, "attention_heads_backward_")
    rng = np.random.default_rng(11)
    q, k, v = _heads(layout, rng, shape)
    g = rng.standard_normal(shape).astype(np.float32)
    T, scale = shape[2], 0.7
    out, p = np.empty_like(q), np.full(shape[:3] + (T,), np.nan, np.float32)
    assert all(a is b for a, b in zip(forward(q, k, v, scale, causal, out, p), (out, p)))
    dq, dk, dv = (np.full_like(a, np.nan) for a in _heads(layout, rng, shape))
    assert all(a is b for a, b in zip(backward(q, k, v, p, g, scale, causal, dq, dk, dv), (dq, dk, dv)))
    tq, tk, tv = (torch.tensor(a.astype(np.float64), requires_grad=True) for a in (q, k, v))
    expected = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, is_causal=causal, scale=scale)
    expected.backward(torch.tensor(g, dtype=torch.float64))
    weights = torch.softmax(tq.detach() @ tk.detach().transpose(-1, -2) * scale +
                            (torch.ones(T, T).tril().log() if causal else 0), -1)
    for ours, theirs in ((out, expected), (p, weights), (dq, tq.grad), (dk, tk.grad), (dv, tv.grad)):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-4, atol=1e-5)
    if causal:
        assert (p[..., np.triu_indices(T, 1)[0], np.triu_indices(T, 1)[1]] == 0).all()  # masked: exact zeros


@BOTH
def test_attention_heads_kernels_refuse_bad_shapes(package):
    forward, backward = entry(package, "attention_heads_forward_"), entry(package, "attention_heads_backward_")
    q = np.ones((1, 2, 3, 4), np.float32)
    with pytest.raises(ValueError, match=r"attention_heads_forward_.*p must have shape \(1, 2, 3, 3\)"):
        forward(q, q, q, 1.0, True, np.empty_like(q), np.empty((1, 2, 3, 4), np.float32))
    with pytest.raises(ValueError, match=r"attention_heads_forward_.*\(B, H, T, D\).*\(2, 3, 4\)"):
        forward(q[0], q[0], q[0], 1.0, True, q[0], np.empty((2, 3, 3), np.float32))
    with pytest.raises(ValueError, match=r"attention_heads_backward_.*dk must have shape \(1, 2, 3, 4\)"):
        backward(q, q, q, np.ones((1, 2, 3, 3), np.float32), q, 1.0, False, q.copy(), q[:, :1].copy(), q.copy())


def test_attention_heads_numba_kernel_takes_float32_only():
    from tinytorch.kernels.cpu.attention import attention_heads_forward_
    q = np.ones((1, 1, 2, 2))
    with pytest.raises(ValueError, match="attention_heads_forward_.*float32.*float64"):
        attention_heads_forward_(q, q, q, 1.0, True, np.empty_like(q), np.empty_like(q))


@pytest.mark.parametrize("case", range(5))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", IN_PLACE_NAMES)
def test_in_place_numba_kernels_match_the_numpy_entries(name, dtype, case):
    args = make_args(name, IN_PLACE_SHAPES[name][case], np.random.default_rng(case), dtype)
    check_in_place(name, entry("cpu", name), args)


@BOTH
def test_lstm_cell_backward_without_dy_is_the_backward_with_a_zero_dy(package):
    args = make_args("lstm_cell_backward_", (7, 13), np.random.default_rng(15))
    without, zero = [a.copy() for a in args], [a.copy() for a in args]
    without[3], zero[3] = None, np.zeros_like(args[3])
    for arrays in (without, zero):
        entry(package, "lstm_cell_backward_")(*arrays)
    for a, b in zip(without[4:], zero[4:]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)  # fast-math may contract the two differently


@BOTH
def test_lstm_cell_kernels_and_sgd_update_refuse_bad_shapes(package):
    forward, backward = entry(package, "lstm_cell_forward_"), entry(package, "lstm_cell_backward_")
    wide, narrow = np.ones((3, 8), np.float32), np.ones((3, 2), np.float32)
    with pytest.raises(ValueError, match=r"lstm_cell_forward_: hh must have shape \(3, 8\), got \(3, 4\)"):
        forward(wide.copy(), wide[:, :4], *(narrow.copy() for _ in range(5)))
    with pytest.raises(ValueError, match=r"lstm_cell_backward_: dy must have shape \(3, 2\), got \(2, 2\)"):
        backward(wide, narrow, narrow, narrow[:2], narrow.copy(), narrow.copy(), wide.copy())
    with pytest.raises(ValueError, match=r"lstm_cell_backward_: .*gates float32.*dc float64"):
        backward(wide, narrow, narrow, None, narrow.copy(), narrow.astype(np.float64), wide.copy())
    with pytest.raises(ValueError, match=r"sgd_update_: g must have shape \(3, 8\), got \(3, 2\)"):
        entry(package, "sgd_update_")(wide.copy(), narrow, 0.1)


def test_sgd_update_numba_refuses_a_strided_parameter():
    with pytest.raises(ValueError, match=r"sgd_update_: p \(8, 3\) must be C-contiguous"):
        entry("cpu", "sgd_update_")(np.ones((3, 8), np.float32).T, np.ones((8, 3), np.float32), 0.1)


@pytest.mark.torch
@pytest.mark.parametrize("lr", [0.37, 1.0, 1e-3])
def test_sgd_update_numba_gives_torchs_bits(lr):
    """torch's p.add_(g, alpha=-lr) rounds p + (-lr) g once (a fused multiply-add), as the kernel does."""
    import torch
    rng = np.random.default_rng(16)
    p, g = (rng.standard_normal(100003).astype(np.float32) for _ in range(2))
    expected = torch.from_numpy(p.copy()).add_(torch.from_numpy(g), alpha=-lr).numpy()
    entry("cpu", "sgd_update_")(p, g, lr)
    assert np.array_equal(p.view(np.int32), expected.view(np.int32))


# ---- torch's Mersenne Twister and dropout's product -------------------------------------------------

MT_THRESHOLDS = [0, 1, 2 ** 52, 7205759403792794, 2 ** 53]  # p = 0, 2^-53, 1/2, 0.8 (ceil(0.8 2^53)), 1


@pytest.mark.parametrize("pos", [0, 1, 2, 311, 622, 623, 624])
def test_mt19937_numba_gives_numpys_words_masks_and_state(pos):
    """From every kind of read position (even, odd, the last word before a twist, a twist first),
    counts that end before, at and after the 624-word twists: NumPy's bit generator's words, the
    masks of its pairs, and the same twisted state afterwards."""
    start = np.random.MT19937(9).state["state"]["key"].astype(np.uint32)
    for n in (0, 1, 2, 3, 311, 312, 313, 623, 624, 625, 1249, 5000):
        keys = {package: start.copy() for package in ("numpy", "cpu")}
        words = {package: entry(package, "mt19937_words")(keys[package], pos, n) for package in keys}
        assert words["cpu"].dtype == np.uint32 and np.array_equal(words["cpu"], words["numpy"]), n
        assert np.array_equal(keys["cpu"], keys["numpy"]), n
        for threshold in MT_THRESHOLDS:
            keys = {package: start.copy() for package in ("numpy", "cpu")}
            masks = {package: entry(package, "mt19937_bernoulli")(keys[package], pos, n, threshold) for package in keys}
            assert masks["cpu"].dtype == np.bool_ and np.array_equal(masks["cpu"], masks["numpy"]), (n, threshold)
            assert np.array_equal(keys["cpu"], keys["numpy"]), (n, threshold)


def test_mt19937_bernoulli_is_a_double_uniform_below_p():
    """[k < ceil(p 2^53)] is [u < p] for u = (64-bit draw & (2^53 - 1)) 2^-53, the double of torch's
    bernoulli_(p), at p next to and on the grid of the draws."""
    state = np.random.MT19937(3).state["state"]
    key, pos = state["key"].astype(np.uint32), state["pos"]
    words = np.random.MT19937(3).random_raw(2 * 4000).reshape(-1, 2)
    u = (((words[:, 0] << np.uint64(32)) | words[:, 1]) & np.uint64(2 ** 53 - 1)).astype(np.float64) * 2.0 ** -53
    for p in (0.8, 0.3, float(u[17]), np.nextafter(u[17], 0), np.nextafter(u[17], 1), 0.0, 1.0):
        mask = entry("cpu", "mt19937_bernoulli")(key.copy(), pos, u.size, int(np.ceil(p * 2.0 ** 53)))
        assert np.array_equal(mask, u < p), p


@BOTH
def test_mt19937_kernels_refuse_bad_state_and_arguments(package):
    words, bernoulli = entry(package, "mt19937_words"), entry(package, "mt19937_bernoulli")
    key = np.zeros(624, np.uint32)
    with pytest.raises(ValueError, match=r"mt19937_words: key must be the 624 state words.*uint64 \(624,\)"):
        words(key.astype(np.uint64), 0, 3)
    with pytest.raises(ValueError, match=r"mt19937_words: key .* uint32 \(623,\)"):
        words(key[:623], 0, 3)
    with pytest.raises(ValueError, match=r"mt19937_words: needs pos in \[0, 624\].*pos 625"):
        words(key, 625, 3)
    with pytest.raises(ValueError, match=r"mt19937_bernoulli: .*threshold 9007199254740993"):
        bernoulli(key, 0, 3, 2 ** 53 + 1)


@pytest.mark.parametrize("shape", [(1,), (7, 13), (35, 20, 200), (300007,)])
def test_masked_scale_numba_gives_the_numpy_bits(shape):
    """One pass, x * (scale where keep, else 0): the NumPy entry's bits, NaN for a dropped inf or NaN,
    a signed zero for a dropped -x; non-contiguous inputs too."""
    rng = np.random.default_rng(17)
    x = rng.standard_normal(shape).astype(np.float32)
    x.reshape(-1)[:4] = [np.inf, -np.inf, np.nan, -1.0][:x.size]
    keep = rng.random(shape) < 0.7
    keep.reshape(-1)[:4] = False
    scale = np.float32(1) / np.float32(0.7)
    for a, k in ((x, keep), (x.T, keep.T)):
        expected, got = entry("numpy", "masked_scale")(a, k, scale), entry("cpu", "masked_scale")(a, k, scale)
        assert got.dtype == np.float32 and got.shape == a.shape
        assert np.array_equal(got.view(np.int32), expected.view(np.int32))
    head = entry("cpu", "masked_scale")(x, keep, scale).reshape(-1)[:4]
    assert np.isnan(head[:3]).all() and (head.size < 4 or (head[3] == 0 and np.signbit(head[3])))


@BOTH
def test_masked_scale_refuses_a_mask_of_another_shape_or_dtype(package):
    x = np.ones((3, 4), np.float32)
    with pytest.raises(ValueError, match=r"masked_scale: keep must have shape \(3, 4\), got \(4, 3\)"):
        entry(package, "masked_scale")(x, np.ones((4, 3), bool), 2.0)
    with pytest.raises(ValueError, match=r"masked_scale: keep must be a bool array, got float32"):
        entry(package, "masked_scale")(x, x, 2.0)
    with pytest.raises(ValueError, match=r"masked_scale: needs floating-point arrays.*x int64"):
        entry(package, "masked_scale")(x.astype(np.int64), x > 0, 2.0)


# (x shape, kernel, stride, padding, dilation, groups): 2-d and 1-d, odd sides, groups, strides and dilations,
# padding past the kernel's reach, K = 1 (the transpositions), and a batch whose rows fill two threads
WINDOW_CASES = [((2, 3, 7, 5), (3, 3), (1, 1), (1, 1), (1, 1), 1),
                ((3, 6, 9, 7), (3, 2), (2, 1), (2, 1), (1, 2), 2),
                ((2, 4, 13), (5,), (3,), (2,), (2,), 4),
                ((1, 3, 5, 5), (1, 1), (2, 2), (0, 1), (1, 1), 3),
                ((2, 2, 4, 4), (2, 2), (1, 1), (3, 3), (1, 1), 1),
                ((2, 6, 4, 5), (1, 1), (1, 1), (0, 0), (1, 1), 2),
                ((1, 2, 1), (3,), (1,), (1,), (1,), 1),
                ((64, 4, 33, 35), (3, 3), (2, 1), (1, 0), (1, 1), 2)]


def window_args(case):
    """(shape, kernel, stride, padding, dilation, groups, out): out as a convolution padded on both sides has it."""
    shape, kernel, stride, padding, dilation, groups = case
    out = tuple((n + 2 * p - dl * (k - 1) - 1) // s + 1
                for n, k, s, p, dl in zip(shape[2:], kernel, stride, padding, dilation))
    return shape, kernel, stride, padding, dilation, groups, out


def im2col_by_definition(x, kernel, stride, padding, dilation, groups, out):
    """rows[i, (n, l), (c, k)] = x[n, i C/g + c, l s + k dl - p], 0 outside x, one window entry at a time."""
    n, per = x.shape[0], x.shape[1] // groups
    rows = np.zeros((groups, n) + out + (per,) + kernel, x.dtype)
    for l in np.ndindex(*out):
        for k in np.ndindex(*kernel):
            at = tuple(a * s + b * dl - p for a, b, s, dl, p in zip(l, k, stride, dilation, padding))
            if all(0 <= a < size for a, size in zip(at, x.shape[2:])):
                entry = x[(slice(None), slice(None)) + at].reshape(n, groups, per).transpose(1, 0, 2)
                rows[(slice(None), slice(None)) + l + (slice(None),) + k] = entry
    return rows.reshape(groups, n * math.prod(out), per * math.prod(kernel))


@pytest.fixture
def two_threads(monkeypatch):
    """Two threads for the Numba kernels, as if no other process kept a core busy."""
    monkeypatch.setattr(backends, "_free", None)
    monkeypatch.setattr(backends, "_next_sample", float("inf"))
    with backends.using(threads=2):
        yield


@BOTH
@pytest.mark.parametrize("case", WINDOW_CASES[:-1], ids=str)
def test_im2col_takes_the_windows_of_its_definition(case, package):
    shape, kernel, stride, padding, dilation, groups, out = window_args(case)
    x = np.random.default_rng(17).standard_normal(shape).astype(np.float32)
    expected = im2col_by_definition(x, kernel, stride, padding, dilation, groups, out)
    for layout in (x, np.asfortranarray(x), x[::-1].copy()[::-1]):
        assert np.array_equal(entry(package, "im2col")(layout, kernel, stride, padding, dilation, groups, out),
                              expected)


@BOTH
@pytest.mark.parametrize("case", WINDOW_CASES[:-1], ids=str)
def test_col2im_is_the_adjoint_of_im2col_plus_the_bias(case, package):
    """<im2col(x), r> = <x, col2im(r)>, and the bias is added to every position of its channel."""
    shape, kernel, stride, padding, dilation, groups, out = window_args(case)
    rng = np.random.default_rng(18)
    x = rng.standard_normal(shape).astype(np.float32)
    rows = rng.standard_normal(im2col_by_definition(x, kernel, stride, padding, dilation, groups, out).shape)
    rows, bias = rows.astype(np.float32), rng.standard_normal(shape[1]).astype(np.float32)
    col2im = entry(package, "col2im")
    y = col2im(rows, shape, kernel, stride, padding, dilation, out)
    assert y.shape == shape and y.dtype == np.float32
    cols = im2col_by_definition(x.astype(np.float64), kernel, stride, padding, dilation, groups, out)
    np.testing.assert_allclose(np.vdot(y.astype(np.float64), x), np.vdot(cols, rows), rtol=1e-5, atol=1e-4)
    with_bias = col2im(rows, shape, kernel, stride, padding, dilation, out, bias)
    np.testing.assert_allclose(with_bias, y + bias.reshape((-1,) + (1,) * (len(shape) - 2)), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", WINDOW_CASES, ids=str)
def test_im2col_and_col2im_numba_match_the_numpy_entries(case, two_threads):
    shape, kernel, stride, padding, dilation, groups, out = window_args(case)
    rng = np.random.default_rng(19)
    x = rng.standard_normal(shape).astype(np.float32)
    rows = entry("numpy", "im2col")(x, kernel, stride, padding, dilation, groups, out)
    assert np.array_equal(entry("cpu", "im2col")(x, kernel, stride, padding, dilation, groups, out), rows)
    r, bias = rng.standard_normal(rows.shape).astype(np.float32), rng.standard_normal(shape[1]).astype(np.float32)
    np.testing.assert_allclose(entry("cpu", "col2im")(r, shape, kernel, stride, padding, dilation, out, bias),
                               entry("numpy", "col2im")(r, shape, kernel, stride, padding, dilation, out, bias),
                               rtol=1e-5, atol=1e-5)


def pool_input(shape, rng):
    """x with distinct values but for a tie, two NaNs and two -infs in the first plane's first row."""
    x = rng.permutation(math.prod(shape)).reshape(shape).astype(np.float32)
    first = x[(0, 0) + (0,) * (len(shape) - 3)]
    first[:7] = [5.0, 5.0, np.nan, 1.0, np.nan, -np.inf, -np.inf][:first.shape[0]]
    return x


# (x shape, kernel, stride, padding, dilation, ceil_mode), through tinytorch's pool geometry; the last fills two threads
POOL_CASES = [((2, 3, 12, 12), 2, None, 0, 1, False), ((2, 2, 9, 8), 3, 2, 1, 2, False),
              ((3, 2, 11), 3, 2, 1, 2, True), ((2, 2, 7, 5), (3, 2), (1, 2), (1, 1), (1, 2), True),
              ((1, 1, 7), 3, 1, 1, 1, False), ((64, 8, 32, 32), 2, None, 0, 1, False)]


@pytest.mark.torch
@pytest.mark.parametrize("case", POOL_CASES, ids=str)
def test_max_pool_numba_matches_the_numpy_entry_and_torch(case, two_threads):
    """Values, indices (torch's NaN rule: the last NaN wins; ties: the first; a window of -inf: its first
    position) and gradients, bit for bit."""
    import torch
    from tinytorch.nn.fused_pool import pool_geometry
    shape, kernel, stride, padding, dilation, ceil_mode = case
    rng = np.random.default_rng(20)
    x = pool_input(shape, rng)
    geometry = pool_geometry(shape[2:], kernel, stride, padding, dilation, ceil_mode)
    args = (geometry.kernel, geometry.stride, tuple(p for p, _ in geometry.padding), geometry.dilation, geometry.out)
    pool = torch.nn.functional.max_pool1d if len(shape) == 3 else torch.nn.functional.max_pool2d
    xt = torch.tensor(x, requires_grad=True)
    values, indices = pool(xt, kernel, stride, padding, dilation, ceil_mode, return_indices=True)
    g = rng.standard_normal(tuple(values.shape)).astype(np.float32)
    values.backward(torch.tensor(g))
    for package in ("numpy", "cpu"):
        got, at = entry(package, "max_pool_forward")(x, *args)
        assert at.dtype == np.int64
        assert np.array_equal(got, values.detach().numpy(), equal_nan=True) and np.array_equal(at, indices.numpy())
        assert np.array_equal(entry(package, "max_pool_backward")(g, at, shape), xt.grad.numpy())


@BOTH
def test_a_max_pool_window_without_an_input_position_is_minus_inf_at_minus_one(package):
    """Positions -1 and 2 of an input of 2 (dilation 3, padding 1): no input position, no gradient."""
    x = np.array([[[1.0, 2.0]]], np.float32)
    values, at = entry(package, "max_pool_forward")(x, (2,), (1,), (1,), (3,), (1,))
    assert values.tolist() == [[[-np.inf]]] and at.tolist() == [[[-1]]]
    assert entry(package, "max_pool_backward")(np.ones((1, 1, 1), np.float32), at, x.shape).tolist() == [[[0.0, 0.0]]]


@BOTH
@pytest.mark.parametrize("call, message", [
    (lambda f: f["im2col"](np.ones((1, 2, 3, 3, 3), np.float32), (1, 1), (1, 1), (0, 0), (1, 1), 1, (3, 3)),
     r"im2col: x must have shape \(N, C, L\) or \(N, C, H, W\), got \(1, 2, 3, 3, 3\)"),
    (lambda f: f["im2col"](np.ones((1, 3, 5, 5), np.float32), (3, 3), (1, 1), (0, 0), (1, 1), 2, (3, 3)),
     r"im2col: x \(1, 3, 5, 5\) must have a multiple of groups = 2 channels"),
    (lambda f: f["im2col"](np.ones((1, 2, 5, 5), np.float32), (3,), (1, 1), (0, 0), (1, 1), 1, (3, 3)),
     r"im2col: kernel must be 2 ints >= 1 for x \(1, 2, 5, 5\), got \(3,\)"),
    (lambda f: f["im2col"](np.ones((1, 2, 5), np.float32), (3,), (1,), (-1,), (1,), 1, (3,)),
     r"im2col: padding must be 1 ints >= 0 .*got \(-1,\)"),
    (lambda f: f["col2im"](np.ones((1, 9, 18), np.float32), (1, 2, 5, 5), (3, 3), (1, 1), (0, 0), (1, 1), (3, 3),
                           np.ones(3, np.float32)), r"col2im: bias must have shape \(2,\), got \(3,\)"),
    (lambda f: f["col2im"](np.ones((1, 8, 18), np.float32), (1, 2, 5, 5), (3, 3), (1, 1), (0, 0), (1, 1), (3, 3)),
     r"col2im: rows must have shape \(1, 9, 18\), got \(1, 8, 18\)"),
    (lambda f: f["max_pool_forward"](np.ones((2, 5), np.float32), (2,), (2,), (0,), (1,), (2,)),
     r"max_pool_forward: x must have shape \(N, C, L\) or \(N, C, H, W\), got \(2, 5\)"),
    (lambda f: f["max_pool_backward"](np.ones((1, 2, 3), np.float32), np.zeros((1, 2, 2), np.int64), (1, 2, 6)),
     r"max_pool_backward: needs g .*got g \(1, 2, 3\), indices \(1, 2, 2\) int64 and shape \(1, 2, 6\)"),
])
def test_window_kernels_refuse_bad_arguments(call, message, package):
    kernels = {name: entry(package, name) for name in ("im2col", "col2im", "max_pool_forward", "max_pool_backward")}
    with pytest.raises(ValueError, match=message):
        call(kernels)


def test_window_kernels_numba_take_float32_only():
    x = np.ones((1, 1, 4), np.float64)
    with pytest.raises(ValueError, match=r"im2col: the Numba kernel takes float32 arrays, got x float64"):
        entry("cpu", "im2col")(x, (2,), (1,), (0,), (1,), 1, (3,))
    with pytest.raises(ValueError, match=r"max_pool_forward: the Numba kernel takes float32 arrays, got x float64"):
        entry("cpu", "max_pool_forward")(x, (2,), (2,), (0,), (1,), (2,))
