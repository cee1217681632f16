"""Storages and the tensors rebuilt over them: a view's numbers never reach memory outside its storage,
map_location as a function, Parameters and tensors with attributes."""
import numpy as np
import pytest
import torch

import tinytorch
from tinytorch.serialization.storages import Storage, rebuild_tensor_v2, restorer, strided_view

pytestmark = pytest.mark.torch


def storage(n=6):
    return Storage(np.arange(n, dtype=np.float32))


@pytest.mark.parametrize("offset, size, stride", [
    (0, (3, 3), (3, 1)), (6, (), ()), (5, (2,), (1,)), (0, (2,), (6,)), (-1, (2,), (1,)), (0, (2,), (-1,)),
    (0, (2, 2), (1,)), (0.5, (2,), (1,))])
def test_a_view_that_leaves_its_storage_is_refused(offset, size, stride):
    with pytest.raises(ValueError, match="tensor view"):
        rebuild_tensor_v2(storage(), offset, size, stride, False, {})


def test_views_inside_the_storage_share_its_memory():
    s = storage()
    t = rebuild_tensor_v2(s, 1, (2, 2), (1, 3), False, {})  # elements 1, 4 / 2, 5
    assert t.tolist() == [[1.0, 4.0], [2.0, 5.0]] and t.stride() == (1, 3)
    s.array[4] = -1
    assert t[0, 1].item() == -1
    assert strided_view(s.array, 0, (0, 3), (0, 0)).shape == (0, 3)  # empty views need no memory
    assert rebuild_tensor_v2(s, 0, (2,), (0,), True, {}).requires_grad  # stride 0: expanded, as torch saves it


def test_map_location_as_a_function():
    s = storage()
    for map_location in (None, "cpu", tinytorch.device("cpu"), {"cuda:0": "cpu"}, lambda storage, location: None):
        assert restorer(map_location)(s, "cpu") is s  # already on the CPU: nothing moves
    assert restorer({"cuda:1": "cpu"})(s, "cuda:1") is s
    with pytest.raises(RuntimeError, match="saved on 'mps'.*map_location='cpu'"):
        restorer(None)(s, "mps")
    with pytest.raises(TypeError, match="map_location must be"):
        restorer(1.5)


def test_parameters_keep_their_attributes(tmp_path):
    p = torch.nn.Parameter(torch.ones(2))
    p.note = "kept"  # torch saves a Parameter's Python attributes with _rebuild_parameter_with_state
    t = torch.ones(3)
    t.tag = 7  # and a tensor's with _rebuild_from_type_v2
    torch.save({"p": p, "t": t}, tmp_path / "attrs.pt")
    loaded = tinytorch.load(tmp_path / "attrs.pt")
    assert isinstance(loaded["p"], tinytorch.nn.Parameter) and loaded["p"].note == "kept"
    assert type(loaded["t"]) is tinytorch.Tensor and loaded["t"].tag == 7
