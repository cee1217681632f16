"""PyTorch's zip format: the archive laid out as torch lays it out, and crafted archives (a view
past its storage, a wrong element count, storages tagged 'cuda:0', a big-endian byte order) that
load only as they should, with errors naming the file."""
import io
import zipfile

import pytest
import torch

import tinytorch
from devices import HAS_GPU

pytestmark = pytest.mark.torch

CPU = b"X\x03\x00\x00\x00cpu"  # the location 'cpu' in the pickle (BINUNICODE)


def test_the_archive_is_laid_out_as_torch_lays_it_out(tmp_path):
    torch.save({"w": torch.ones(2)}, tmp_path / "model.v2.pt")
    tinytorch.save({"w": tinytorch.ones(2)}, tmp_path / "model.v2.pth")
    theirs = zipfile.ZipFile(tmp_path / "model.v2.pt")
    ours = zipfile.ZipFile(tmp_path / "model.v2.pth")
    assert ours.namelist() == theirs.namelist()  # model.v2/data.pkl, ..., model.v2/.data/serialization_id
    for name in ("model.v2/.format_version", "model.v2/.storage_alignment", "model.v2/byteorder", "model.v2/version"):
        assert ours.read(name) == theirs.read(name), name
    buffer = io.BytesIO()
    tinytorch.save({"w": tinytorch.ones(2)}, buffer)
    assert zipfile.ZipFile(buffer).namelist()[0] == "archive/data.pkl"  # torch's name in a file object
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.v2.pt", "model.v2.pth"]  # no temporary file left


def rewritten(tmp_path, record, replace):
    """A torch checkpoint of {"w": a (2, 3) float32 tensor over its own 6-element storage}, with
    `replace` applied to the record whose name ends in `record`."""
    buffer = io.BytesIO()
    torch.save({"w": torch.arange(6.0).reshape(2, 3)}, buffer)
    path = tmp_path / "crafted.pt"
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, replace(data) if name.endswith(record) else data)
    return path


def test_a_crafted_checkpoint_cannot_read_past_its_storage(tmp_path):
    sizes = b"K\x02K\x03\x86"  # the pickle's size tuple (2, 3)
    path = rewritten(tmp_path, "data.pkl", lambda data: data.replace(sizes, b"K\x02M\x00\x10\x86", 1))  # (2, 4096)
    with pytest.raises(RuntimeError, match=rf"'{path}'.*reaches element .* of a storage of 6 elements"):
        tinytorch.load(path)
    numel = b"K\x06t"  # the storage's element count in its persistent id
    path = rewritten(tmp_path, "data.pkl", lambda data: data.replace(numel, b"K\x07t", 1))
    with pytest.raises(RuntimeError, match=rf"'{path}'.*holds 24 bytes, not the 28"):
        tinytorch.load(path)


def cuda_saved_file(tmp_path):
    """A torch checkpoint whose storage is tagged 'cuda:0', made on a machine without a GPU."""
    return rewritten(tmp_path, "data.pkl", lambda data: data.replace(CPU, b"X\x06\x00\x00\x00cuda:0"))


@pytest.mark.parametrize("map_location", [
    "cpu", tinytorch.device("cpu"), b"cpu", {"cuda:0": "cpu"}, lambda storage, location: storage,
    lambda storage, location: storage.cpu()], ids=["str", "device", "bytes", "dict", "callable", "callable cpu"])
def test_map_location_moves_cuda_tensors_to_the_cpu(tmp_path, map_location):
    path = cuda_saved_file(tmp_path)
    w = tinytorch.load(path, map_location=map_location)["w"]
    assert w.device.type == "cpu" and w.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_without_map_location_tensors_go_back_to_the_gpu_or_the_error_says_what_to_do(tmp_path):
    path = cuda_saved_file(tmp_path)
    for map_location in (None, {"cpu": "cpu"}, lambda storage, location: None):
        if HAS_GPU:
            assert tinytorch.load(path, map_location=map_location)["w"].device.type == "cuda"
        else:
            with pytest.raises(RuntimeError, match=rf"'{path}'.*saved on cuda:0.*map_location='cpu'"):
                tinytorch.load(path, map_location=map_location)


def test_a_big_endian_archive_is_refused(tmp_path):
    path = rewritten(tmp_path, "byteorder", lambda data: b"big")
    with pytest.raises(RuntimeError, match=rf"'{path}' was written on a big-endian machine"):
        tinytorch.load(path)
