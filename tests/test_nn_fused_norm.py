"""tinytorch.nn.fused_norm beyond the table's rows: batch_norm's running statistics (fused and
naive) against torch's, stability for large inputs, and the errors of layer_norm and batch_norm."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, strategies as st

import tinytorch
import tinytorch.nn.functional as F
from devices import on_devices
from harness import assert_same, leaf
from strategies import LAYOUTS, arrays

pytestmark = pytest.mark.torch


def test_layer_norm_rejects_a_mismatched_shape():
    with pytest.raises(ValueError, match=r"layer_norm: shapes \(2, 3\) and \(4,\)"):
        F.layer_norm(tinytorch.zeros(2, 3), (4,))
    with pytest.raises(ValueError, match="weight, normalized_shape"):
        F.layer_norm(tinytorch.zeros(2, 3), (3,), tinytorch.ones(2))


@on_devices
@given(n=st.integers(2, 6), channels=st.integers(1, 4), length=st.sampled_from([(), (1,), (3,)]),
       layout=st.sampled_from(LAYOUTS), momentum=st.sampled_from([0.1, 0.001, 1.0]), data=st.data())
def test_batch_norm_training_updates_the_running_stats_like_torch(device, n, channels, length, layout, momentum,
                                                                    data):
    x = data.draw(arrays((n, channels) + length, layout=layout))
    start = [np.full(channels, 0.5), np.full(channels, 2.0)]

    def updated_stats(m, op, device=None):
        stats = [leaf(m, s, requires_grad=False, device=device) for s in start]
        op(leaf(m, x, device=device), *stats, training=True, momentum=momentum)
        return stats
    expected = updated_stats(torch, TF.batch_norm)
    for op in (F.batch_norm, F.batch_norm_naive):
        assert_same(updated_stats(tinytorch, op, device), expected, f"{op.__name__}'s running stats", device=device)


def test_batch_norm_errors_like_torch():
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        F.batch_norm(tinytorch.zeros(1, 3), None, None, training=True)
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        F.batch_norm(tinytorch.zeros(2, 3), None, None, training=False)
    with pytest.raises(ValueError, match=r"batch_norm: shapes \(2, 3\) and \(4,\)"):
        F.batch_norm(tinytorch.zeros(2, 3), tinytorch.zeros(4), tinytorch.ones(4))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_norms_are_stable_for_large_inputs(dtype):
    x = np.array([[1e4, -1e4, 1e4 + 1, 3.0], [-1e4, 2e4, 0.0, 1.0]], dtype)
    for fn, ref in ((lambda t: F.layer_norm(t, (4,)), lambda t: TF.layer_norm(t, (4,))),
                    (lambda t: F.batch_norm(t, None, None, training=True),
                     lambda t: TF.batch_norm(t, None, None, training=True))):
        mine, theirs = tinytorch.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, expected = fn(mine), ref(theirs)
        (out * out).sum().backward()
        (expected * expected).sum().backward()
        assert_same(out, expected, "output", atol=1e-4, rtol=1e-5)
        assert_same(mine.grad, theirs.grad, "gradient", atol=1e-4, rtol=1e-5)
