"""tinytorch.nn.functional: every fused op of the table in functional_cases.py, two ways (its
float64 gradient against central differences; it and its naive twin against torch, forward and
backward); then what functional.py itself decides: argument forms, in-place flags, float32 in
float32 out, which backend kernels it picks, unsupported names."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, strategies as st

import tinytorch
import tinytorch.nn.functional as F
from devices import on_devices
from functional_cases import FUSED_OPS
from harness import assert_same, check_op, leaves
from strategies import lay_out
from tinytorch.testing import gradcheck

rows = pytest.mark.parametrize("op", FUSED_OPS, ids=lambda op: op.name)


@rows
@given(data=st.data())
def test_fused_gradient_matches_central_differences(op, data):
    inputs, params = op.draw(data)
    assert gradcheck(op.bound(op.fused, params), *leaves(tinytorch, inputs, op.grads(inputs)))


@pytest.mark.torch
@on_devices
@rows
@given(data=st.data())
def test_fused_op_and_naive_twin_match_torch(op, device, data):
    if op.cpu_draws and device != "cpu":
        pytest.skip("torch's CPU random stream is reproduced by tinytorch's CPU generator only")
    inputs, params = op.draw(data)
    check_op(op.bound(op.fused, params), op.bound(op.torch_op, params), *inputs, naive=op.bound(op.naive, params),
             grads=op.grads(inputs), device=device)


# ---- argument forms --------------------------------------------------------------------------

@pytest.mark.torch
def test_softmax_dtype_argument_and_legacy_dim():
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    assert F.softmax(tinytorch.tensor(x), dim=-1, dtype=tinytorch.float64).dtype == tinytorch.float64
    with pytest.warns(UserWarning, match="Implicit dimension"):
        implicit = F.softmax(tinytorch.tensor(x))
    assert_same(implicit, TF.softmax(torch.tensor(x), dim=1), atol=1e-6)
    assert tinytorch.tensor(x).softmax(0).shape == (3, 4)


def test_relu_inplace_writes_into_the_input_without_grad():
    x = tinytorch.tensor([-1.0, 2.0])
    assert F.relu(x, inplace=True) is x and x.tolist() == [0.0, 2.0]


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(tinytorch.ones(2), approximate="erf")


def test_unsupported_functional_name_says_so():
    with pytest.raises(AttributeError, match=r"does not support 'torch.nn.functional.grid_sample' yet"):
        F.grid_sample


# ---- float32 in, float32 out -----------------------------------------------------------------

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


# ---- backend kernels -------------------------------------------------------------------------

@pytest.mark.parametrize("kernels", ["numpy", "numba"])
def test_softmax_layer_norm_and_tanh_gelu_run_the_kernels_the_registry_picks(kernels, kernels_used):
    import tinytorch.backends as backends
    x = tinytorch.tensor(np.random.default_rng(5).standard_normal((3, 5)).astype(np.float32), requires_grad=True)
    with backends.using(kernels=kernels):
        F.softmax(x, -1).sum().backward()
        F.layer_norm(x, (5,), tinytorch.ones(5), tinytorch.zeros(5)).sum().backward()
        F.gelu(x, approximate="tanh").sum().backward()
    package = "cpu" if kernels == "numba" else "numpy"
    assert kernels_used == {name: {f"tinytorch.kernels.{package}.{module}"} for name, module in [
        ("softmax_forward", "softmax"), ("softmax_backward", "softmax"), ("layernorm_forward", "layernorm"),
        ("layernorm_backward", "layernorm"), ("gelu_forward", "gelu"), ("gelu_backward", "gelu")]}
    kernels_used.clear()
    with backends.using(kernels=kernels):
        F.softmax(x, 0)                                   # not the last axis: the code in fused_activation
        F.gelu(x)                                         # the exact form: likewise
        F.softmax(x.double(), -1)                         # float64: the NumPy entry
    assert kernels_used == {"softmax_forward": {"tinytorch.kernels.numpy.softmax"}}


@pytest.mark.torch
@pytest.mark.parametrize("kernels", ["numpy", "numba"])
def test_float32_softmax_layer_norm_and_gelu_match_torch_with_either_backend(kernels):
    import tinytorch.backends as backends
    rng = np.random.default_rng(0)
    x = lay_out(rng.standard_normal((6, 2, 13)).astype(np.float32), "strided")
    w, b = rng.standard_normal(13).astype(np.float32), rng.standard_normal(13).astype(np.float32)
    with backends.using(kernels=kernels):
        check_op(lambda t: F.softmax(t, -1), lambda t: TF.softmax(t, -1), x, naive=lambda t: F.softmax_naive(t, -1),
                 atol=1e-6, rtol=1e-5)
        check_op(lambda t, w, b: F.layer_norm(t, (13,), w, b), lambda t, w, b: TF.layer_norm(t, (13,), w, b), x, w, b,
                 naive=lambda t, w, b: F.layer_norm_naive(t, (13,), w, b), atol=1e-5, rtol=1e-4)
        check_op(lambda t: F.gelu(t * 3, approximate="tanh"), lambda t: TF.gelu(t * 3, approximate="tanh"), x,
                 naive=lambda t: F.gelu_naive(t * 3, approximate="tanh"), atol=1e-5, rtol=1e-4)
