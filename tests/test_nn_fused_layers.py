"""tinytorch.nn.fused_layers beyond the table's rows: gelu_linear in float32 through either
backend keeps only its input for the backward; embedding's options (padding_idx,
scale_grad_by_freq, max_norm) with repeated indices against torch, padding_idx in the naive twin
too; the argument errors of linear, gelu_linear and embedding."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tinytorch
import tinytorch.nn.functional as F
from harness import assert_same, check_op


def test_linear_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"linear: shapes \(2, 3\) and \(4, 5\)"):
        F.linear(tinytorch.zeros(2, 3), tinytorch.zeros(4, 5))


@pytest.mark.torch
@pytest.mark.parametrize("kernels", ["numpy", "numba"])
def test_float32_gelu_linear_matches_torch_and_keeps_only_its_input(kernels, kernels_used):
    """The activation gelu(h) is not kept for the backward: the one-pass gelu_backward_and_forward_
    recomputes it there."""
    import tinytorch.backends as backends
    rng = np.random.default_rng(4)
    h, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((3, 7, 16), (5, 16), (5,)))
    with backends.using(kernels=kernels):
        check_op(lambda *a: F.gelu_linear(*a, approximate="tanh"),
                 lambda h, w, b: TF.linear(TF.gelu(h, approximate="tanh"), w, b), h, w, b,
                 naive=lambda *a: F.gelu_linear_naive(*a, approximate="tanh"), atol=1e-5, rtol=1e-4)
    package = "cpu" if kernels == "numba" else "numpy"
    assert kernels_used["gelu_backward_and_forward_"] == {f"tinytorch.kernels.{package}.gelu"}
    out = F.gelu_linear(tinytorch.tensor(h, requires_grad=True), tinytorch.tensor(w, requires_grad=True),
                        approximate="tanh")
    kept = [v for v in vars(out._ctx).values() if isinstance(v, np.ndarray)]
    assert sorted(a.shape for a in kept) == [(3, 7, 16), (5, 16)]


def test_gelu_linear_rejects_mismatched_shapes_and_unknown_approximations():
    with pytest.raises(ValueError, match=r"gelu_linear: shapes \(2, 3\) and \(4, 5\)"):
        F.gelu_linear(tinytorch.zeros(2, 3), tinytorch.zeros(4, 5))
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        F.gelu_linear(tinytorch.zeros(2, 3), tinytorch.zeros(4, 3), approximate="erf")


@pytest.mark.torch
@pytest.mark.parametrize("options", [{}, {"scale_grad_by_freq": True}, {"padding_idx": 1}, {"max_norm": 1.0}],
                         ids=["plain", "scale_grad_by_freq", "padding_idx", "max_norm"])
def test_embedding_options_with_repeated_indices_match_torch(options):
    """Repeated indices accumulate; max_norm renormalizes the looked-up rows of the weight in place."""
    idx = np.array([[1, 1, 1], [0, 1, 3]])
    w = np.random.default_rng(0).standard_normal((5, 3))
    mine, theirs = tinytorch.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    out = F.embedding(tinytorch.tensor(idx), mine, **options)
    expected = TF.embedding(torch.tensor(idx), theirs, **options)
    (out * out).sum().backward()
    (expected * expected).sum().backward()
    assert_same((out, mine.grad, mine.detach()), (expected, theirs.grad, theirs.detach()))


@pytest.mark.torch
def test_embedding_padding_row_gets_no_gradient_in_the_fused_op_and_its_twin():
    idx = np.array([[1, 1, 2], [0, 1, 3]])
    w = np.random.default_rng(1).standard_normal((5, 3))

    def padded(op):
        return lambda i, w: op(i, w, padding_idx=1)
    check_op(padded(F.embedding), padded(TF.embedding), idx, w, naive=padded(F.embedding_naive))


def test_embedding_rejects_out_of_range_indices():
    with pytest.raises(IndexError, match="index 5 is out of range"):
        F.embedding(tinytorch.tensor([0, 5]), tinytorch.zeros(5, 2))
    with pytest.raises(TypeError, match="integer indices"):
        F.embedding(tinytorch.tensor([0.0]), tinytorch.zeros(5, 2))
