"""Malicious pickles given to every path by which tinytorch and its command lines load a file: each
refuses with a clear error, and nothing the pickle asks for happens.

The payloads create the file MARKER when unpickled by Python or by torch.load(weights_only=False)
(checked first, so these tests can fail): a torch zip checkpoint whose data.pkl calls builtins.open,
a legacy torch checkpoint calling os.system, and bare pickles calling eval (protocol 2),
subprocess.call (protocol 4) and os.system (protocol 0).

The load paths: tinytorch.load (a path and a file object; map_location None, 'cpu', a device, a
dict, a callable; weights_only True and False); GPT.from_pretrained (a folder holding
pytorch_model.bin or model.safetensors, or the file); the GPT training checkpoint readers; and, run
as users run them, `python -m tinytorch.models.gpt sample --out / --pretrained`, `... gpt train
--resume` and `... train --dataset` (token shards), `python -m tinytorch.models.makemore
--sample-only`, `python -m tinytorch.models.hellaswag --pretrained / --checkpoint`, `python -m
tinytorch.tokenizers encode --tokenizer PREFIX`, and a script calling torch.load under
`python -m tinytorch.run_as_torch`.
"""
import json
import os
import pickle
import re
import subprocess
import sys
import textwrap

import pytest
import torch

import tinytorch
from tinytorch.models.gpt import GPT
from tinytorch.models.gpt.checkpoint import load_model, read_checkpoint

pytestmark = pytest.mark.torch

REFUSED = r"Weights only load failed|is not a checkpoint|is not supported: tinytorch never runs code"


class Payload:
    """An object whose unpickling calls `call(*args)`."""

    def __init__(self, call, *args):
        self.call, self.args = call, args

    def __reduce__(self):
        return self.call, self.args


def payloads(marker):
    """{name: (file bytes, how Python or torch would run it)} for payloads that create `marker`."""
    def torch_file(legacy, payload):
        path = marker.parent / "payload.tmp"
        torch.save({"w": torch.ones(2), "payload": payload}, path, _use_new_zipfile_serialization=not legacy)
        data = path.read_bytes()
        path.unlink()
        return data

    unrestricted_torch = (lambda path: torch.load(path, weights_only=False))
    unrestricted_pickle = (lambda path: pickle.loads(path.read_bytes()))
    return {
        "torch zip, builtins.open": (torch_file(False, Payload(open, str(marker), "w")), unrestricted_torch),
        "torch legacy, os.system": (torch_file(True, Payload(os.system, f"touch {marker}")), unrestricted_torch),
        "pickle 2, eval": (pickle.dumps(Payload(eval, f"open({str(marker)!r}, 'w')"), protocol=2), unrestricted_pickle),
        "pickle 4, subprocess": (pickle.dumps(Payload(subprocess.call, ["touch", str(marker)]), protocol=4),
                                 unrestricted_pickle),
        "pickle 0, os.system": (f"cos\nsystem\n(S'touch {marker}'\ntR.".encode(), unrestricted_pickle),
    }


NAMES = ["torch zip, builtins.open", "torch legacy, os.system", "pickle 2, eval", "pickle 4, subprocess",
         "pickle 0, os.system"]


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "MARKER"
    yield path
    assert not path.exists(), "a payload ran"


def test_the_payloads_really_run_when_unpickled_without_restriction(tmp_path):
    marker = tmp_path / "MARKER"
    assert list(payloads(marker)) == NAMES
    for name, (data, unrestricted_load) in payloads(marker).items():
        (tmp_path / "payload").write_bytes(data)
        try:
            unrestricted_load(tmp_path / "payload")
        except Exception:  # after the payload ran, the rest of the object may not build
            pass
        assert marker.exists(), name
        marker.unlink()


MAP_LOCATIONS = [None, "cpu", tinytorch.device("cpu"), {"cuda:0": "cpu"}, lambda storage, location: storage]


@pytest.mark.parametrize("name", NAMES)
def test_tinytorch_load_refuses_them_with_every_argument(tmp_path, marker, name):
    data, _ = payloads(marker)[name]
    path = tmp_path / "ckpt.pt"
    path.write_bytes(data)
    for map_location in MAP_LOCATIONS:
        for weights_only in (True, None, False):
            with pytest.raises((RuntimeError, ValueError), match=REFUSED):
                tinytorch.load(path, map_location=map_location, weights_only=weights_only)
            with open(path, "rb") as f, pytest.raises((RuntimeError, ValueError), match=REFUSED):
                tinytorch.load(f, map_location=map_location, weights_only=weights_only)
    with pytest.raises(RuntimeError, match=rf"'{path}'"):  # the error names the file
        tinytorch.load(path)


@pytest.mark.parametrize("name", NAMES)
def test_gpt_from_pretrained_refuses_them(tmp_path, marker, name):
    data, _ = payloads(marker)[name]
    for file in ("pytorch_model.bin", "model.safetensors"):
        folder = tmp_path / file.replace(".", "_")
        folder.mkdir()
        (folder / file).write_bytes(data)
        (folder / "config.json").write_text(json.dumps({"n_head": 2}))
        for path in (folder, folder / file):
            with pytest.raises(RuntimeError, match=rf"({REFUSED}).*'{folder / file}'|'{folder / file}'.*({REFUSED})"):
                GPT.from_pretrained(path)


@pytest.mark.parametrize("name", NAMES)
def test_the_training_checkpoint_readers_refuse_them(tmp_path, marker, name):
    data, _ = payloads(marker)[name]
    (tmp_path / "ckpt.safetensors").write_bytes(data)
    for read in (read_checkpoint, load_model):
        with pytest.raises(RuntimeError, match=REFUSED):
            read(tmp_path / "ckpt.safetensors")


TINY = ["--n_layer=1", "--n_embd=16", "--n_head=2", "--block_size=8", "--batch_size=2", "--max_iters=2",
        "--eval_interval=2", "--eval_iters=1", "--sample_tokens=0", "--total_batch_tokens=16"]


def command_lines(tmp_path, data):
    """(command line, what it refuses with) for every command that loads a file, each given `data`."""
    run, hf, shards, makemore = (tmp_path / name for name in ("run", "hf", "shards", "makemore"))
    for folder in (run, hf, shards, makemore):
        folder.mkdir()
    (run / "ckpt.safetensors").write_bytes(data)
    (hf / "pytorch_model.bin").write_bytes(data)
    (shards / "train_000000.npy").write_bytes(data)
    (shards / "val_000000.npy").write_bytes(data)
    (makemore / "model.safetensors").write_bytes(data)
    (makemore / "config.json").write_text(json.dumps({"model": "bigram", "chars": "abc", "block_size": 1,
                                                      "max_word_length": 3}))
    (tmp_path / "tok.model").write_bytes(data)
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent("""
        import sys, torch
        torch.load(sys.argv[1], map_location="cpu", weights_only=sys.argv[2] == "True")
    """))
    gpt = [sys.executable, "-m", "tinytorch.models.gpt"]
    return [
        ([*gpt, "sample", "--out", str(run), "--max-new-tokens", "2"], REFUSED),
        ([*gpt, "sample", "--pretrained", str(hf), "--max-new-tokens", "2"], REFUSED),
        ([*gpt, "train", "--preset", "shakespeare-char-cpu", "--out", str(run), "--resume", "--quiet", *TINY], REFUSED),
        ([*gpt, "train", "--preset", "shakespeare-char-cpu", "--dataset", str(shards), "--out", str(tmp_path / "o"),
          "--quiet", *TINY], "error: "),  # np.load(allow_pickle=False) never unpickles
        ([sys.executable, "-m", "tinytorch.models.makemore", "--model", "bigram", "--sample-only", "--out",
          str(makemore)], REFUSED),
        ([sys.executable, "-m", "tinytorch.models.hellaswag", "--pretrained", str(hf / "pytorch_model.bin")], REFUSED),
        ([sys.executable, "-m", "tinytorch.models.hellaswag", "--checkpoint", str(run)], REFUSED),
        ([sys.executable, "-m", "tinytorch.tokenizers", "encode", "--tokenizer", str(tmp_path / "tok"), "--text", "hi"],
         "error: "),
        ([sys.executable, "-m", "tinytorch.run_as_torch", str(script), str(run / "ckpt.safetensors"), "True"], REFUSED),
        ([sys.executable, "-m", "tinytorch.run_as_torch", str(script), str(run / "ckpt.safetensors"), "False"],
         REFUSED),
    ]


@pytest.mark.parametrize("name", ["torch zip, builtins.open", "pickle 2, eval"])
def test_every_command_line_that_loads_a_file_refuses_them(tmp_path, marker, name):
    data, _ = payloads(marker)[name]
    for command, refusal in command_lines(tmp_path, data):
        proc = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120)
        shown = " ".join(command[1:4])
        assert proc.returncode != 0, shown
        assert not marker.exists(), shown
        assert re.search(refusal, proc.stderr), f"{shown}: {proc.stderr[-2000:]}"
        if "tinytorch.run_as_torch" not in command:  # the CLIs report bad input in one line, no traceback
            assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, \
                f"{shown}: {proc.stderr[-2000:]}"
