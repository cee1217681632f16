"""tinytorch.nn.fused_attention beyond the table's row: a query that sees no key, grouped-query
heads, long causal attention in query blocks, the Numba in-place softmax kernels, the output's
and the gradients' memory layout, dropout with the naive twin's draws, extreme scores, the
cached causal masks and the argument errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tinytorch
import tinytorch.nn.functional as F
from harness import assert_same, check_op
from tinytorch.nn.fused_attention import causal_bias, causal_mask

pytestmark = pytest.mark.torch


def check_attention(*inputs, atol=1e-9, rtol=1e-7, **options):
    """check_op of scaled_dot_product_attention(q, k, v[, attn_mask], **options) and its naive twin."""
    def with_options(op):
        return lambda *tensors: op(*tensors, **options)
    check_op(with_options(F.scaled_dot_product_attention), with_options(TF.scaled_dot_product_attention), *inputs,
             naive=with_options(F.scaled_dot_product_attention_naive), atol=atol, rtol=rtol)


def test_attention_with_a_query_that_sees_nothing_gives_zeros_like_torch():
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 4))
    mask = np.ones((3, 5), bool)
    mask[1] = False
    check_attention(q, k, v, mask)


def test_attention_grouped_query_heads_match_torch():
    rng = np.random.default_rng(1)
    q, k, v = rng.standard_normal((2, 4, 3, 5)), rng.standard_normal((2, 2, 6, 5)), rng.standard_normal((2, 2, 6, 5))
    check_attention(q, k, v, is_causal=True, enable_gqa=True)


@pytest.mark.parametrize("n_queries,n_keys", [(300, 300), (300, 260), (260, 300)])
def test_long_causal_attention_skips_masked_keys_exactly(n_queries, n_keys):
    """Causal attention over >= 256 queries works in query blocks that skip the masked keys."""
    rng = np.random.default_rng(3)
    q, k, v = rng.standard_normal((1, 2, n_queries, 4)), rng.standard_normal((1, 2, n_keys, 4)), \
        rng.standard_normal((1, 2, n_keys, 3))
    check_attention(q, k, v, is_causal=True)


@pytest.mark.parametrize("is_causal,scale", [(True, None), (False, None), (True, 0.5), (False, -2.0)])
@pytest.mark.parametrize("kernels", ["numpy", "numba"])
def test_float32_attention_with_the_in_place_softmax_matches_torch(is_causal, scale, kernels, kernels_used):
    """Without a mask (or with the causal one), q, k, v as strided views of one qkv array, like the
    GPT's: with the NumPy kernels, scores scaled, masked and normalized in place by one kernel each way;
    with the Numba kernels, a whole head by one kernel each way (kernels/cpu/attention.py)."""
    import tinytorch.backends as backends
    qkv = np.random.default_rng(3).standard_normal((2, 7, 3, 3, 5)).astype(np.float32)
    q, k, v = (qkv[:, :, i].transpose(0, 2, 1, 3) for i in range(3))   # (2, 3 heads, 7, 5), strided
    with backends.using(kernels=kernels):
        check_attention(q, k, v, is_causal=is_causal, scale=scale, atol=1e-5, rtol=1e-4)
    if kernels == "numba":
        for name in ("attention_heads_forward_", "attention_heads_backward_"):
            assert kernels_used[name] == {"tinytorch.kernels.cpu.attention"}
        assert "attention_softmax_forward_" not in kernels_used
    else:
        for name in ("attention_softmax_forward_", "attention_softmax_backward_"):
            assert kernels_used[name] == {"tinytorch.kernels.numpy.attention_softmax"}


@pytest.mark.parametrize("kernels", ["numpy", "numba"])
def test_attention_output_is_laid_out_like_the_queries(kernels):
    """q, k, v as the heads of one (B, T, 3, H, E) projection: the output (B, H, T, E) is laid
    out as (B, T, H, E), so transposing it back and merging the heads is free, as in the GPT."""
    import tinytorch.backends as backends
    qkv = np.random.default_rng(5).standard_normal((2, 7, 3, 3, 5)).astype(np.float32)
    q, k, v = (tinytorch.tensor(qkv)[:, :, i].transpose(1, 2) for i in range(3))
    with backends.using(kernels=kernels):
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert out.transpose(1, 2).numpy().flags.c_contiguous
    expected = TF.scaled_dot_product_attention(*(torch.tensor(qkv)[:, :, i].transpose(1, 2) for i in range(3)),
                                               is_causal=True)
    assert_same(out, expected, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("kernels", ["numpy", "numba"])
def test_qkv_split_takes_attentions_gradients_back_without_a_copy(kernels, monkeypatch):
    """GPT's heads: qkv (B, T, 3C) -> view -> permute -> unbind -> attention. Attention hands back
    dq, dk, dv as views of one (B T, 3C) array and the unbind returns that array as qkv's
    gradient (no concatenation); the gradients match torch's."""
    import tinytorch.backends as backends
    from tinytorch.ops import movement
    joined = []
    real = movement._joined_without_copy
    monkeypatch.setattr(movement, "_joined_without_copy", lambda ctx, grads: joined.append(real(ctx, grads)) or joined[-1])
    B, T, H, E = 2, 5, 3, 4
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((B, T, 7)).astype(np.float32), rng.standard_normal((3 * H * E, 7)).astype(np.float32)

    def heads(m, F_, x, w):
        q, k, v = F_.linear(x, w).view(B, T, 3, H, E).permute(2, 0, 3, 1, 4).unbind(0)
        return F_.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, H * E)
    with backends.using(kernels=kernels):
        check_op(lambda x, w: heads(tinytorch, F, x, w), lambda x, w: heads(torch, TF, x, w), x, w, atol=1e-5,
                 rtol=1e-4)
    assert joined and all(j is not None and j.base.shape == (B * T, 3 * H * E) for j in joined)


@pytest.mark.parametrize("n_queries,n_keys", [(5, 9), (9, 5)])
@pytest.mark.parametrize("kernels", ["numpy", "numba"])
def test_float32_causal_attention_with_more_or_fewer_keys_than_queries(n_queries, n_keys, kernels):
    """torch's top-left causal mask (query i sees keys j <= i) through the in-place kernels."""
    import tinytorch.backends as backends
    rng = np.random.default_rng(6)
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in ((2, 3, n_queries, 4), (2, 3, n_keys, 4),
                                                                   (2, 3, n_keys, 6)))
    with backends.using(kernels=kernels):
        check_attention(q, k, v, is_causal=True, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("shape,dtype,kernels", [((2, 4, 3), np.float64, "numpy"), ((1, 300, 2), np.float64, "numpy"),
                                                  ((2, 6, 4), np.float32, "numba")])
def test_attention_dropout_fused_equals_naive_with_the_same_draws(shape, dtype, kernels):
    """The same dropout draws; with kernels="numba" (float32) through the in-place softmax kernels."""
    import tinytorch.backends as backends
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(shape).astype(dtype) for _ in range(3)]
    results = []
    for fn in (F.scaled_dot_product_attention, F.scaled_dot_product_attention_naive):
        tinytorch.manual_seed(5)
        ts = [tinytorch.tensor(a, requires_grad=True) for a in arrays]
        with backends.using(kernels=kernels):
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
    assert_same(out, expected, "output", atol=1e-4, rtol=1e-5)
    assert_same([t.grad for t in mine], [t.grad for t in theirs], "gradients", atol=1e-4, rtol=1e-5)


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


@pytest.mark.torch
@pytest.mark.parametrize("causal", [False, True])
def test_attention_dropout_draws_torchs_mask(causal):
    """After the same manual_seed, attention dropout drops what torch's CPU attention drops: the
    outputs and the gradients agree (the fused op and its naive twin alike)."""
    results = []
    for m, sdpa in ((torch, TF.scaled_dot_product_attention), (tinytorch, F.scaled_dot_product_attention),
                    (tinytorch, F.scaled_dot_product_attention_naive)):
        m.manual_seed(0)
        q, k, v = (m.randn(2, 3, 5, 4, requires_grad=True) for _ in range(3))
        out = sdpa(q, k, v, dropout_p=0.4, is_causal=causal)
        (out * out).sum().backward()
        results.append((out, q.grad, k.grad, v.grad))
    for mine in results[1:]:
        assert_same(mine, results[0], atol=1e-5, rtol=1e-5)
