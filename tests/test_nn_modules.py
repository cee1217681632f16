"""nn.Module and the layers: registration, state_dict, repr and numerics, against torch.nn."""
import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch

import tinytorch
import tinytorch.nn as nn


def block(m):
    """A module with a buffer, a non-persistent buffer, a ModuleList and a ModuleDict."""
    class Block(m.nn.Module):
        def __init__(self):
            super().__init__()
            self.ln = m.nn.LayerNorm(4)
            self.layers = m.nn.ModuleList([m.nn.Linear(4, 4) for _ in range(3)] + [m.nn.GELU(approximate="tanh")])
            self.heads = m.nn.ModuleDict({"a": m.nn.Linear(4, 2, bias=False), "b": m.nn.Embedding(5, 4, padding_idx=0)})
            self.register_buffer("mask", m.ones(4))
            self.register_buffer("cache", m.zeros(2), persistent=False)
            self.scale = m.nn.Parameter(m.ones(1))
    return Block()


def tied(m):
    """Weight tying as in GPT-2: the output layer shares the embedding's weight."""
    class Tied(m.nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = m.nn.Embedding(6, 4)
            self.lm_head = m.nn.Linear(4, 6, bias=False)
            self.lm_head.weight = self.wte.weight
    return Tied()


ARCHITECTURES = {
    "mlp": lambda m: m.nn.Sequential(m.nn.Linear(2, 3), m.nn.LayerNorm(3), m.nn.Tanh(), m.nn.Linear(3, 1, bias=False)),
    "makemore": lambda m: m.nn.Sequential(m.nn.Embedding(27, 10), m.nn.Flatten(), m.nn.Linear(30, 200, bias=False),
                                          m.nn.BatchNorm1d(200), m.nn.Tanh(), m.nn.Linear(200, 27)),
    "named": lambda m: m.nn.Sequential(OrderedDict([("fc", m.nn.Linear(3, 3)), ("act", m.nn.ReLU()),
                                                    ("drop", m.nn.Dropout(0.1)), ("out", m.nn.Sigmoid())])),
    "block": block,
    "tied": tied,
    "misc": lambda m: m.nn.ModuleList([m.nn.BatchNorm1d(3, momentum=None, affine=False), m.nn.Identity(),
                                       m.nn.LayerNorm((2, 3), elementwise_affine=False), m.nn.ReLU(inplace=True),
                                       m.nn.CrossEntropyLoss(), m.nn.MSELoss(), m.nn.Softmax(dim=-1),
                                       m.nn.ModuleList(), m.nn.Sequential(), m.nn.GELU(), m.nn.GELU()]),
}


@pytest.mark.torch
@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_repr_equals_torch(arch):
    assert repr(ARCHITECTURES[arch](tinytorch)) == repr(ARCHITECTURES[arch](torch))


@pytest.mark.torch
@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_names_and_shapes_equal_torch(arch):
    ours, ref = ARCHITECTURES[arch](tinytorch), ARCHITECTURES[arch](torch)
    shapes = lambda items: [(k, tuple(v.shape)) for k, v in items]  # noqa: E731
    assert shapes(ours.state_dict().items()) == shapes(ref.state_dict().items())
    assert shapes(ours.named_parameters()) == shapes(ref.named_parameters())
    assert shapes(ours.named_buffers()) == shapes(ref.named_buffers())
    assert [k for k, _ in ours.named_modules()] == [k for k, _ in ref.named_modules()]
    assert [k for k, _ in ours.named_children()] == [k for k, _ in ref.named_children()]


def test_parameter_is_a_leaf_tensor_that_requires_grad():
    p = nn.Parameter(tinytorch.ones(2))
    assert isinstance(p, tinytorch.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p) == "Parameter containing:\ntensor([1., 1.], requires_grad=True)"
    assert not nn.Parameter(tinytorch.ones(2), requires_grad=False).requires_grad
    data = tinytorch.zeros(3)
    shared = nn.Parameter(data)
    data[0] = 5.0
    assert shared[0].item() == 5.0  # shares storage, like torch


def test_attribute_assignment_registers_like_torch():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="Parameter or None"):
        layer.weight = tinytorch.ones(2, 2)
    layer.bias = None
    assert [k for k, _ in layer.named_parameters()] == ["weight"]
    assert "bias" not in layer.state_dict()
    layer.extra = nn.Parameter(tinytorch.zeros(1))
    layer.sub = nn.Tanh()
    assert [k for k, _ in layer.named_parameters()] == ["weight", "extra"]
    assert list(dict(layer.named_children())) == ["sub"]
    del layer.extra
    assert [k for k, _ in layer.named_parameters()] == ["weight"]
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'missing'"):
        layer.missing  # noqa: B018
    with pytest.raises(KeyError, match="already exists"):
        layer.register_buffer("weight", tinytorch.zeros(1))
    with pytest.raises(TypeError, match="buffer"):
        layer.register_buffer("stats", [1, 2])


def test_assigning_before_init_is_a_clear_error():
    class Forgetful(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(tinytorch.ones(1))

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Forgetful()


def test_forward_is_required():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(tinytorch.ones(1))


def test_tied_weights_appear_once_in_parameters_and_twice_in_state_dict():
    model = tied(tinytorch)
    assert [k for k, _ in model.named_parameters()] == ["wte.weight"]
    assert list(model.state_dict()) == ["wte.weight", "lm_head.weight"]
    assert model.lm_head.weight is model.wte.weight


@pytest.mark.torch
def test_load_torch_state_dict_gives_torch_outputs():
    torch.manual_seed(0)
    ref = ARCHITECTURES["mlp"](torch).double()
    ours = ARCHITECTURES["mlp"](tinytorch).double()
    assert ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()}) == ([], [])
    x = np.random.default_rng(0).standard_normal((5, 2))
    np.testing.assert_allclose(ours(tinytorch.tensor(x)).numpy(force=True), ref(torch.tensor(x)).detach().numpy(),
                               rtol=1e-12, atol=1e-14)


def test_load_state_dict_strict_errors_list_every_problem():
    model = ARCHITECTURES["mlp"](tinytorch)
    state = model.state_dict()
    state.pop("1.bias")
    state["0.weight"] = tinytorch.zeros(3, 3)
    state["extra.weight"] = tinytorch.zeros(1)
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    assert 'Missing key(s) in state_dict: "1.bias"' in message
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in message
    assert "size mismatch for 0.weight: copying a param with shape (3, 3)" in message
    assert "the shape in current model is (3, 2)" in message


def test_load_state_dict_non_strict_returns_the_key_lists():
    model = ARCHITECTURES["mlp"](tinytorch)
    state = {k: v.clone() + 1 for k, v in model.state_dict().items() if k != "3.weight"}
    state["surplus"] = tinytorch.zeros(1)
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["3.weight"] and result.unexpected_keys == ["surplus"]
    assert repr(model.load_state_dict(model.state_dict())) == "<All keys matched successfully>"
    np.testing.assert_array_equal(model[0].bias.numpy(force=True), state["0.bias"].numpy())
    with pytest.raises(RuntimeError, match="size mismatch"):  # shapes are checked even when not strict
        model.load_state_dict({"0.bias": tinytorch.zeros(4)}, strict=False)
    with pytest.raises(TypeError, match="0.bias"):
        model.load_state_dict({"0.bias": [0.0, 0.0, 0.0]}, strict=False)


def test_state_dict_values_are_detached_and_share_storage():
    model = nn.Linear(2, 2)
    state = model.state_dict()
    assert not state["weight"].requires_grad
    state["weight"][0, 0] = 42.0
    assert model.weight[0, 0].item() == 42.0
    assert model.state_dict(keep_vars=True)["weight"] is model.weight


def test_train_eval_and_dropout():
    model = ARCHITECTURES["named"](tinytorch)
    assert model.training and all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    x = tinytorch.randn(3, 3)
    np.testing.assert_array_equal(model.drop(x).numpy(), x.numpy())
    model.train()
    assert all(m.training for m in model.modules())


def test_zero_grad_apply_requires_grad_and_to():
    model = ARCHITECTURES["mlp"](tinytorch)
    model(tinytorch.randn(4, 2)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(not p.grad.numpy().any() for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())

    seen = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "LayerNorm", "Tanh", "Linear", "Sequential"]  # children first, as torch

    params = list(model.parameters())
    model.double()
    assert all(p is q and p.dtype == tinytorch.float64 for p, q in zip(model.parameters(), params))
    bn = nn.BatchNorm1d(2).to(tinytorch.float64)
    assert bn.running_mean.dtype == tinytorch.float64 and bn.num_batches_tracked.dtype == tinytorch.int64
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    with pytest.raises(TypeError, match="floating point"):
        model.to(tinytorch.int64)


def test_deepcopy_gives_independent_parameters():
    model = ARCHITECTURES["mlp"](tinytorch)
    twin = copy.deepcopy(model)
    twin[0].weight.data.fill_(0.0)
    assert model[0].weight.abs().sum().item() > 0
    assert isinstance(twin[0].weight, nn.Parameter)


def test_sequential_indexing_slicing_and_editing():
    layers = [nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 2)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and seq[0] is layers[0] and seq[-1] is layers[2]
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head) == layers[:2]
    x = tinytorch.randn(4, 2)
    np.testing.assert_array_equal(seq(x).numpy(force=True), seq[2](seq[1](seq[0](x))).numpy(force=True))
    seq.append(nn.ReLU())
    assert list(dict(seq.named_children())) == ["0", "1", "2", "3"]
    del seq[1]
    assert list(dict(seq.named_children())) == ["0", "1", "2"] and seq[1] is layers[2]
    seq[0] = nn.Identity()
    assert isinstance(seq[0], nn.Identity)
    with pytest.raises(IndexError, match="out of range"):
        seq[5]  # noqa: B018
    with pytest.raises(TypeError, match="not a Module"):
        seq.append(lambda t: t)


def test_module_list_and_dict():
    items = nn.ModuleList([nn.Linear(1, 1)])
    items.append(nn.Tanh())
    items.extend([nn.ReLU()])
    items.insert(0, nn.Sigmoid())
    assert [type(m).__name__ for m in items] == ["Sigmoid", "Linear", "Tanh", "ReLU"]
    assert isinstance(items[1:], nn.ModuleList) and len(items[1:]) == 3
    assert list(dict(items.named_children())) == ["0", "1", "2", "3"]
    assert [k for k, _ in items.named_parameters()] == ["1.weight", "1.bias"]
    with pytest.raises(NotImplementedError):
        items(tinytorch.ones(1))

    heads = nn.ModuleDict({"x": nn.Linear(1, 1)})
    heads["y"] = nn.Tanh()
    heads.update([("z", nn.ReLU())])
    assert list(heads) == ["x", "y", "z"] and "y" in heads and len(heads) == 3
    assert isinstance(heads.pop("y"), nn.Tanh) and list(heads.keys()) == ["x", "z"]
    assert [k for k, _ in heads.named_parameters()] == ["x.weight", "x.bias"]


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(6, 3), (5, 3, 4)])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm1d_running_stats_and_eval_output_match_torch(shape, momentum):
    rng = np.random.default_rng(0)
    ref = torch.nn.BatchNorm1d(3, momentum=momentum).double()
    ours = nn.BatchNorm1d(3, momentum=momentum).double()
    with torch.no_grad():
        ref.weight.copy_(torch.tensor([1.5, -0.5, 2.0]))
        ref.bias.copy_(torch.tensor([0.1, 0.2, -0.3]))
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    for _ in range(3):
        x = rng.standard_normal(shape) * 2 + 1
        out_ref, out = ref(torch.tensor(x)), ours(tinytorch.tensor(x))
        np.testing.assert_allclose(out.numpy(force=True), out_ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    for name, value in ref.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[name].numpy(), value.numpy(), rtol=1e-12, err_msg=name)
    ref.eval()
    ours.eval()
    x = rng.standard_normal(shape)
    np.testing.assert_allclose(ours(tinytorch.tensor(x)).numpy(force=True), ref(torch.tensor(x)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    assert ours.num_batches_tracked.item() == 3


def test_batchnorm1d_refuses_other_ranks():
    with pytest.raises(ValueError, match="2D .* or 3D"):
        nn.BatchNorm1d(3)(tinytorch.randn(2, 3, 4, 5))


@pytest.mark.torch
@pytest.mark.parametrize("make", [
    lambda m: m.nn.Tanh(), lambda m: m.nn.ReLU(), lambda m: m.nn.Sigmoid(), lambda m: m.nn.GELU(),
    lambda m: m.nn.GELU(approximate="tanh"), lambda m: m.nn.Softmax(dim=1), lambda m: m.nn.Flatten(0),
    lambda m: m.nn.LayerNorm(4), lambda m: m.nn.LayerNorm(4, elementwise_affine=False),
    lambda m: m.nn.Linear(4, 2).double(),
])
def test_layers_match_torch_forward_and_backward(make):
    torch.manual_seed(0)
    ref, ours = make(torch).double(), make(tinytorch).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 4))
    outs, grads = [], []
    for m, layer in ((torch, ref), (tinytorch, ours)):
        t = m.tensor(x, requires_grad=True)
        out = layer(t)
        (out * m.tensor(np.arange(out.numel(), dtype=np.float64).reshape(tuple(out.shape)))).sum().backward()
        outs.append(out.detach().numpy())
        grads.append(t.grad.numpy())
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-10, atol=1e-12)


@pytest.mark.torch
def test_embedding_lookup_and_padding_idx_match_torch():
    torch.manual_seed(0)
    ref = torch.nn.Embedding(5, 3, padding_idx=1).double()
    ours = nn.Embedding(5, 3, padding_idx=1).double()
    assert not ours.weight[1].numpy(force=True).any()
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    idx = np.array([[0, 1, 1], [4, 0, 2]])
    for m, layer in ((torch, ref), (tinytorch, ours)):
        layer(m.tensor(idx)).sum().backward()
    np.testing.assert_array_equal(ours(tinytorch.tensor(idx)).numpy(force=True), ref(torch.tensor(idx)).detach().numpy())
    np.testing.assert_array_equal(ours.weight.grad.numpy(), ref.weight.grad.numpy())
    frozen = nn.Embedding.from_pretrained(tinytorch.eye(3))
    assert not frozen.weight.requires_grad and frozen(tinytorch.tensor([2]))[0, 2].item() == 1.0
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(5, 3, padding_idx=5)


@pytest.mark.torch
def test_loss_modules_match_torch():
    rng = np.random.default_rng(0)
    logits, targets = rng.standard_normal((6, 4)), np.array([0, 3, 1, -100, 2, 2])
    for kw in (dict(), dict(reduction="sum", ignore_index=-100), dict(label_smoothing=0.1)):
        ours = nn.CrossEntropyLoss(**kw)(tinytorch.tensor(logits), tinytorch.tensor(targets))
        ref = torch.nn.CrossEntropyLoss(**kw)(torch.tensor(logits), torch.tensor(targets))
        assert ours.item() == pytest.approx(ref.item(), rel=1e-12)
    a, b = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    for reduction in ("mean", "sum", "none"):
        ours = nn.MSELoss(reduction=reduction)(tinytorch.tensor(a), tinytorch.tensor(b))
        ref = torch.nn.MSELoss(reduction=reduction)(torch.tensor(a), torch.tensor(b))
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")


def test_unsupported_nn_names_say_so():
    with pytest.raises(AttributeError, match="does not support 'torch.nn.Conv3d'"):
        nn.Conv3d  # noqa: B018
