"""The convolution and pooling modules and what their functional front-ends decide (the ops' values
and gradients are rows of functional_cases.FUSED_OPS): torch's initial weights from the same seed,
output shapes, 'same' padding, groups, padding modes, unbatched input, return_indices, the
transposed output_size, float32 in float32 out, reprs, and errors with torch's type and text."""
import pytest
import torch

import tinytorch
from harness import assert_same

MODULES = [
    ("Conv1d", (3, 4, 3), {}),
    ("Conv1d", (4, 6, 5), {"stride": 2, "padding": 2, "dilation": 2, "groups": 2, "bias": False}),
    ("Conv2d", (3, 8, 3), {}),
    ("Conv2d", (4, 4, (2, 3)), {"padding": "same", "dilation": (2, 1), "groups": 4}),
    ("Conv2d", (2, 3, 3), {"padding": 1, "padding_mode": "reflect"}),
    ("Conv2d", (2, 3, 3), {"padding": (1, 2), "padding_mode": "circular"}),
    ("Conv2d", (2, 3, 4), {"padding": "same", "padding_mode": "replicate"}),
    ("Conv2d", (2, 4, 3), {"padding": "valid", "stride": (2, 1)}),
    ("ConvTranspose1d", (3, 5, 4), {"stride": 3, "padding": 1, "output_padding": 2}),
    ("ConvTranspose2d", (4, 6, (2, 3)), {"stride": 2, "groups": 2, "dilation": (1, 2), "output_padding": 1}),
    ("ConvTranspose2d", (2, 2, 3), {"bias": False, "padding": 1}),
]


def _build(m, name, args, kwargs, seed=3):
    m.manual_seed(seed)
    return getattr(m.nn, name)(*args, **kwargs)


def _input(m, module, batched=True, side=7):
    d = int(type(module).__name__[-2])
    shape = (module.in_channels,) + (side,) * d
    return m.randn(((2,) if batched else ()) + shape)


@pytest.mark.torch
@pytest.mark.parametrize("name,args,kwargs", MODULES, ids=lambda v: str(v))
def test_same_seed_gives_torchs_weights_repr_and_outputs(name, args, kwargs):
    mods = {m: _build(m, name, args, kwargs) for m in (tinytorch, torch)}
    assert repr(mods[tinytorch]) == repr(mods[torch])
    for (k, p), (k_t, p_t) in zip(mods[tinytorch].named_parameters(), mods[torch].named_parameters()):
        assert k == k_t
        assert (p.detach().numpy() == p_t.detach().numpy()).all(), k
    for batched in (True, False):
        outs = {m: mods[m](_input(m, mods[m], batched)) for m in (tinytorch, torch)}
        assert_same(outs[tinytorch], outs[torch], f"{name} output", atol=1e-5, rtol=1e-5)
        assert outs[tinytorch].dtype == tinytorch.float32


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_same_padding_keeps_the_size_even_with_an_even_kernel_and_dilation():
    for m in (tinytorch, torch):
        m.manual_seed(0)
        conv = m.nn.Conv2d(2, 3, (4, 3), padding="same", dilation=(1, 3))
        assert tuple(conv(m.randn(1, 2, 6, 5)).shape) == (1, 3, 6, 5)
    x = torch.randn(1, 2, 6, 5, dtype=torch.float64)
    w = torch.randn(3, 2, 4, 2, dtype=torch.float64)
    ours = tinytorch.nn.functional.conv2d(tinytorch.tensor(x.numpy()), tinytorch.tensor(w.numpy()), padding="same")
    assert_same(ours, torch.nn.functional.conv2d(x, w, padding="same"))


@pytest.mark.torch
def test_groups_split_the_channels():
    """With groups=2 each half of the output sees only its half of the input."""
    conv = tinytorch.nn.Conv2d(4, 6, 3, groups=2, bias=False)
    assert tuple(conv.weight.shape) == (6, 2, 3, 3)
    x = tinytorch.randn(1, 4, 5, 5)
    y, y_changed = conv(x), conv(tinytorch.cat([x[:, :2], x[:, 2:] + 1], 1))
    assert (y[:, :3] == y_changed[:, :3]).all() and not (y[:, 3:] == y_changed[:, 3:]).all()


@pytest.mark.torch
@pytest.mark.parametrize("size", [(9, 9), (10, 10), (10, 9)])
def test_transposed_output_size_picks_the_output_padding(size):
    outs = {}
    for m in (tinytorch, torch):
        conv = _build(m, "ConvTranspose2d", (2, 3, 3), {"stride": 2, "padding": 1})
        outs[m] = conv(m.ones(1, 2, 5, 5), output_size=[1, 3, *size])
    assert tuple(outs[tinytorch].shape) == (1, 3) + size
    assert_same(outs[tinytorch], outs[torch], atol=1e-6)
    with pytest.raises(ValueError, match="valid sizes range from"):
        _build(tinytorch, "ConvTranspose2d", (2, 3, 3), {"stride": 2})(tinytorch.ones(1, 2, 5, 5), output_size=(20, 20))


@pytest.mark.torch
@pytest.mark.parametrize("name,args,kwargs", [
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}),
    ("MaxPool2d", (3,), {"stride": 2, "padding": 1, "dilation": 2, "return_indices": True}),
    ("MaxPool2d", ((2, 3),), {"ceil_mode": True, "return_indices": True}),
    ("AvgPool1d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False, "ceil_mode": True}),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1}),
    ("AvgPool2d", (2,), {"divisor_override": 3}),
    ("AdaptiveAvgPool1d", (4,), {}),
    ("AdaptiveAvgPool2d", ((None, 3),), {}),
    ("AdaptiveAvgPool2d", (1,), {}),
], ids=lambda v: str(v))
def test_pooling_modules_match_torch_batched_or_not(name, args, kwargs):
    d = int(name[-2])
    pools = {m: getattr(m.nn, name)(*args, **kwargs) for m in (tinytorch, torch)}
    assert repr(pools[tinytorch]) == repr(pools[torch])
    for lead in ((2, 3), (3,)):
        x = torch.randn(lead + (9,) * d)
        assert_same(pools[tinytorch](tinytorch.tensor(x.numpy())), pools[torch](x), name, atol=1e-6)


def test_float32_stays_float32_through_every_op():
    F = tinytorch.nn.functional
    x = tinytorch.randn(2, 4, 6, 6, requires_grad=True)
    w = tinytorch.randn(4, 2, 3, 3, requires_grad=True)
    outs = [F.conv2d(x, w, padding=1, groups=2), F.conv_transpose2d(x, w, stride=2), F.max_pool2d(x, 2),
            F.avg_pool2d(x, 3, padding=1), F.adaptive_avg_pool2d(x, 4), F.pad(x, (1, 2, 0, 1), mode="reflect"),
            F.interpolate(x, scale_factor=2, mode="bilinear"), F.conv1d(x[:, :, 0], w[:, :, 0], groups=2)]
    for out in outs:
        assert out.dtype == tinytorch.float32
        out.sum().backward()
        assert x.grad.dtype == tinytorch.float32


# ---- errors: torch's exception type, and its text where it is marked exact ------------------------

ERRORS = [
    (True, lambda m: m.nn.functional.conv2d(m.ones(1, 3, 5, 5), m.ones(4, 3, 3, 3), padding="foo")),
    (False, lambda m: m.nn.Conv2d(3, 4, 3, padding="foo")),  # torch prints a set: its order varies by run
    (True, lambda m: m.nn.Conv2d(3, 4, 3, padding="same", stride=2)),
    (True, lambda m: m.nn.functional.conv1d(m.ones(1, 3, 5), m.ones(4, 3, 3), padding="same", stride=2)),
    (True, lambda m: m.nn.Conv2d(3, 4, 3, groups=2)),
    (True, lambda m: m.nn.ConvTranspose1d(4, 3, 3, groups=2)),
    (True, lambda m: m.nn.functional.conv2d(m.ones(2, 3), m.ones(4, 3, 3, 3))),
    (True, lambda m: m.nn.functional.conv1d(m.ones(2, 3, 4, 5), m.ones(4, 3, 3))),
    (True, lambda m: m.nn.functional.conv2d(m.ones(1, 2, 5, 5), m.ones(4, 3, 3, 3))),
    (True, lambda m: m.nn.functional.conv2d(m.ones(1, 4, 5, 5), m.ones(4, 1, 3, 3), groups=2)),
    (True, lambda m: m.nn.functional.conv2d(m.ones(1, 3, 2, 2), m.ones(4, 3, 3, 3))),
    (True, lambda m: m.nn.functional.conv_transpose2d(m.ones(1, 2, 5, 5), m.ones(3, 4, 3, 3))),
    (False, lambda m: m.nn.functional.conv_transpose2d(m.ones(1, 3, 5, 5), m.ones(3, 4, 3, 3), stride=2,
                                                       output_padding=2)),
    (False, lambda m: m.nn.Conv2d(3, 4, 3, padding_mode="foo")),
    (True, lambda m: m.nn.functional.max_pool2d(m.ones(1, 3, 5, 5), 3, padding=2)),
    (False, lambda m: m.nn.functional.max_pool2d(m.ones(3, 5), 3)),
    (True, lambda m: m.nn.functional.avg_pool2d(m.ones(1, 1, 2, 2), 3)),
    (True, lambda m: m.nn.functional.pad(m.ones(2, 3), (1,))),
    (True, lambda m: m.nn.functional.pad(m.ones(2, 3), (3, 3), mode="reflect")),
    (True, lambda m: m.nn.functional.interpolate(m.ones(1, 2, 3), scale_factor=2, mode="bilinear")),
    (True, lambda m: m.nn.functional.interpolate(m.ones(1, 2, 3), size=4, scale_factor=2)),
]


@pytest.mark.torch
@pytest.mark.parametrize("exact,fn", ERRORS)
def test_bad_arguments_raise_torchs_error(exact, fn):
    with pytest.raises(Exception) as theirs:
        fn(torch)
    with pytest.raises(type(theirs.value)) as ours:
        fn(tinytorch)
    assert "\n" not in str(ours.value)
    if exact:
        assert str(ours.value) == str(theirs.value)
