"""tinytorch.save / tinytorch.load with names ending in .safetensors: tinytorch's native checkpoints, which
hold no pickle; atomic writes (a writer killed midway leaves the old checkpoint)."""
import io
import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

import tinytorch
import tinytorch.nn as nn


def training_checkpoint():
    """What a training script saves: model, optimizer, step, RNG state, config and odd values."""
    tinytorch.manual_seed(0)
    model = nn.Sequential(nn.Embedding(5, 4), nn.Linear(4, 3), nn.BatchNorm1d(2))
    opt = tinytorch.optim.AdamW(model[:2].parameters(), lr=1e-3)
    model[:2](tinytorch.tensor([1, 2])).sum().backward()
    opt.step()
    return {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "step": 1234,
        "rng": tinytorch.get_rng_state(),
        "config": {"n_layer": 2, "dropout": 0.1, "name": "gpt", "bias": False, "none": None, "betas": (0.9, 0.95)},
        "history": [1.5, 1.25, float("inf")],
        "extras": [tinytorch.tensor(3.5, dtype=tinytorch.float64), tinytorch.tensor([True, False]),
                   tinytorch.arange(6, dtype=tinytorch.int32).reshape(2, 3).t(),  # not contiguous
                   tinytorch.ones(2, dtype=tinytorch.float16), tinytorch.zeros(0, 3)],
    }


def assert_same(a, b, where="top"):
    assert type(a) is type(b) or (isinstance(a, dict) and isinstance(b, dict)), f"{where}: {type(a)} vs {type(b)}"
    if isinstance(a, tinytorch.Tensor):
        assert a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape), where
        np.testing.assert_array_equal(a.numpy(force=True), b.numpy(force=True), err_msg=where)
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            assert_same(a[k], b[k], f"{where}/{k!r}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}/{i}")
    else:
        assert a == b, where


def test_round_trip_of_a_training_checkpoint(tmp_path):
    ckpt = training_checkpoint()
    path = tmp_path / "ckpt.safetensors"
    tinytorch.save(ckpt, path)
    loaded = tinytorch.load(path)
    assert_same(ckpt, loaded)
    assert list(loaded["optimizer"]["state"]) == [0, 1, 2]  # int keys stay ints
    assert loaded["config"]["betas"] == (0.9, 0.95)
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]  # no temporary file left behind


def test_loaded_tensors_are_writable_and_resume_training(tmp_path):
    def make():
        tinytorch.manual_seed(1)
        model = nn.Linear(3, 2)
        return model, tinytorch.optim.AdamW(model.parameters(), lr=0.1)

    def steps(model, opt, n):
        for _ in range(n):
            opt.zero_grad()
            (model(tinytorch.ones(4, 3)) ** 2).mean().backward()
            opt.step()

    straight, opt = make()
    steps(straight, opt, 4)
    first, opt = make()
    steps(first, opt, 2)
    tinytorch.save({"model": first.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "c.safetensors")
    ckpt = tinytorch.load(tmp_path / "c.safetensors")
    resumed, opt2 = make()
    resumed.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["optimizer"])
    steps(resumed, opt2, 2)
    assert_same(resumed.state_dict(), straight.state_dict())


def test_rng_state_restores_the_stream(tmp_path):
    tinytorch.manual_seed(5)
    tinytorch.randn(3)
    tinytorch.save({"rng": tinytorch.get_rng_state()}, tmp_path / "rng.safetensors")
    expected = tinytorch.randn(4).numpy()
    tinytorch.set_rng_state(tinytorch.load(tmp_path / "rng.safetensors")["rng"])
    np.testing.assert_array_equal(tinytorch.randn(4).numpy(), expected)


def test_the_file_is_plain_safetensors(tmp_path):
    state = nn.Linear(3, 2).state_dict()
    tinytorch.save(state, tmp_path / "model.safetensors")
    raw = load_file(str(tmp_path / "model.safetensors"))
    assert sorted(raw) == ["bias", "weight"]
    np.testing.assert_array_equal(raw["weight"], state["weight"].numpy())
    # and a safetensors file written by someone else loads as a flat dict of tensors
    save_file({"a.weight": np.eye(2, dtype=np.float32)}, str(tmp_path / "foreign.safetensors"))
    loaded = tinytorch.load(tmp_path / "foreign.safetensors")
    assert list(loaded) == ["a.weight"] and loaded["a.weight"].dtype == tinytorch.float32


@pytest.mark.torch
def test_a_torch_state_dict_saved_as_safetensors_loads_into_a_tinytorch_model(tmp_path):
    import torch
    from safetensors.torch import save_file as torch_save_file
    ref = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4))
    torch_save_file(ref.state_dict(), str(tmp_path / "torch.safetensors"))
    ours = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4))
    ours.load_state_dict(tinytorch.load(tmp_path / "torch.safetensors"))
    x = np.ones((2, 3), dtype=np.float32)
    np.testing.assert_allclose(ours(tinytorch.tensor(x)).numpy(force=True), ref(torch.tensor(x)).detach().numpy(),
                               rtol=1e-6, atol=1e-6)


def test_a_truncated_file_is_refused(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    tinytorch.save(training_checkpoint(), path)
    data = path.read_bytes()
    for cut in (len(data) - 1, len(data) // 2, 12):
        path.write_bytes(data[:cut])
        with pytest.raises(RuntimeError, match="truncated"):
            tinytorch.load(path)


def test_unsupported_values_name_their_place():
    with pytest.raises(TypeError, match=r"'model'/'act'"):
        tinytorch.save({"model": {"act": nn.Tanh()}}, "unused.safetensors")
    with pytest.raises(TypeError, match="dict key"):
        tinytorch.save({(1, 2): tinytorch.ones(1)}, "unused.safetensors")
    assert not os.path.exists("unused.safetensors")


def test_map_location(tmp_path):
    tinytorch.save({"w": tinytorch.ones(2)}, tmp_path / "w.safetensors")
    for map_location in ("cpu", {"cuda": "cpu"}, lambda storage, location: storage):
        assert tinytorch.load(tmp_path / "w.safetensors", map_location=map_location)["w"].device.type == "cpu"
    with pytest.raises(TypeError, match="map_location"):
        tinytorch.load(tmp_path / "w.safetensors", map_location=3)


def test_a_file_object_holding_a_checkpoint_loads(tmp_path):
    ckpt = training_checkpoint()
    tinytorch.save(ckpt, tmp_path / "ckpt.safetensors")
    assert_same(ckpt, tinytorch.load(io.BytesIO((tmp_path / "ckpt.safetensors").read_bytes())))


def big_state(value):
    return {"w": tinytorch.full((1024, 1024), value), "step": int(value)}


def kill_a_writer_midway(tmp_path, patch, printed):
    """Save a checkpoint with step 1, then start a Python process that saves step 2 over it with
    `patch` applied (which prints `printed` and stalls) and kill it once it has printed that.
    Returns the checkpoint's path."""
    path = tmp_path / "ckpt.safetensors"
    tinytorch.save(big_state(1.0), path)
    script = tmp_path / "writer.py"
    script.write_text(textwrap.dedent(patch) + f"""
tinytorch.save({{"w": tinytorch.full((1024, 1024), 2.0), "step": 2}}, {str(path)!r})
""")
    writer = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == printed
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    return path


def test_killed_between_write_and_rename_keeps_the_old_checkpoint(tmp_path):
    path = kill_a_writer_midway(tmp_path, """
        import os, time, tinytorch
        def stall(src, dst):
            print("written", flush=True)
            time.sleep(60)
        os.replace = stall
    """, "written")
    assert tinytorch.load(path)["step"] == 1
    assert (tinytorch.load(path)["w"].numpy() == 1.0).all()
    leftovers = [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]
    assert len(leftovers) == 1 and leftovers[0].startswith(".ckpt.safetensors.")


def test_killed_in_the_middle_of_writing_keeps_the_old_checkpoint(tmp_path):
    path = kill_a_writer_midway(tmp_path, """
        import time, safetensors.numpy, tinytorch, tinytorch.serialization.safetensors_format as safetensors_format
        def half_then_stall(tensors, filename, metadata=None):
            data = safetensors.numpy.save(tensors, metadata=metadata)
            with open(filename, "wb") as f:
                f.write(data[:len(data) // 2])
            print("half", flush=True)
            time.sleep(60)
        safetensors_format.save_file = half_then_stall
    """, "half")
    ckpt = tinytorch.load(path)
    assert ckpt["step"] == 1 and (ckpt["w"].numpy() == 1.0).all()


def test_a_flipped_byte_in_the_tensor_data_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    tinytorch.save(training_checkpoint(), path)
    data = bytearray(path.read_bytes())
    data[-20] ^= 0x01  # a bit of the last tensor's data
    path.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match=rf"'{path}' .*does not match its checksum"):
        tinytorch.load(path)
    # a file without the checksum (written before it existed, or by another program) still loads
    metadata = {"tinytorch": json.dumps({"dict": [["w", {"tensor": "w", "device": "cpu"}]]})}
    save_file({"w": np.arange(3, dtype=np.float32)}, str(tmp_path / "old.safetensors"), metadata=metadata)
    assert tinytorch.load(tmp_path / "old.safetensors")["w"].tolist() == [0.0, 1.0, 2.0]


def with_tree(tree_json):
    """A safetensors file holding one float32 tensor "a" of 3 elements and `tree_json` as tinytorch's tree."""
    header = json.dumps({"__metadata__": {"tinytorch": tree_json},
                         "a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}}).encode()
    return len(header).to_bytes(8, "little") + header + b"\0" * 12


@pytest.mark.parametrize("content", [
    with_tree(json.dumps({"dict": [[1]]})),                                  # a pair without a value (unpack error)
    with_tree(json.dumps({"tensor": "a", "device": 7})),                     # a number as device (attribute error)
    with_tree(json.dumps({"value": {"x": 1}})),                              # a dict as a value (loaded silently)
    with_tree('{"list": [' * 3000 + '{"value": 1}' + "]}" * 3000),           # nested 3000 deep (recursion error)
    with_tree("[" * 100_000 + "]" * 100_000),                                # deeper than JSON parses
    with_tree('{"value": ' + "9" * 5000 + "}"),                              # a 5000-digit number
], ids=["pair", "device", "value dict", "deep tree", "deep json", "huge number"])
@pytest.mark.parametrize("source", ["path", "file object"])
def test_malformed_metadata_of_any_shape_is_one_error_naming_the_file(tmp_path, content, source):
    path = tmp_path / "hand-made.safetensors"
    path.write_bytes(content)
    with pytest.raises(RuntimeError) as error:
        tinytorch.load(path if source == "path" else io.BytesIO(content))
    message = str(error.value)
    assert message.startswith("tinytorch.load: '") and "not a valid tinytorch safetensors checkpoint" in message
    assert (str(path) if source == "path" else "<BytesIO>") in message and "\n" not in message
