"""The 2-d normalization and channel-dropout modules against torch.nn: construction (parameters,
buffers, state_dict keys, repr), running statistics over several training steps, eval mode,
unbatched inputs, torch's channel masks and warnings, and one clear line for a bad shape.
(The functional ops' gradients and parity are rows of functional_cases.py.)"""
import warnings

import numpy as np
import pytest
import torch

import tinytorch
from harness import assert_same

pytestmark = pytest.mark.torch

MODULES = {
    "BatchNorm2d": lambda m: m.nn.BatchNorm2d(3),
    "BatchNorm2d_no_affine": lambda m: m.nn.BatchNorm2d(3, affine=False),
    "BatchNorm2d_no_bias": lambda m: m.nn.BatchNorm2d(3, bias=False),
    "BatchNorm2d_untracked": lambda m: m.nn.BatchNorm2d(3, track_running_stats=False),
    "BatchNorm2d_cumulative": lambda m: m.nn.BatchNorm2d(3, momentum=None),
    "BatchNorm3d": lambda m: m.nn.BatchNorm3d(3, momentum=0.3),
    "InstanceNorm1d": lambda m: m.nn.InstanceNorm1d(3),
    "InstanceNorm2d_affine_tracked": lambda m: m.nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
    "InstanceNorm2d_cumulative": lambda m: m.nn.InstanceNorm2d(3, momentum=None, track_running_stats=True),
    "GroupNorm": lambda m: m.nn.GroupNorm(3, 6),
    "GroupNorm_no_affine": lambda m: m.nn.GroupNorm(2, 6, eps=1e-3, affine=False),
    "RMSNorm": lambda m: m.nn.RMSNorm([4, 5]),
    "RMSNorm_eps_no_affine": lambda m: m.nn.RMSNorm(5, eps=1e-4, elementwise_affine=False),
    "Dropout1d": lambda m: m.nn.Dropout1d(0.3),
    "Dropout2d": lambda m: m.nn.Dropout2d(),
}
INPUT_SHAPES = {"BatchNorm2d": (4, 3, 4, 5), "BatchNorm3d": (2, 3, 2, 3, 2), "InstanceNorm1d": (4, 3, 5),
                "InstanceNorm2d": (4, 3, 4, 5), "GroupNorm": (2, 6, 4, 5), "RMSNorm": (2, 3, 4, 5)}
each_module = pytest.mark.parametrize("name", MODULES)


def _input_shape(name):
    return INPUT_SHAPES[name.split("_")[0]]


def _pair(name):
    """(tinytorch's module, torch's) in float64, with torch's random weights and biases loaded."""
    torch.manual_seed(0)
    ref = MODULES[name](torch).double()
    for p in ref.parameters():
        with torch.no_grad():
            p.normal_()
    ours = MODULES[name](tinytorch).double()
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    return ours, ref


@each_module
def test_construction_equals_torch(name):
    ours, ref = MODULES[name](tinytorch), MODULES[name](torch)
    assert repr(ours) == repr(ref)
    assert_same(dict(ours.state_dict()), dict(ref.state_dict()), f"{name}'s state_dict")
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]


@pytest.mark.parametrize("name", [n for n in MODULES if "Dropout" not in n])
def test_training_steps_then_eval_match_torch(name):
    """Three training steps (outputs, input gradients, running statistics, num_batches_tracked),
    then eval mode (the running statistics, or the batch's when there are none)."""
    ours, ref = _pair(name)
    rng = np.random.default_rng(1)
    for step in range(3):
        x = rng.standard_normal(_input_shape(name)) * 2 + 1
        outs = []
        for m, module in ((tinytorch, ours), (torch, ref)):
            t = m.tensor(x, requires_grad=True)
            out = module(t)
            (out * m.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)))).sum().backward()
            outs.append((out, t.grad, {k: v.grad for k, v in module.named_parameters()}))
        assert_same(*outs, f"{name} step {step}", atol=1e-10, rtol=1e-9)
        assert_same(dict(ours.state_dict()), dict(ref.state_dict()), f"{name}'s state after step {step}",
                    atol=1e-12, rtol=1e-10)
    ours.eval()
    ref.eval()
    x = rng.standard_normal(_input_shape(name))
    assert_same(ours(tinytorch.tensor(x)), ref(torch.tensor(x)), f"{name} in eval mode", atol=1e-10, rtol=1e-9)


@pytest.mark.parametrize("make, shape", [
    (lambda m: m.nn.InstanceNorm1d(3, affine=True, track_running_stats=True), (3, 5)),
    (lambda m: m.nn.InstanceNorm2d(3, track_running_stats=True), (3, 4, 5)),
])
def test_instance_norm_runs_an_unbatched_input_as_a_batch_of_one(make, shape):
    x = np.random.default_rng(2).standard_normal(shape)
    ours, ref = make(tinytorch).double(), make(torch).double()
    assert_same(ours(tinytorch.tensor(x)), ref(torch.tensor(x)), atol=1e-12, rtol=1e-10)
    assert_same(dict(ours.state_dict()), dict(ref.state_dict()), atol=1e-12, rtol=1e-10)


def test_rms_norm_default_eps_is_the_dtypes_machine_epsilon():
    x = np.random.default_rng(3).standard_normal((3, 4)).astype(np.float32) * 1e-4
    assert_same(tinytorch.nn.RMSNorm(4)(tinytorch.tensor(x)), torch.nn.RMSNorm(4)(torch.tensor(x)), rtol=1e-5)
    tiny = np.full((2, 3), 1e-9)
    assert_same(tinytorch.nn.functional.rms_norm(tinytorch.tensor(tiny), (3,)),
                torch.nn.functional.rms_norm(torch.tensor(tiny), (3,)), rtol=1e-10)


# ---- channel dropout: torch's masks, unbatched inputs, warnings ---------------------------------

@pytest.mark.parametrize("name, shape", [
    ("dropout1d", (4, 6, 3)), ("dropout1d", (6, 3)), ("dropout2d", (4, 6, 3, 2)), ("dropout2d", (4, 6, 3)),
    ("dropout2d", (4, 6)), ("dropout3d", (2, 4, 3, 2, 2)), ("dropout3d", (4, 3, 2, 2)),
])
@pytest.mark.parametrize("inplace", [False, True])
def test_channel_dropout_zeroes_torchs_channels_after_the_same_seed(name, shape, inplace):
    x = np.random.default_rng(4).standard_normal(shape).astype(np.float32) + 3
    results = []
    for m in (tinytorch, torch):
        m.manual_seed(11)
        t = m.tensor(x)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = getattr(m.nn.functional, name)(t, 0.4, True, inplace)
        assert (out is t) == inplace
        results.append((out, [str(w.message) for w in caught], [w.filename for w in caught]))
    (out, messages, files), (expected, expected_messages, _) = results
    assert_same(out, expected)
    assert messages == expected_messages
    assert all(f == __file__ for f in files), "a warning should point at the caller"


def test_dropout2d_module_is_the_identity_in_eval_mode_and_draws_nothing():
    drop = tinytorch.nn.Dropout2d(0.5).eval()
    x = tinytorch.randn(2, 3, 2, 2)
    state = tinytorch.get_rng_state()
    assert drop(x) is x
    assert tinytorch.equal(tinytorch.get_rng_state(), state)


@pytest.mark.parametrize("make", [lambda m: m.nn.Dropout2d(0.3), lambda m: m.nn.Dropout1d(0.3)])
def test_dropout_modules_match_torch_forward_and_backward(make):
    x = np.random.default_rng(5).standard_normal((3, 5, 4))
    grads = []
    for m in (tinytorch, torch):
        m.manual_seed(3)
        t = m.tensor(x, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = make(m)(t)
        out.sum().backward()
        grads.append((out, t.grad))
    assert_same(*grads)


# ---- one clear line for a bad shape or argument -------------------------------------------------

@pytest.mark.parametrize("call, error, match", [
    (lambda m: m.nn.BatchNorm2d(3)(m.zeros(2, 3, 4)), ValueError, r"expected 4D .*got 3D input"),
    (lambda m: m.nn.BatchNorm3d(3)(m.zeros(2, 3, 4, 4)), ValueError, r"expected 5D .*got 4D input"),
    (lambda m: m.nn.BatchNorm2d(3)(m.zeros(2, 4, 3, 3)), RuntimeError, r"4"),
    (lambda m: m.nn.InstanceNorm1d(3)(m.zeros(2, 3, 4, 4)), ValueError, r"expected 2D.* or 3D.*got 4D input"),
    (lambda m: m.nn.InstanceNorm2d(3, affine=True)(m.zeros(2, 4, 3, 3)), ValueError,
     r"expected input's size at dim=1 to match num_features \(3\), but got: 4"),
    (lambda m: m.nn.InstanceNorm1d(3)(m.zeros(2, 3, 1)), ValueError, "Expected more than 1 spatial element"),
    (lambda m: m.nn.GroupNorm(4, 6), ValueError, r"num_channels \(6\) must be divisible by num_groups \(4\)"),
    (lambda m: m.nn.functional.group_norm(m.zeros(2, 6, 3), 4), RuntimeError, "divisible by num_groups"),
    (lambda m: m.nn.functional.group_norm(m.zeros(2, 6, 3), 3, m.ones(3)), RuntimeError, r"weight"),
    (lambda m: m.nn.functional.group_norm(m.zeros(6), 3), RuntimeError, "Expected at least 2 dimensions"),
    (lambda m: m.nn.functional.group_norm(m.zeros(1, 3), 3), ValueError, "Expected more than 1 value per channel"),
    (lambda m: m.nn.RMSNorm(4)(m.zeros(2, 3)), RuntimeError, r"normalized_shape"),
    (lambda m: m.nn.functional.rms_norm(m.zeros(2, 3), (3,), m.ones(2)), RuntimeError, r"weight"),
    (lambda m: m.nn.functional.instance_norm(m.zeros(2, 3, 4), m.zeros(2), m.ones(2)), RuntimeError, "running_mean"),
    (lambda m: m.nn.functional.instance_norm(m.zeros(2, 3, 4), use_input_stats=False), RuntimeError,
     "Expected running_mean and running_var to be defined when use_input_stats is false"),
    (lambda m: m.nn.functional.dropout1d(m.zeros(2, 3, 4, 5)), RuntimeError, "dropout1d: Expected 2D or 3D input"),
    (lambda m: m.nn.functional.dropout2d(m.zeros(3)), RuntimeError,
     "Feature dropout requires at least 2 dimensions in the input"),
    (lambda m: m.nn.Dropout2d(1.5), ValueError, "dropout probability has to be between 0 and 1, but got 1.5"),
    (lambda m: m.nn.functional.dropout2d(m.zeros(2, 3, 4, 4), -0.1), ValueError, "dropout probability"),
])
def test_bad_shapes_and_arguments_raise_torchs_error_in_one_line(call, error, match):
    for m in (torch, tinytorch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(error, match=match) as caught:
                call(m)
        if m is tinytorch:
            assert "\n" not in str(caught.value)
