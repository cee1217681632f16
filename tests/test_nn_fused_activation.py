"""tinytorch.nn.fused_activation beyond the table's rows: softmax, log_softmax and the pointwise
activations stay finite and match torch at extreme inputs in float32 and float64; dropout keeps
about 1 - p of its input and honours training and p."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tinytorch
import tinytorch.nn.functional as F
from harness import assert_same

EXTREME_INPUT_OPS = {
    "softmax": (lambda t: F.softmax(t, -1), lambda t: TF.softmax(t, -1)),
    "log_softmax": (lambda t: F.log_softmax(t, -1), lambda t: TF.log_softmax(t, -1)),
    "tanh": (F.tanh, TF.tanh),
    "sigmoid": (F.sigmoid, TF.sigmoid),
    "gelu": (F.gelu, TF.gelu),
    "gelu_tanh": (lambda t: F.gelu(t, approximate="tanh"), lambda t: TF.gelu(t, approximate="tanh")),
    "silu": (F.silu, TF.silu),
}


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(EXTREME_INPUT_OPS))
def test_activation_stays_finite_at_extreme_inputs(name, dtype):
    op, torch_op = EXTREME_INPUT_OPS[name]
    x = np.array([[1e4, -1e4, 0.0, 3.0], [-1e4, -1e4, -1e4, 1e4]], dtype)
    mine, theirs = tinytorch.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = op(mine), torch_op(theirs)
    out.sum().backward()
    expected.sum().backward()
    assert np.isfinite(out.numpy(force=True)).all() and np.isfinite(mine.grad.numpy()).all()
    assert_same(out, expected, "output", atol=1e-3, rtol=1e-5)
    assert_same(mine.grad, theirs.grad, "gradient", atol=1e-5, rtol=1e-5)


def test_dropout_keeps_about_1_minus_p_and_respects_training_and_p():
    tinytorch.manual_seed(0)
    x = tinytorch.ones(200_000)
    kept = (F.dropout(x, 0.3) != 0).float().mean().item()
    assert abs(kept - 0.7) < 0.01
    assert F.dropout(x, 0.3, training=False) is x
    assert (F.dropout(x, 1.0) == 0).all().item()
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.5)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9, 1.0])
def test_dropout_draws_torchs_mask(p, dtype):
    """torch's CPU dropout: noise = empty_like(x).bernoulli_(1 - p) (a double uniform < 1 - p per
    element, in empty_like's memory order), noise /= 1 - p, x * noise; p = 1 draws nothing. The
    fused op, its naive twin, nn.Dropout and the in-place form all give torch's values exactly."""
    def outputs(m, dropout):
        m.manual_seed(11)
        x = m.arange(1.0, 61.0, dtype=getattr(m, dtype)).reshape(6, 10)
        layer = m.nn.Dropout(p)
        return [dropout(x, p), dropout(x.t(), p), dropout(x[:, ::3], p), layer(x), layer.eval()(x),
                m.nn.functional.dropout(x.clone(), p, inplace=True), m.rand(2)]
    theirs = outputs(torch, TF.dropout)
    for dropout in (F.dropout, F.dropout_naive):
        ours = outputs(tinytorch, dropout)
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.torch
@pytest.mark.parametrize("kernels", ["numpy", "numba"])
@pytest.mark.parametrize("seed", [0, 3, 2 ** 33 + 1])
def test_dropout_is_torchs_forward_and_backward_with_either_kernel(seed, kernels, kernels_used):
    """The mask kernel (mt19937_bernoulli) and the product kernel (masked_scale), forward and
    backward: torch's values bit for bit for sizes whose draws end before, at and after a 624-word
    twist, a transposed input, the word-level LSTM's (35, 20, 200), and inf and NaN inputs (NaN where
    dropped, as torch's x * noise)."""
    import tinytorch.backends as backends
    rng = np.random.default_rng(seed % 2 ** 32)
    arrays = [rng.standard_normal(shape).astype(np.float32) for shape in ((311,), (312,), (313, 2), (35, 20, 200))]
    arrays[0][:3] = [np.inf, -np.inf, np.nan]
    grads = [rng.standard_normal(a.shape).astype(np.float32) for a in arrays]

    def run(m, dropout):
        m.manual_seed(seed)
        xs = [m.tensor(a, requires_grad=True) for a in arrays]
        outs = [dropout(xs[0], 0.2), dropout(xs[1], 0.5), dropout(xs[2].t(), 0.1), dropout(xs[3], 0.2)]
        for out, g in zip(outs, grads):
            out.backward(m.tensor(g.T.copy() if out.shape != g.shape else g))
        return outs + [x.grad for x in xs] + [m.rand(2)]
    theirs = run(torch, TF.dropout)
    with backends.using(kernels=kernels):
        ours = run(tinytorch, F.dropout)
    for a, b in zip(ours, theirs):
        assert np.array_equal(a.detach().numpy().view(np.int32), b.detach().numpy().view(np.int32))
    package = "cpu" if kernels == "numba" else "numpy"
    assert kernels_used["masked_scale"] == {f"tinytorch.kernels.{package}.dropout"}
    assert kernels_used["mt19937_bernoulli"] == {f"tinytorch.kernels.{package}.mt19937"}
