"""tinytorch.save / tinytorch.load against real torch: files written by torch.save (zip and legacy
formats) load in tinytorch, files written by tinytorch.save load in torch.load(weights_only=True),
over a table of objects, into paths and file objects; nanoGPT's and makemore's checkpoints both
ways; the format told by its bytes; map_location; clear errors for files that cannot load."""
import dataclasses
import io
import zipfile

import numpy as np
import pytest
import torch

import tinytorch
from devices import on_devices
from harness import assert_same

pytestmark = pytest.mark.torch


@dataclasses.dataclass
class Config:
    """A config dataclass as training scripts save it beside the weights."""
    n_layer: int
    dropout: float
    name: str
    betas: tuple


# ---- a table of objects, each built by the same function in either library -----------------------

DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "uint8", "bool"]


def every_dtype(m):
    return {name: m.tensor([[0, 1, 2], [3, 250, 5]], dtype=getattr(m, name)) for name in DTYPES}


def zero_dim_and_empty(m):
    return {"loss": m.tensor(2.5), "step": m.tensor(7), "flag": m.tensor(True), "empty": m.zeros(0, 3)}


def views_of_one_tensor(m):
    x = m.arange(24.0).reshape(4, 6)
    return {"x": x, "transposed": x.t(), "row": x[2], "column": x[:, 1], "strided": x[1:, ::2], "x again": x}


def containers(m):
    return {"list": [1, [2, [3]]], "tuple": (m.ones(2), (3, "x")), "nested": {"a": {"b": {"c": m.zeros(1)}}},
            "int keys": {0: "a", 1: "b"}, "empties": [(), [], {}], "long list": list(range(1500))}


def primitives(m):
    return {"ints": [0, -1, 255, 256, 65535, 65536, -2 ** 31, 2 ** 31, 2 ** 70, -2 ** 70],
            "floats": [0.0, -1.5, 1e-300, float("inf"), float("-inf")], "text": ["", "ascii", "ünïcødé ✓"],
            "none": None, "bools": [True, False], "bytes": b"\x00\xffbytes", "complex": 1 + 2j, "set": {1, 2}}


def torch_types(m):
    return {"size": m.Size([2, 3]), "empty size": m.Size([]), "cpu": m.device("cpu"), "cuda": m.device("cuda", 0),
            "dtypes": [m.float32, m.int64, m.bool, m.float16]}


def parameters(m):
    m.manual_seed(0)
    return {"weight": m.nn.Parameter(m.randn(2, 3)), "frozen": m.nn.Parameter(m.zeros(3), requires_grad=False),
            "requires grad": m.ones(2, requires_grad=True)}


def module_state_dict(m):
    m.manual_seed(0)
    return m.nn.Sequential(m.nn.Linear(3, 4), m.nn.LayerNorm(4), m.nn.BatchNorm1d(4)).state_dict()


def optimizer_state_dict(m):
    m.manual_seed(0)
    model = m.nn.Linear(3, 2)
    optimizer = m.optim.AdamW(model.parameters(), lr=0.1)
    model(m.ones(4, 3)).sum().backward()
    optimizer.step()
    return {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "iter_num": 1}


def config_dataclass(m):
    return {"config": Config(n_layer=2, dropout=0.1, name="gpt", betas=(0.9, 0.95)), "step": 3}


CASES = [every_dtype, zero_dim_and_empty, views_of_one_tensor, containers, primitives, torch_types, parameters,
         module_state_dict, optimizer_state_dict, config_dataclass]


def layout(obj):
    """`obj` with what assert_same does not compare spelled out: whether a tensor is a Parameter
    and its strides (of non-empty tensors: NumPy gives empty arrays zero strides), devices as
    strings, dataclasses as (class, fields), a dict's torch `_metadata` attribute."""
    if isinstance(obj, (torch.Tensor, tinytorch.Tensor)):
        return type(obj).__name__ == "Parameter", tuple(obj.stride()) if obj.numel() else None, obj
    if isinstance(obj, (torch.device, tinytorch.device)):
        return "device", str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return type(obj), layout(vars(obj))
    if isinstance(obj, dict):
        return type(obj)({key: layout(value) for key, value in obj.items()}), getattr(obj, "_metadata", None)
    if type(obj) in (list, tuple):
        return type(obj)(layout(item) for item in obj)
    return obj


def torch_zip_to_tinytorch(case, target):
    saved = case(torch)
    torch.save(saved, target)
    return layout(tinytorch.load(rewound(target))), layout(saved)


def torch_legacy_to_tinytorch(case, target):
    saved = case(torch)
    torch.save(saved, target, _use_new_zipfile_serialization=False)
    return layout(tinytorch.load(rewound(target))), layout(saved)


def tinytorch_to_torch(case, target):
    saved = case(tinytorch)
    tinytorch.save(saved, target)
    return layout(saved), layout(torch.load(rewound(target), weights_only=True))


def rewound(target):
    if isinstance(target, io.BytesIO):
        target.seek(0)
    return target


@pytest.fixture
def config_allowed():
    with torch.serialization.safe_globals([Config]), tinytorch.serialization.safe_globals([Config]):
        yield


@pytest.mark.parametrize("into", ["path", "BytesIO"])
@pytest.mark.parametrize("direction", [torch_zip_to_tinytorch, torch_legacy_to_tinytorch, tinytorch_to_torch])
@pytest.mark.parametrize("case", CASES)
def test_round_trips_with_torch(case, direction, into, tmp_path, config_allowed):
    target = tmp_path / "ckpt.pt" if into == "path" else io.BytesIO()
    ours, theirs = direction(case, target)
    assert_same(ours, theirs, case.__name__, atol=0, rtol=0)


def test_tinytorch_reads_back_what_it_wrote(tmp_path, config_allowed):
    for case in CASES:
        saved = case(tinytorch)
        tinytorch.save(saved, tmp_path / "ckpt.pt")
        assert_same(layout(tinytorch.load(tmp_path / "ckpt.pt")), layout(saved), case.__name__, atol=0, rtol=0)


def test_tensors_that_share_memory_share_one_storage_both_ways(tmp_path):
    tinytorch.save(views_of_one_tensor(tinytorch), tmp_path / "ours.pt")
    records = zipfile.ZipFile(tmp_path / "ours.pt").namelist()
    assert [name for name in records if "/data/" in name] == ["ours/data/0"]
    theirs = torch.load(tmp_path / "ours.pt", weights_only=True)
    assert len({t.untyped_storage().data_ptr() for t in theirs.values()}) == 1
    theirs["x"][2, 1] = -1.0
    assert theirs["transposed"][1, 2] == theirs["row"][1] == theirs["column"][2] == -1.0

    torch.save(views_of_one_tensor(torch), tmp_path / "theirs.pt")
    ours = tinytorch.load(tmp_path / "theirs.pt")
    assert ours["x"] is ours["x again"]
    ours["x"].numpy()[2, 1] = -1.0
    assert ours["transposed"][1, 2].item() == ours["row"][1].item() == ours["column"][2].item() == -1.0


# ---- nanoGPT's and makemore's checkpoints ---------------------------------------------------------

MODEL_ARGS = dict(n_layer=2, n_head=2, n_embd=16, block_size=8, bias=False, vocab_size=11, dropout=0.0)


def nanogpt_checkpoint(m, model, optimizer, best_val_loss):
    """What nanoGPT's train.py saves in ckpt.pt."""
    return {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "model_args": dict(MODEL_ARGS),
            "iter_num": 250, "best_val_loss": best_val_loss,
            "config": {"out_dir": "out", "batch_size": 12, "learning_rate": 6e-4, "compile": False}}


def one_training_step(m, model, optimizer, idx):
    _, loss = model(idx, idx)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()


def tiny_gpt(m, GPT, config):
    m.manual_seed(0)
    model = GPT(config)
    for p in model.parameters():
        m.nn.init.normal_(p, std=0.2)
    return model, model.configure_optimizers(0.1, 1e-3, (0.9, 0.95))


def assert_same_parameters(ours, theirs):
    theirs = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.detach().numpy(), theirs[name].detach().numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=name)


@pytest.mark.parametrize("best_val_loss", [torch.tensor(1.25), 1.25], ids=["tensor", "float"])
def test_a_nanogpt_checkpoint_written_by_torch_resumes_in_tinytorch(tmp_path, best_val_loss):
    from twins.gpt import TorchGPT
    from tinytorch.models.gpt import GPT, GPTConfig

    twin, optimizer = tiny_gpt(torch, TorchGPT, GPTConfig(**MODEL_ARGS))
    idx = torch.randint(0, MODEL_ARGS["vocab_size"], (2, 8), generator=torch.Generator().manual_seed(1))
    one_training_step(torch, twin, optimizer, idx)
    torch.save(nanogpt_checkpoint(torch, twin, optimizer, best_val_loss), tmp_path / "ckpt.pt")

    checkpoint = tinytorch.load(tmp_path / "ckpt.pt", map_location="cpu")  # as nanoGPT's train.py resumes
    assert checkpoint["iter_num"] == 250 and checkpoint["config"]["batch_size"] == 12
    assert float(checkpoint["best_val_loss"]) == 1.25
    model = GPT(GPTConfig(**checkpoint["model_args"]))
    model.load_state_dict(checkpoint["model"])
    ours = model.configure_optimizers(0.1, 1e-3, (0.9, 0.95))
    ours.load_state_dict(checkpoint["optimizer"])
    one_training_step(torch, twin, optimizer, idx)
    one_training_step(tinytorch, model, ours, tinytorch.from_numpy(idx.numpy()))
    assert_same_parameters(model, twin)


def test_a_nanogpt_checkpoint_written_by_tinytorch_resumes_in_torch(tmp_path):
    from twins.gpt import TorchGPT
    from tinytorch.models.gpt import GPT, GPTConfig

    model, optimizer = tiny_gpt(tinytorch, GPT, GPTConfig(**MODEL_ARGS))
    idx = np.random.default_rng(1).integers(0, MODEL_ARGS["vocab_size"], (2, 8))
    one_training_step(tinytorch, model, optimizer, tinytorch.from_numpy(idx))
    tinytorch.save(nanogpt_checkpoint(tinytorch, model, optimizer, tinytorch.tensor(1.25)), tmp_path / "ckpt.pt")

    checkpoint = torch.load(tmp_path / "ckpt.pt", map_location="cpu", weights_only=True)
    assert checkpoint["iter_num"] == 250 and checkpoint["best_val_loss"].item() == 1.25
    twin = TorchGPT(GPTConfig(**checkpoint["model_args"]))
    twin.load_state_dict(checkpoint["model"])
    theirs = twin.configure_optimizers(0.1, 1e-3, (0.9, 0.95))
    theirs.load_state_dict(checkpoint["optimizer"])
    one_training_step(tinytorch, model, optimizer, tinytorch.from_numpy(idx))
    one_training_step(torch, twin, theirs, torch.from_numpy(idx))
    assert_same_parameters(model, twin)


def makemore_batch():
    rng = np.random.default_rng(0)
    return rng.integers(0, 27, (16, 8)), rng.integers(0, 27, 16)


def test_a_makemore_model_pt_written_by_torch_loads_in_tinytorch_and_back(tmp_path):
    from twins.makemore import TorchWaveNet
    from tinytorch.models.wavenet import WaveNet

    idx, targets = makemore_batch()
    torch.manual_seed(0)
    twin = TorchWaveNet(27)
    twin(torch.from_numpy(idx), torch.from_numpy(targets))  # a training-mode pass moves the BatchNorm statistics
    torch.save(twin.state_dict(), tmp_path / "model.pt")  # makemore.py's checkpoint
    model = WaveNet(27)
    model.load_state_dict(tinytorch.load(tmp_path / "model.pt"))
    expected, _ = twin.eval()(torch.from_numpy(idx), torch.from_numpy(targets))
    logits, _ = model.eval()(tinytorch.from_numpy(idx), tinytorch.from_numpy(targets))
    np.testing.assert_allclose(logits.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-5)

    tinytorch.save(model.state_dict(), tmp_path / "ours.pt")
    again = TorchWaveNet(27)
    again.load_state_dict(torch.load(tmp_path / "ours.pt", weights_only=True))
    assert again.layers[3].num_batches_tracked.item() == 1
    np.testing.assert_array_equal(again.eval()(torch.from_numpy(idx), torch.from_numpy(targets))[0].detach().numpy(),
                                  expected.detach().numpy())


# ---- formats, file objects, map_location, errors ----------------------------------------------------

def test_the_format_is_told_by_the_bytes_not_the_name(tmp_path):
    tinytorch.save({"w": tinytorch.ones(2)}, tmp_path / "native.safetensors")
    (tmp_path / "native.safetensors").rename(tmp_path / "native.pt")
    torch.save({"w": torch.ones(2)}, tmp_path / "zip.safetensors")
    torch.save({"w": torch.ones(2)}, tmp_path / "legacy.bin", _use_new_zipfile_serialization=False)
    for name in ("native.pt", "zip.safetensors", "legacy.bin"):
        assert tinytorch.load(tmp_path / name)["w"].tolist() == [1.0, 1.0], name
        with open(tmp_path / name, "rb") as f:
            assert tinytorch.load(f)["w"].tolist() == [1.0, 1.0], name
    assert tinytorch.load(io.BytesIO((tmp_path / "native.pt").read_bytes()))["w"].tolist() == [1.0, 1.0]


def test_a_pickle_of_protocol_4_loads(tmp_path):
    torch.save(views_of_one_tensor(torch), tmp_path / "p4.pt", pickle_protocol=4)
    ours = tinytorch.load(tmp_path / "p4.pt")
    assert ours["strided"].tolist() == torch.arange(24.0).reshape(4, 6)[1:, ::2].tolist()


@on_devices
def test_tensors_come_back_to_the_device_they_were_saved_from(tmp_path, device):
    x = tinytorch.arange(6.0).reshape(2, 3).to(device)
    tinytorch.save({"x": x, "t": x.t()}, tmp_path / "ckpt.pt")
    location = b"cpu" if device == "cpu" else b"cuda:0"
    assert location in zipfile.ZipFile(tmp_path / "ckpt.pt").read("ckpt/data.pkl")
    theirs = torch.load(tmp_path / "ckpt.pt", map_location="cpu", weights_only=True)
    assert theirs["t"].tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    for legacy in (False, True):
        torch.save(theirs, tmp_path / "theirs.pt", _use_new_zipfile_serialization=not legacy)
        for path in (tmp_path / "ckpt.pt", tmp_path / "theirs.pt"):
            ours = tinytorch.load(path, map_location=None if path.name == "ckpt.pt" else device)
            assert ours["x"].device.type == ours["t"].device.type == device
            assert ours["t"].tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]


def test_map_location_of_the_wrong_kind_is_refused(tmp_path):
    tinytorch.save({"w": tinytorch.ones(1)}, tmp_path / "w.pt")
    with pytest.raises(TypeError, match="map_location must be"):
        tinytorch.load(tmp_path / "w.pt", map_location=3)
    with pytest.raises(RuntimeError, match="unknown device 'mps'"):
        tinytorch.load(tmp_path / "w.pt", map_location="mps")
    with pytest.raises(RuntimeError, match="map_location returned a list"):
        tinytorch.load(tmp_path / "w.pt", map_location=lambda storage, location: [])


def test_weights_only_false_is_refused_with_the_reason_and_the_way_forward(tmp_path):
    torch.save({"w": torch.ones(1)}, tmp_path / "w.pt")
    for kwargs in ({"weights_only": False}, {"pickle_module": __import__("pickle")}):
        with pytest.raises(ValueError, match="never runs code from a file.*add_safe_globals"):
            tinytorch.load(tmp_path / "w.pt", **kwargs)
    assert tinytorch.load(tmp_path / "w.pt", weights_only=None)["w"].tolist() == [1.0]  # torch's default


def test_files_that_are_not_checkpoints_are_refused_naming_the_file(tmp_path):
    torch.save(views_of_one_tensor(torch), tmp_path / "zip.pt")
    torch.save(views_of_one_tensor(torch), tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    zip_bytes, legacy_bytes = (tmp_path / "zip.pt").read_bytes(), (tmp_path / "legacy.pt").read_bytes()
    files = {
        "empty.pt": (b"", "is empty"),
        "notes.txt": (b"hello, this is not a checkpoint at all\n" * 10, "is not a checkpoint"),
        "cut-zip.pt": (zip_bytes[:len(zip_bytes) // 2], "not a valid zip archive"),
        "cut-legacy.pt": (legacy_bytes[:len(legacy_bytes) - 10], "truncated"),
        "cut-pickle.pt": (legacy_bytes[:40], "truncated"),
        "other.zip": (_zip_of({"hello.txt": b"hi"}), "not a PyTorch checkpoint"),
        "torchscript.pt": (_zip_of({"m/data.pkl": b"", "m/constants.pkl": b""}), "TorchScript"),
        "flipped-bit.pt": (zip_bytes.replace(b"\x00\x00\x80?", b"\x00\x01\x80?", 1), "CRC"),
    }
    for name, (data, problem) in files.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(RuntimeError, match=rf"'{tmp_path / name}'.*{problem}"):
            tinytorch.load(tmp_path / name)
    with pytest.raises(FileNotFoundError):
        tinytorch.load(tmp_path / "missing.pt")


def _zip_of(records):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in records.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_save_refuses_what_it_cannot_name_and_leaves_no_file(tmp_path):
    def local_function():
        pass
    with pytest.raises(TypeError, match=r"key path 'hook'.*local_function"):
        tinytorch.save({"hook": local_function}, tmp_path / "ckpt.pt")
    with pytest.raises(TypeError, match="cannot save a generator"):
        tinytorch.save({"gen": (i for i in range(2))}, tmp_path / "ckpt.pt")
    with pytest.raises(TypeError, match="file path or a binary file object"):
        tinytorch.save({}, 3)
    assert list(tmp_path.iterdir()) == []
