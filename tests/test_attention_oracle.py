"""The fused attention's oracle (kernels.reference.attention_forward/backward) against torch's
scaled_dot_product_attention, forward and backward; its NumPy entry (kernels/numpy/attention.py)
against the oracle; and how the registry and ScaledDotProductAttention route the two kernel names
(GPU-only: the CUDA versions themselves are tested in tests/cudasim/test_attention_cuda.py)."""
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from tinytorch import backends
from tinytorch.kernels import reference
from tinytorch.kernels.numpy import attention as numpy_attention
from tinytorch.nn.fused_attention import uses_flash_attention

pytestmark = pytest.mark.torch

SHAPES = [(1, 1, 1, 8), (2, 3, 17, 16), (1, 2, 40, 24), (2, 1, 33, 64)]  # (B, H, T, D)


def inputs(shape, seed, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal(shape).astype(dtype) for _ in range(4))  # q, k, v, dout


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_oracle_matches_torch_forward_and_backward(shape, causal):
    q, k, v, dout = inputs(shape, 0, np.float64)
    scale = 0.7 / np.sqrt(shape[-1])
    out, lse = reference.attention_forward(q, k, v, scale, causal)
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    expected = TF.scaled_dot_product_attention(tq, tk, tv, is_causal=causal, scale=scale)
    expected.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    scores = (tq @ tk.transpose(-1, -2) * scale).detach()
    if causal:
        scores = scores.masked_fill(torch.ones(shape[2], shape[2], dtype=torch.bool).triu(1), float("-inf"))
    np.testing.assert_allclose(lse, torch.logsumexp(scores, -1).numpy(), rtol=1e-10, atol=1e-12)
    grads = reference.attention_backward(q, k, v, out, lse, dout, scale, causal)
    for got, t in zip(grads, (tq, tk, tv)):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("causal", [False, True])
def test_numpy_entry_matches_the_oracle(causal, dtype):
    q, k, v, dout = inputs((2, 3, 37, 24), 1, dtype)
    scale = 1 / np.sqrt(24)
    out, lse = reference.attention_forward(q, k, v, scale, causal)
    got_out, got_lse = numpy_attention.attention_forward(q, k, v, scale, causal)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    for got, expected in zip((got_out, got_lse) + numpy_attention.attention_backward(q, k, v, out, lse, dout, scale,
                                                                                     causal),
                             (out, lse) + reference.attention_backward(q, k, v, out, lse, dout, scale, causal)):
        assert got.dtype == expected.dtype == dtype
        np.testing.assert_allclose(got, expected, **tol)


def test_a_causal_query_gets_no_weight_from_later_keys():
    q, k, v, dout = inputs((1, 1, 9, 8), 2)
    out, lse = reference.attention_forward(q, k, v, 0.5, True)
    v_later = v.copy()
    v_later[..., 5:, :] = 1e6                            # keys 5.. change: queries 0..4 must not see it
    np.testing.assert_array_equal(reference.attention_forward(q, k, v_later, 0.5, True)[0][..., :5, :],
                                  out[..., :5, :])
    dq, dk, dv = reference.attention_backward(q, k, v, out, lse, dout, 0.5, True)
    np.testing.assert_allclose(dv[0, 0, 8], np.exp(q[0, 0, 8] @ k[0, 0, 8] * 0.5 - lse[0, 0, 8]) * dout[0, 0, 8],
                               rtol=1e-6)          # the last key: only the last query sees it


@pytest.mark.parametrize("call, message", [
    (lambda a: reference.attention_forward(a, a[..., :3, :], a, 1.0, False), r"attention_forward: k must have shape"),
    (lambda a: reference.attention_forward(a, a, a.astype(np.float64), 1.0, False), r"attention_forward.*one dtype"),
    (lambda a: reference.attention_backward(a, a, a, a, a, a, 1.0, True), r"attention_backward: lse must have shape"),
    (lambda a: numpy_attention.attention_forward(a[0, 0, 0], a, a, 1.0, False), r"attention_forward: q must have"),
])
def test_bad_arguments_raise_a_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call(np.ones((1, 2, 5, 8), np.float32))


class FakeCupyArray:
    """Stands in for a CuPy array: the registry looks at the type's module and the dtype, the Function's
    check at the shape too."""
    __module__ = "cupy._core.core"

    def __init__(self, shape, dtype="float32"):
        self.shape, self.dtype = shape, np.dtype(dtype)


@pytest.mark.parametrize("name", ["attention_forward", "attention_backward"])
def test_registry_gives_the_numpy_entry_on_the_cpu_and_numba_cuda_on_the_gpu(name, monkeypatch):
    for kernels in ("numba", "numpy"):
        with backends.using(kernels=kernels):
            assert backends.kernel(name, np.ones(3, np.float32)) is getattr(numpy_attention, name)
    fake_cuda = type(np)("tinytorch.kernels.cuda")
    setattr(fake_cuda, name, name + " on numba-cuda")
    monkeypatch.setitem(sys.modules, "tinytorch.kernels.cuda", fake_cuda)
    with backends.using(cuda_kernels="numba"):
        assert backends.kernel(name, FakeCupyArray((3,))) == name + " on numba-cuda"
        assert backends.kernel(name, FakeCupyArray((3,), "float64")) is getattr(numpy_attention, name)
    with backends.using(cuda_kernels="cupy"):
        assert backends.kernel(name, FakeCupyArray((3,))) is getattr(numpy_attention, name)


def test_flash_attention_runs_on_the_gpu_only_without_a_mask_or_dropout():
    a, gpu = np.ones((2, 3, 5, 8), np.float32), FakeCupyArray((2, 3, 5, 8))
    assert uses_flash_attention(gpu, gpu, gpu, 0.0, True)
    wide = FakeCupyArray((2, 3, 5, 256))
    assert not uses_flash_attention(wide, wide, wide, 0.0, True)          # D past the kernels' MAX_HEAD_DIM
    assert not uses_flash_attention(a, a, a, 0.0, True)                   # the CPU keeps its own path
    assert not uses_flash_attention(gpu, gpu, gpu, 0.1, True)             # dropout
    assert not uses_flash_attention(gpu, gpu, gpu, 0.0, False)            # a user's mask
    other = FakeCupyArray((2, 3, 7, 8))
    assert not uses_flash_attention(gpu, other, other, 0.0, True)         # cross-attention lengths
    half = FakeCupyArray((2, 3, 5, 8), "float64")
    assert not uses_flash_attention(half, half, half, 0.0, True)
    with backends.using(cuda_kernels="cupy"):
        assert not uses_flash_attention(gpu, gpu, gpu, 0.0, True)
