"""The fused (flash) attention kernels (kernels/cuda/attention.py), every version, against the NumPy
oracle (kernels.reference.attention_forward/backward) in Numba's CUDA simulator.

Shapes cut every tile: T = 1, T past one 32-key tile (33, 40), T leaving idle threads and idle
warps in the last query block (17), D from 8 to 64 (v2's lanes then own 1 or 2 dims), several
heads (B * H > 1), causal and not. Simulator-verified only: nothing here ran on a GPU.
"""
import numpy as np
import pytest
from numba import config

if not config.ENABLE_CUDASIM:
    pytest.skip("run with NUMBA_ENABLE_CUDASIM=1 (make test runs tests/cudasim in its own process)",
                allow_module_level=True)

import tinytorch  # noqa: E402
import tinytorch.nn.functional as F  # noqa: E402
from tinytorch import backends  # noqa: E402
from tinytorch.kernels import reference  # noqa: E402
from tinytorch.kernels.cuda import attention  # noqa: E402
from tinytorch.kernels.validate import check_outputs  # noqa: E402
from tinytorch.nn import fused_attention  # noqa: E402

SHAPES = [(1, 1, 1, 8), (1, 2, 17, 16), (2, 1, 40, 24), (1, 1, 33, 64)]  # (B, H, T, D)
BLOCK_SIZES = {"attention_forward_v1": (32, 64), "attention_forward_v2": (64,), "attention_backward_v1": (32, 64)}
FORWARDS = attention.VERSIONS["attention_forward"]
BACKWARDS = attention.VERSIONS["attention_backward"]


def inputs(shape, seed):
    rng = np.random.default_rng(seed)
    q, k, v, dout = (rng.standard_normal(shape).astype(np.float32) for _ in range(4))
    return q, k, v * 3, dout  # larger values: a missed rescale by alpha shows


def ids(shape):
    return "x".join(map(str, shape))


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("shape", SHAPES, ids=ids)
@pytest.mark.parametrize("forward", FORWARDS, ids=lambda f: f.__name__)
def test_forward_matches_oracle(forward, shape, causal):
    q, k, v, _ = inputs(shape, 0)
    args = (q, k, v, 1.3 / np.sqrt(shape[-1]), causal)  # scores past 1/sqrt(D): sharper rows
    for block_size in BLOCK_SIZES[forward.__name__]:
        check_outputs("attention_forward", forward(*args, block_size=block_size), args)


@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("shape", SHAPES, ids=ids)
@pytest.mark.parametrize("backward", BACKWARDS, ids=lambda f: f.__name__)
def test_backward_matches_oracle(backward, shape, causal):
    q, k, v, dout = inputs(shape, 1)
    scale = 1.3 / np.sqrt(shape[-1])
    out, lse = reference.attention_forward(q, k, v, scale, causal)
    args = (q, k, v, out, lse, dout, scale, causal)
    for block_size in BLOCK_SIZES[backward.__name__]:
        check_outputs("attention_backward", backward(*args, block_size=block_size), args)


def test_entry_points_take_strided_heads_and_any_leading_dims():
    """Heads as views of a (T, H, D) projection, and (H, T, D) with no batch dim."""
    q, k, v, dout = (a.transpose(1, 0, 2) for a in inputs((11, 3, 8), 2))
    assert not q.flags.c_contiguous
    forward_args = (q, k, v, 0.4, True)
    out, lse = attention.attention_forward(*forward_args, block_size=64)
    check_outputs("attention_forward", (out, lse), forward_args)
    backward_args = (q, k, v, out, lse, dout, 0.4, True)
    check_outputs("attention_backward", attention.attention_backward(*backward_args), backward_args)


@pytest.mark.parametrize("call, message", [
    (lambda a: attention.attention_forward_v2(a, a, a, 1.0, False, block_size=1024),
     r"attention_forward.*\[32, 512\].*1024"),
    (lambda a: attention.attention_forward_v1(a, a, a, 1.0, False, block_size=48), r"multiple of 32.*48"),
    (lambda a: attention.attention_forward(a.astype(np.float64), a, a, 1.0, False), r"one dtype"),
    (lambda a: attention.attention_forward(*(np.ones((1, 2, 3, 129), np.float32),) * 3, 1.0, False),
     r"attention_forward: head dimension D must be at most 128"),
    (lambda a: attention.attention_backward(a, a, a, a, a[..., 0, :], a, 1.0, False),
     r"attention_backward: lse must have shape \(1, 2, 5\)"),
])
def test_bad_launch_arguments_raise_a_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call(np.ones((1, 2, 5, 8), np.float32))


@pytest.mark.parametrize("is_causal", [False, True])
def test_scaled_dot_product_attention_on_the_flash_path_matches_its_cpu_path(is_causal, monkeypatch):
    """The Function's flash branch, wired to the CUDA kernels in the simulator (on the GPU the registry
    picks them; here the arrays are NumPy's, so the lookup is redirected), against its CPU path."""
    qkv = np.random.default_rng(3).standard_normal((1, 13, 3, 2, 16)).astype(np.float32)  # (B, T, 3, H, D)
    dout = np.random.default_rng(4).standard_normal((1, 2, 13, 16)).astype(np.float32)

    def run():
        whole = tinytorch.tensor(qkv, requires_grad=True)
        q, k, v = (whole[:, :, i].transpose(1, 2) for i in range(3))
        out = F.scaled_dot_product_attention(q, k, v, is_causal=is_causal)
        out.backward(tinytorch.tensor(dout))
        return out.detach().numpy(), whole.grad.numpy()

    expected = run()
    flash_calls = []
    lookup = backends.kernel

    def kernel(name, array):
        if name in attention.VERSIONS:
            flash_calls.append(name)
            return getattr(attention, name)
        return lookup(name, array)
    monkeypatch.setattr(fused_attention, "uses_flash_attention", lambda q, k, v, dropout_p, in_place: True)
    monkeypatch.setattr(backends, "kernel", kernel)
    got = run()
    assert flash_calls == ["attention_forward", "attention_backward"]
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)
