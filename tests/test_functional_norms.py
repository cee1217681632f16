"""nn.functional normalizations: fused layer_norm / batch_norm == naive twin == torch, forward
and backward in float64, and batch_norm's running statistics against torch's."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, strategies as st

import tinytorch
import tinytorch.nn.functional as F
from devices import on_devices
from test_functional import LAYOUTS, lay_out, shapes, three_way

pytestmark = pytest.mark.torch


@on_devices
@given(shape=shapes(min_dims=1, max_dims=4), n_normalized=st.integers(1, 3), affine=st.sampled_from(["wb", "w", ""]),
       layout=st.sampled_from(LAYOUTS), seed=st.integers(0, 2 ** 16))
def test_layer_norm_matches_naive_and_torch(device, shape, n_normalized, affine, layout, seed):
    n_normalized = min(n_normalized, len(shape))
    normalized = shape[len(shape) - n_normalized:]
    rng = np.random.default_rng(seed)
    x = lay_out(rng.normal(1.0, 2.0, shape), layout)
    params = [rng.normal(1, 0.5, normalized) for _ in affine]

    def call(fn):
        def run(x, *p):
            named = dict(zip(["weight", "bias"], p))
            return fn(x, normalized, named.get("weight"), named.get("bias"), 1e-5)
        return run
    three_way(call(F.layer_norm), call(F.layer_norm_naive), call(TF.layer_norm), [x] + params, device=device)


def test_layer_norm_rejects_a_mismatched_shape():
    with pytest.raises(ValueError, match=r"layer_norm: shapes \(2, 3\) and \(4,\)"):
        F.layer_norm(tinytorch.zeros(2, 3), (4,))
    with pytest.raises(ValueError, match="weight, normalized_shape"):
        F.layer_norm(tinytorch.zeros(2, 3), (3,), tinytorch.ones(2))


def _bn_case(draw):
    n = draw(st.integers(2, 6))
    channels = draw(st.integers(1, 4))
    length = draw(st.sampled_from([(), (1,), (3,)]))
    return (n, channels) + length


@on_devices
@given(st.data())
def test_batch_norm_training_matches_naive_and_torch_including_running_stats(device, data):
    shape = _bn_case(data.draw)
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16)))
    x = lay_out(rng.normal(2.0, 3.0, shape), data.draw(st.sampled_from(LAYOUTS)))
    w, b = rng.normal(1, 0.3, shape[1]), rng.normal(0, 0.3, shape[1])
    momentum = data.draw(st.sampled_from([0.1, 0.001, 1.0]))
    stats = {}

    def call(lib, fn, key):
        def run(x, w, b):
            mean, var = (lib.tensor(np.full(shape[1], v), device=x.device) for v in (0.5, 2.0))
            stats[key] = (mean, var)
            return fn(x, mean, var, w, b, training=True, momentum=momentum, eps=1e-5)
        return run
    three_way(call(tinytorch, F.batch_norm, "fused"), call(tinytorch, F.batch_norm_naive, "naive"),
              call(torch, TF.batch_norm, "torch"), [x, w, b], device=device)
    for key in ("fused", "naive"):
        for got, expected in zip(stats[key], stats["torch"]):
            tinytorch.testing.assert_close(got, expected, atol=1e-12, name=f"{key} running stat")


@given(st.data())
def test_batch_norm_eval_uses_running_stats_like_torch(data):
    shape = _bn_case(data.draw)
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16)))
    x = lay_out(rng.normal(0.0, 2.0, shape), data.draw(st.sampled_from(LAYOUTS)))
    mean, var = rng.normal(0, 1, shape[1]), rng.uniform(0.5, 2, shape[1])
    affine = data.draw(st.booleans())
    params = [rng.normal(1, 0.3, shape[1]), rng.normal(0, 0.3, shape[1])] if affine else []

    def call(lib, fn):
        return lambda x, *p: fn(x, lib.tensor(mean), lib.tensor(var), *p, training=False)
    three_way(call(tinytorch, F.batch_norm), call(tinytorch, F.batch_norm_naive), call(torch, TF.batch_norm),
              [x] + params)


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
        assert out.dtype.name == np.dtype(dtype).name
        tinytorch.testing.assert_close(out, expected, atol=1e-4)
        tinytorch.testing.assert_close(mine.grad, theirs.grad, atol=1e-4)
