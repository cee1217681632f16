"""nn.functional layers: fused linear / embedding / scaled_dot_product_attention == naive twin ==
torch, forward and backward in float64; repeated embedding indices; masks; one_hot."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, strategies as st

import tinytorch
import tinytorch.nn.functional as F
from devices import on_devices
from test_functional import LAYOUTS, lay_out, shapes, three_way
from tinytorch.nn.fused_attention import causal_bias, causal_mask

pytestmark = pytest.mark.torch


@on_devices
@given(lead=shapes(min_dims=0, max_dims=3), n_in=st.integers(1, 5), n_out=st.integers(1, 5), bias=st.booleans(),
       layout=st.sampled_from(LAYOUTS), seed=st.integers(0, 2 ** 16))
def test_linear_matches_naive_and_torch(device, lead, n_in, n_out, bias, layout, seed):
    rng = np.random.default_rng(seed)
    x = lay_out(rng.standard_normal(lead + (n_in,)), layout)
    w = lay_out(rng.standard_normal((n_out, n_in)), "transposed")
    arrays = [x, w] + ([rng.standard_normal(n_out)] if bias else [])
    three_way(F.linear, F.linear_naive, TF.linear, arrays, device=device)


def test_linear_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"linear: shapes \(2, 3\) and \(4, 5\)"):
        F.linear(tinytorch.zeros(2, 3), tinytorch.zeros(4, 5))


def _gelu_linear_three(approximate):
    """(fused, naive, torch) callables of (h, w[, b]) for gelu_linear."""
    def call(fn):
        return lambda h, w, *b: fn(h, w, b[0] if b else None, approximate=approximate)
    return (call(F.gelu_linear), call(F.gelu_linear_naive),
            lambda h, w, *b: TF.linear(TF.gelu(h, approximate=approximate), w, b[0] if b else None))


@on_devices
@given(lead=shapes(min_dims=0, max_dims=3), n_in=st.integers(1, 5), n_out=st.integers(1, 5), bias=st.booleans(),
       approximate=st.sampled_from(["none", "tanh"]), layout=st.sampled_from(LAYOUTS), seed=st.integers(0, 2 ** 16))
def test_gelu_linear_matches_naive_and_torch(device, lead, n_in, n_out, bias, approximate, layout, seed):
    rng = np.random.default_rng(seed)
    h = lay_out(rng.standard_normal(lead + (n_in,)) * 2, layout)
    w = lay_out(rng.standard_normal((n_out, n_in)), "transposed")
    arrays = [h, w] + ([rng.standard_normal(n_out)] if bias else [])
    three_way(*_gelu_linear_three(approximate), arrays, device=device)


@pytest.mark.parametrize("kernels", ["numpy", "numba"])
def test_float32_gelu_linear_matches_torch_and_keeps_only_its_input(kernels, monkeypatch):
    """The activation gelu(h) is not kept for the backward (recomputed there: with kernels="numba"
    by the one-pass gelu_backward_and_forward_)."""
    import tinytorch.backends as backends
    monkeypatch.setattr(backends, "kernels", kernels)
    asked = []
    real = backends.cpu_only_kernel
    monkeypatch.setattr(backends, "cpu_only_kernel", lambda n, xp: asked.append(n) or real(n, xp))
    rng = np.random.default_rng(4)
    h, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((3, 7, 16), (5, 16), (5,)))
    three_way(*_gelu_linear_three("tanh"), [h, w, b], atol=1e-5, rtol=1e-4)
    assert ("gelu_backward_and_forward_" in asked) == (kernels == "numba")
    out = F.gelu_linear(tinytorch.tensor(h, requires_grad=True), tinytorch.tensor(w, requires_grad=True),
                        approximate="tanh")
    kept = [v for v in vars(out._ctx).values() if isinstance(v, np.ndarray)]
    assert sorted(a.shape for a in kept) == [(3, 7, 16), (5, 16)]


def test_gelu_linear_rejects_mismatched_shapes_and_unknown_approximations():
    with pytest.raises(ValueError, match=r"gelu_linear: shapes \(2, 3\) and \(4, 5\)"):
        F.gelu_linear(tinytorch.zeros(2, 3), tinytorch.zeros(4, 5))
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        F.gelu_linear(tinytorch.zeros(2, 3), tinytorch.zeros(4, 3), approximate="erf")


@on_devices
@given(idx_shape=shapes(min_dims=1, max_dims=3), n_rows=st.integers(1, 6), dim=st.integers(1, 4),
       pad=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_embedding_matches_naive_and_torch_with_repeated_indices(device, idx_shape, n_rows, dim, pad, seed):
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n_rows, idx_shape)
    idx.reshape(-1)[-1] = idx.reshape(-1)[0]    # at least one repeat whenever there are two lookups
    w = rng.standard_normal((n_rows, dim))
    padding_idx = int(idx.reshape(-1)[0]) if pad else None
    three_way(lambda i, w: F.embedding(i, w, padding_idx), lambda i, w: F.embedding_naive(i, w, padding_idx),
              lambda i, w: TF.embedding(i, w, padding_idx), [idx, w], [False, True], device=device)


def test_embedding_repeated_index_accumulates_and_options_match_torch():
    idx = np.array([[1, 1, 1], [0, 1, 3]])
    w = np.random.default_rng(0).standard_normal((5, 3))
    for kwargs in ({}, {"scale_grad_by_freq": True}, {"padding_idx": 1}, {"max_norm": 1.0}):
        mine, theirs = tinytorch.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
        out = F.embedding(tinytorch.tensor(idx), mine, **kwargs)
        expected = TF.embedding(torch.tensor(idx), theirs, **kwargs)
        (out * out).sum().backward()
        (expected * expected).sum().backward()
        tinytorch.testing.assert_close(out, expected, atol=1e-12, name=str(kwargs))
        tinytorch.testing.assert_close(mine.grad, theirs.grad, atol=1e-12, name=str(kwargs))
        tinytorch.testing.assert_close(mine, theirs, atol=1e-12, name=f"{kwargs} weight after")


def test_embedding_rejects_out_of_range_indices():
    with pytest.raises(IndexError, match="index 5 is out of range"):
        F.embedding(tinytorch.tensor([0, 5]), tinytorch.zeros(5, 2))
    with pytest.raises(TypeError, match="integer indices"):
        F.embedding(tinytorch.tensor([0.0]), tinytorch.zeros(5, 2))


@st.composite
def attention_case(draw):
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    n_q, n_k, e, ev = (draw(st.integers(1, 5)) for _ in range(4))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    layout = draw(st.sampled_from(LAYOUTS))
    q, k, v = (lay_out(rng.standard_normal(batch + s), layout) for s in ((n_q, e), (n_k, e), (n_k, ev)))
    mask_kind = draw(st.sampled_from(["none", "causal", "bool", "float"]))
    mask = None
    if mask_kind == "bool":
        mask = rng.random((n_q, n_k)) < 0.7
        mask[:, 0] = True   # every query may attend to something (the naive softmax needs it)
    elif mask_kind == "float":
        mask = rng.normal(0, 1, batch + (n_q, n_k))
    scale = draw(st.sampled_from([None, 0.3]))
    return q, k, v, mask, mask_kind == "causal", scale


@on_devices
@given(attention_case())
def test_scaled_dot_product_attention_matches_naive_and_torch(device, case):
    q, k, v, mask, is_causal, scale = case
    arrays = [q, k, v] + ([mask] if mask is not None else [])

    def call(fn):
        return lambda q, k, v, *m: fn(q, k, v, attn_mask=m[0] if m else None, is_causal=is_causal, scale=scale)
    three_way(call(F.scaled_dot_product_attention), call(F.scaled_dot_product_attention_naive),
              call(TF.scaled_dot_product_attention), arrays, device=device)


def test_attention_with_a_query_that_sees_nothing_gives_zeros_like_torch():
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 4))
    mask = np.ones((3, 5), bool)
    mask[1] = False
    three_way(lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m),
              lambda q, k, v, m: F.scaled_dot_product_attention_naive(q, k, v, m),
              lambda q, k, v, m: TF.scaled_dot_product_attention(q, k, v, m), [q, k, v, mask], [True, True, True, False])


def test_attention_grouped_query_heads_match_torch():
    rng = np.random.default_rng(1)
    q, k, v = rng.standard_normal((2, 4, 3, 5)), rng.standard_normal((2, 2, 6, 5)), rng.standard_normal((2, 2, 6, 5))
    three_way(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True),
              lambda q, k, v: F.scaled_dot_product_attention_naive(q, k, v, is_causal=True, enable_gqa=True),
              lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True), [q, k, v])


@pytest.mark.parametrize("n_queries,n_keys", [(300, 300), (300, 260), (260, 300)])
def test_long_causal_attention_skips_masked_keys_exactly(n_queries, n_keys):
    """Causal attention over >= 256 queries works in query blocks that skip the masked keys."""
    rng = np.random.default_rng(3)
    q, k, v = rng.standard_normal((1, 2, n_queries, 4)), rng.standard_normal((1, 2, n_keys, 4)), \
        rng.standard_normal((1, 2, n_keys, 3))
    three_way(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
              lambda q, k, v: F.scaled_dot_product_attention_naive(q, k, v, is_causal=True),
              lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=True), [q, k, v])


@pytest.mark.parametrize("is_causal,scale", [(True, None), (False, None), (True, 0.5), (False, -2.0)])
def test_float32_attention_with_the_numba_in_place_softmax_matches_torch(is_causal, scale, monkeypatch):
    """kernels="numba": scores scaled, masked and normalized in place by one kernel each way
    (q, k, v as strided views of one qkv array, like the GPT's)."""
    import tinytorch.backends as backends
    monkeypatch.setattr(backends, "kernels", "numba")
    asked = []
    real = backends.cpu_only_kernel
    monkeypatch.setattr(backends, "cpu_only_kernel", lambda n, xp: asked.append(n) or real(n, xp))
    qkv = np.random.default_rng(3).standard_normal((2, 7, 3, 3, 5)).astype(np.float32)
    q, k, v = (qkv[:, :, i].transpose(0, 2, 1, 3) for i in range(3))   # (2, 3 heads, 7, 5), strided
    three_way(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=is_causal, scale=scale),
              lambda q, k, v: F.scaled_dot_product_attention_naive(q, k, v, is_causal=is_causal, scale=scale),
              lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=is_causal, scale=scale),
              [q, k, v], atol=1e-5, rtol=1e-4)
    assert "attention_softmax_forward_" in asked and "attention_softmax_backward_" in asked


@pytest.mark.parametrize("kernels", ["numpy", "numba"])
def test_attention_output_is_laid_out_like_the_queries(kernels, monkeypatch):
    """q, k, v as the heads of one (B, T, 3, H, E) projection: the output (B, H, T, E) is laid
    out as (B, T, H, E), so transposing it back and merging the heads is free, as in the GPT."""
    import tinytorch.backends as backends
    monkeypatch.setattr(backends, "kernels", kernels)
    qkv = np.random.default_rng(5).standard_normal((2, 7, 3, 3, 5)).astype(np.float32)
    q, k, v = (tinytorch.tensor(qkv)[:, :, i].transpose(1, 2) for i in range(3))
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert out.transpose(1, 2).numpy().flags.c_contiguous
    expected = TF.scaled_dot_product_attention(*(torch.tensor(qkv)[:, :, i].transpose(1, 2) for i in range(3)),
                                               is_causal=True)
    tinytorch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("kernels", ["numpy", "numba"])
def test_qkv_split_takes_attentions_gradients_back_without_a_copy(kernels, monkeypatch):
    """GPT's heads: qkv (B, T, 3C) -> view -> permute -> unbind -> attention. Attention hands back
    dq, dk, dv as views of one (B T, 3C) array and the unbind returns that array as qkv's
    gradient (no concatenation); the gradients match torch's."""
    import tinytorch.backends as backends
    from tinytorch.ops import movement
    monkeypatch.setattr(backends, "kernels", kernels)
    joined = []
    real = movement._joined_without_copy
    monkeypatch.setattr(movement, "_joined_without_copy", lambda ctx, grads: joined.append(real(ctx, grads)) or joined[-1])
    B, T, H, E = 2, 5, 3, 4
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((B, T, 7)).astype(np.float32), rng.standard_normal((3 * H * E, 7)).astype(np.float32)

    def heads(m, F_, x, w):
        q, k, v = F_.linear(x, w).view(B, T, 3, H, E).permute(2, 0, 3, 1, 4).unbind(0)
        return F_.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, H * E)
    three_way(lambda x, w: heads(tinytorch, F, x, w), lambda x, w: heads(tinytorch, F, x, w),
              lambda x, w: heads(torch, TF, x, w), [x, w], atol=1e-5, rtol=1e-4)
    assert joined and all(j is not None and j.base.shape == (B * T, 3 * H * E) for j in joined)


@pytest.mark.parametrize("n_queries,n_keys", [(5, 9), (9, 5)])
def test_float32_causal_attention_with_more_or_fewer_keys_than_queries_under_numba(n_queries, n_keys, monkeypatch):
    """torch's top-left causal mask (query i sees keys j <= i) through the in-place kernels."""
    import tinytorch.backends as backends
    monkeypatch.setattr(backends, "kernels", "numba")
    rng = np.random.default_rng(6)
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in ((2, 3, n_queries, 4), (2, 3, n_keys, 4),
                                                                   (2, 3, n_keys, 6)))
    three_way(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
              lambda q, k, v: F.scaled_dot_product_attention_naive(q, k, v, is_causal=True),
              lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=True), [q, k, v], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("shape,dtype,kernels", [((2, 4, 3), np.float64, "numpy"), ((1, 300, 2), np.float64, "numpy"),
                                                  ((2, 6, 4), np.float32, "numba")])
def test_attention_dropout_fused_equals_naive_with_the_same_draws(shape, dtype, kernels, monkeypatch):
    """The same dropout draws; with kernels="numba" (float32) through the in-place softmax kernels."""
    import tinytorch.backends as backends
    monkeypatch.setattr(backends, "kernels", kernels)
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(shape).astype(dtype) for _ in range(3)]
    results = []
    for fn in (F.scaled_dot_product_attention, F.scaled_dot_product_attention_naive):
        tinytorch.manual_seed(5)
        ts = [tinytorch.tensor(a, requires_grad=True) for a in arrays]
        out = fn(*ts, dropout_p=0.4, is_causal=True)
        (out * out).sum().backward()
        results.append([out.numpy(force=True)] + [t.grad.numpy() for t in ts])
    for got, expected in zip(*results):
        np.testing.assert_allclose(got, expected, **(dict(atol=1e-12) if dtype == np.float64 else
                                                     dict(atol=1e-5, rtol=1e-4)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_attention_is_stable_at_extreme_scores(dtype):
    q = np.array([[[1e2, -1e2], [1e2, 1e2]]], dtype)
    k = np.array([[[1e2, 1e2], [-1e2, 1e2], [0.0, 1.0]]], dtype)
    v = np.arange(6, dtype=dtype).reshape(1, 3, 2)
    mine = [tinytorch.tensor(a, requires_grad=True) for a in (q, k, v)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    out, expected = F.scaled_dot_product_attention(*mine), TF.scaled_dot_product_attention(*theirs)
    out.sum().backward()
    expected.sum().backward()
    assert np.isfinite(out.numpy(force=True)).all()
    tinytorch.testing.assert_close(out, expected, atol=1e-4)
    for a, b in zip(mine, theirs):
        tinytorch.testing.assert_close(a.grad, b.grad, atol=1e-4)


def test_causal_mask_is_cached_per_shape_and_device_and_read_only():
    a = causal_mask(4, 6, np)
    assert a is causal_mask(4, 6, np) and a is not causal_mask(6, 4, np)
    assert a.tolist() == np.tril(np.ones((4, 6), bool)).tolist()
    with pytest.raises(ValueError):
        a[0, 0] = False
    bias = causal_bias(4, 6, np.dtype(np.float32), np)
    assert bias is causal_bias(4, 6, np.dtype(np.float32), np) and bias.dtype == np.float32
    assert bias.tolist() == np.where(a, 0.0, -np.inf).tolist()
    with pytest.raises(ValueError):
        bias[0, 0] = 1.0


def test_attention_argument_errors():
    x = tinytorch.zeros(2, 3, 4)
    with pytest.raises(RuntimeError, match="is_causal"):
        F.scaled_dot_product_attention(x, x, x, attn_mask=tinytorch.ones(3, 3).bool(), is_causal=True)
    with pytest.raises(ValueError, match=r"shapes \(2, 3, 4\) and \(2, 3, 5\)"):
        F.scaled_dot_product_attention(x, tinytorch.zeros(2, 3, 5), x)


def test_one_hot_matches_torch():
    idx = np.array([[0, 3], [2, 2]])
    assert F.one_hot(tinytorch.tensor(idx), 5).tolist() == TF.one_hot(torch.tensor(idx), 5).tolist()
    assert F.one_hot(tinytorch.tensor(idx)).shape == (2, 2, 4)
