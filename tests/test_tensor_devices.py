"""Devices: the same code on "cpu" (NumPy) and "cuda" (CuPy; skipped cleanly without a GPU),
the error for cuda without a GPU, and the error for mixing devices in one op."""
import numpy as np
import pytest

import tinytorch
from tinytorch.ops.errors import DeviceError

from devices import DEVICES, HAS_GPU

on_devices = pytest.mark.parametrize("dev", DEVICES)

FACTORIES = {
    "tensor": lambda d: tinytorch.tensor([[1.0, 2.0]], device=d),
    "zeros": lambda d: tinytorch.zeros(2, 3, device=d),
    "ones": lambda d: tinytorch.ones(2, dtype=tinytorch.int64, device=d),
    "full": lambda d: tinytorch.full((2,), 3.0, device=d),
    "arange": lambda d: tinytorch.arange(5, device=d),
    "eye": lambda d: tinytorch.eye(3, device=d),
    "linspace": lambda d: tinytorch.linspace(0, 1, 4, device=d),
    "randn": lambda d: tinytorch.randn(3, device=d),
    "rand": lambda d: tinytorch.rand(3, device=d),
    "randint": lambda d: tinytorch.randint(0, 4, (3,), device=d),
    "randperm": lambda d: tinytorch.randperm(4, device=d),
    "zeros_like": lambda d: tinytorch.zeros_like(tinytorch.ones(2, device=d)),
    "to": lambda d: tinytorch.ones(2).to(d),
    "to_device_object": lambda d: tinytorch.ones(2).to(tinytorch.device(d)),
}


@on_devices
@pytest.mark.parametrize("factory", list(FACTORIES))
def test_factories_place_tensors_on_the_device(dev, factory):
    t = FACTORIES[factory](dev)
    assert t.device.type == dev and t.is_cuda == (dev == "cuda")


@on_devices
def test_ops_and_gradients_stay_on_the_device(dev):
    x = tinytorch.tensor([[1.0, -2.0, 3.0]], device=dev, requires_grad=True)
    w = tinytorch.ones(3, 2, device=dev, requires_grad=True)
    y = ((x @ w).tanh() + x.sum(1, keepdim=True) * 0.5)[:, tinytorch.tensor([1, 1], device=dev)]
    y.sum().backward()
    assert y.device.type == x.grad.device.type == w.grad.device.type == dev
    cpu_x = tinytorch.tensor([[1.0, -2.0, 3.0]], requires_grad=True)
    cpu_w = tinytorch.ones(3, 2, requires_grad=True)
    ((cpu_x @ cpu_w).tanh() + cpu_x.sum(1, keepdim=True) * 0.5)[:, [1, 1]].sum().backward()
    np.testing.assert_allclose(x.grad.cpu().numpy(), cpu_x.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(w.grad.cpu().numpy(), cpu_w.grad.numpy(), rtol=1e-6)


@on_devices
def test_moving_to_the_device_and_back_keeps_values_and_gradient_flows_back(dev):
    x = tinytorch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    moved = x.to(dev)
    (moved * moved).sum().backward()
    assert moved.to("cpu").tolist() == [1.0, 2.0, 3.0]
    assert x.grad.device.type == "cpu" and x.grad.tolist() == [2.0, 4.0, 6.0]


@on_devices
def test_host_conversions_from_the_device(dev):
    t = tinytorch.tensor([[1.5, 2.5]], device=dev)
    assert t.tolist() == [[1.5, 2.5]] and t.sum().item() == 4.0
    assert isinstance(t.cpu().numpy(), np.ndarray)


@on_devices
def test_manual_seed_reproduces_draws_on_the_device(dev):
    tinytorch.manual_seed(123)
    a = tinytorch.randn(4, device=dev).tolist() + tinytorch.randint(0, 9, (4,), device=dev).tolist()
    tinytorch.manual_seed(123)
    b = tinytorch.randn(4, device=dev).tolist() + tinytorch.randint(0, 9, (4,), device=dev).tolist()
    assert a == b


@on_devices
def test_generator_state_restores_the_same_draws(dev):
    generator = tinytorch.Generator(dev).manual_seed(7)
    tinytorch.randn(3, device=dev, generator=generator)
    state = generator.get_state()
    first = tinytorch.rand(5, device=dev, generator=generator).tolist()
    assert tinytorch.rand(5, device=dev, generator=generator).tolist() != first
    generator.set_state(state)
    assert tinytorch.rand(5, device=dev, generator=generator).tolist() == first


@on_devices
def test_multinomial_on_the_device(dev):
    probs = tinytorch.tensor([[0.0, 1.0], [1.0, 0.0]], device=dev)
    draws = probs.multinomial(3, replacement=True)
    assert draws.device.type == dev and draws.tolist() == [[1, 1, 1], [0, 0, 0]]


@on_devices
def test_save_and_load_keep_the_device_or_map_it(dev, tmp_path):
    state = {"w": tinytorch.arange(6, dtype=tinytorch.float32, device=dev).reshape(2, 3)}
    tinytorch.save(state, tmp_path / "s.safetensors")
    back = tinytorch.load(tmp_path / "s.safetensors")
    on_cpu = tinytorch.load(tmp_path / "s.safetensors", map_location="cpu")
    assert back["w"].device.type == dev and on_cpu["w"].device.type == "cpu"
    assert back["w"].tolist() == on_cpu["w"].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


# ---- without a GPU ------------------------------------------------------------------------------
@pytest.mark.skipif(HAS_GPU, reason="checks the error raised when there is no GPU")
@pytest.mark.parametrize("ask", [lambda: tinytorch.zeros(2, device="cuda"), lambda: tinytorch.ones(2).cuda(),
                                 lambda: tinytorch.ones(2).to("cuda:0"), lambda: tinytorch.randn(2, device="cuda")],
                         ids=["zeros", "cuda", "to", "randn"])
def test_cuda_without_a_gpu_says_so(ask):
    with pytest.raises(RuntimeError, match="cuda"):
        ask()


def test_cuda_helpers_answer_without_a_gpu():
    assert tinytorch.cuda.is_available() in (True, False)
    assert tinytorch.cuda.device_count() == (tinytorch.cuda.device_count() if HAS_GPU else 0)
    tinytorch.cuda.synchronize()


def test_device_objects():
    assert tinytorch.device("cuda:0") == "cuda" and str(tinytorch.device("cuda", 0)) == "cuda:0"
    assert repr(tinytorch.device("cpu")) == "device(type='cpu')"
    with pytest.raises(RuntimeError, match="tpu"):
        tinytorch.device("tpu")


# ---- mixing devices -----------------------------------------------------------------------------
class ArrayOnAnotherDevice:
    """Stands in for a CuPy array: to tinytorch, any array that is not NumPy's lives on 'cuda'."""

    def __init__(self, a):
        self.shape, self.dtype, self.ndim, self.size = a.shape, a.dtype, a.ndim, a.size


def elsewhere(values):
    return tinytorch.Tensor._wrap(ArrayOnAnotherDevice(np.asarray(values)))


MIXES = {
    "add": lambda x, y: x + y,
    "mul_reflected": lambda x, y: y * x,
    "maximum": lambda x, y: tinytorch.maximum(x, y),
    "matmul": lambda x, y: x @ y,
    "cat": lambda x, y: tinytorch.cat([x, y]),
    "stack": lambda x, y: tinytorch.stack([x, y]),
    "where_condition": lambda x, y: tinytorch.where(y, x, x),
    "where_values": lambda x, y: tinytorch.where(x > 0, x, y),
    "masked_fill": lambda x, y: x.masked_fill(y, 0.0),
    "index": lambda x, y: x[y],
    "setitem": lambda x, y: x.__setitem__(0, y),
    "gather": lambda x, y: x.gather(0, y),
}


@pytest.mark.parametrize("mix", list(MIXES))
def test_mixing_devices_raises_naming_both(mix):
    x = tinytorch.ones(2, 2)
    y = elsewhere(np.ones((2, 2), dtype=np.int64 if mix in ("index", "gather") else
                          (np.bool_ if mix in ("masked_fill", "where_condition") else np.float32)))
    with pytest.raises(DeviceError, match=r"cpu.*cuda|cuda.*cpu"):
        MIXES[mix](x, y)
