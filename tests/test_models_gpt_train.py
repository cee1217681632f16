"""GPT training: the schedule, exact resume, run outputs, sampling from a run, and one-line CLI errors."""
import json
import math
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from devices import on_devices
from tinytorch.models.gpt import TrainConfig
from tinytorch.models.gpt.cli import main
from tinytorch.models.gpt.presets import resolve
from tinytorch.models.gpt.train import train

TINY = ["--n_layer=1", "--n_embd=32", "--n_head=2", "--block_size=16", "--batch_size=4", "--max_iters=8",
        "--eval_interval=4", "--eval_iters=2", "--sample_tokens=20", "--dropout=0.1", "--total_batch_tokens=128"]


def test_lr_schedule_warms_up_linearly_then_decays_by_cosine_to_min_lr():
    cfg = TrainConfig(learning_rate=1.0, min_lr=0.1, warmup_iters=10, lr_decay_iters=110, max_iters=200)
    assert cfg.lr_at(0) == pytest.approx(0.1)
    assert cfg.lr_at(9) == pytest.approx(1.0)
    assert cfg.lr_at(10) == pytest.approx(1.0)
    assert cfg.lr_at(60) == pytest.approx(0.1 + 0.9 * 0.5)
    assert cfg.lr_at(110) == pytest.approx(0.1)
    assert cfg.lr_at(150) == pytest.approx(0.1)
    assert cfg.lr_at(35) == pytest.approx(0.1 + 0.45 * (1 + math.cos(math.pi * 0.25)))


def test_presets_carry_nanogpt_and_build_nanogpt_settings():
    cpu = resolve("shakespeare-char-cpu")
    assert cpu["model"] == dict(n_layer=4, n_head=4, n_embd=128, block_size=64, dropout=0.0, bias=False)
    t = cpu["train"]
    assert (t.batch_size, t.max_iters, t.learning_rate, t.min_lr, t.warmup_iters, t.beta2) == (12, 2000, 1e-3, 1e-4,
                                                                                               100, 0.99)
    assert (t.beta1, t.eps, t.weight_decay, t.grad_clip) == (0.9, 1e-8, 0.1, 1.0)
    big = resolve("shakespeare-char")
    assert big["model"]["n_embd"] == 384 and big["model"]["dropout"] == 0.2 and big["train"].batch_size == 64
    gpt2 = resolve("gpt2-124m", ["--max_iters=5", "--bias=false"])
    assert gpt2["train"].total_batch_tokens == 524288 and gpt2["train"].max_iters == 5
    assert gpt2["model"]["bias"] is False and gpt2["train"].beta2 == 0.95


def run(out, *extra):
    return train(resolve("shakespeare-char-cpu", TINY + list(extra)), out, progress=False)


@on_devices
def test_a_resumed_run_matches_an_uninterrupted_one_to_the_last_digit(tmp_path, device):
    on = [f"--device={device}"]
    whole = run(tmp_path / "whole", *on)
    train(resolve("shakespeare-char-cpu", TINY + on), tmp_path / "parts", stop_at=4, progress=False)
    resumed = train(resolve("shakespeare-char-cpu", TINY + on), tmp_path / "parts", resume=True, progress=False)
    assert len(whole["step_loss"]) == 8
    assert resumed["step_loss"] == whole["step_loss"]  # exact floats, including dropout and accumulation
    assert resumed["val_loss_curve"] == whole["val_loss_curve"]
    assert resumed["samples"] == whole["samples"]


@on_devices
def test_a_run_writes_metrics_loss_curve_and_checkpoint(tmp_path, device):
    metrics = run(tmp_path, "--max_iters=4", "--eval_interval=2", f"--device={device}")
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["steps"] == 4 and saved["eval_steps"] == [0, 2, 4]
    assert saved["val_loss"] == saved["val_loss_curve"][-1] == saved["final_val_loss"]
    for key in ("train_loss", "val_loss", "val_loss_curve", "seconds", "params", "ms_per_step", "tokens_per_second"):
        assert saved[key] == metrics[key]
    assert saved["final_val_loss"] < math.log(65) + 0.1
    assert (tmp_path / "loss.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "ckpt.safetensors").stat().st_size > 0
    assert saved["samples"][-1]["text"].startswith("\n") and len(saved["samples"][-1]["text"]) == 21


@on_devices
def test_train_command_takes_the_device(tmp_path, device):
    main(["train", "--preset", "shakespeare-char-cpu", "--out", str(tmp_path), "--device", device, "--quiet",
          *TINY, "--max_iters=2", "--sample_tokens=0"])
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["steps"] == 2 and saved["train_config"]["device"] == device


def test_kernels_and_matmul_options_train_to_the_same_losses(tmp_path):
    import tinytorch.backends as backends
    from tinytorch.kernels.cpu.mkl_matmul import available
    choices = [("numpy", "numpy"), ("numba", "numpy")] + ([("numba", "mkl")] if available() else [])
    runs = {}
    with backends.using(kernels="numpy", cpu_matmul="numpy"):
        for kernels, matmul in choices:
            out = tmp_path / f"{kernels}-{matmul}"
            main(["train", "--preset", "shakespeare-char-cpu", "--out", str(out), "--kernels", kernels,
                  "--matmul", matmul, "--quiet", *TINY, "--dropout=0.0", "--sample_tokens=0"])
            runs[kernels, matmul] = json.loads((out / "metrics.json").read_text())
            assert (runs[kernels, matmul]["kernels"], runs[kernels, matmul]["cpu_matmul"]) == (kernels, matmul)
            assert (backends.kernels, backends.cpu_matmul) == ("numpy", "numpy")   # restored after each command
    for choice in choices[1:]:
        assert runs[choice]["val_loss_curve"] == pytest.approx(runs["numpy", "numpy"]["val_loss_curve"], rel=1e-4)


def test_sample_command_generates_from_a_run(tmp_path, capsys):
    run(tmp_path, "--max_iters=2", "--sample_tokens=0")
    capsys.readouterr()
    main(["sample", "--out", str(tmp_path), "--prompt", "ROMEO:", "--max-new-tokens", "30", "--num-samples", "2"])
    printed = capsys.readouterr().out.split("---------------\n")
    assert len(printed) == 3 and all(p.startswith("ROMEO:") and len(p) == 37 for p in printed[:2])


@pytest.mark.parametrize("argv, message", [
    (["train", "--preset", "nope", "--out", "{tmp}"], "unknown preset 'nope'"),
    (["train", "--preset", "shakespeare-char-cpu", "--out", "{tmp}", "--dataset", "{tmp}/missing.txt"],
     "dataset '{tmp}/missing.txt' not found"),
    (["train", "--preset", "shakespeare-char-cpu", "--out", "{tmp}", "--colour=blue"], "unknown override key 'colour'"),
    (["train", "--preset", "shakespeare-char-cpu", "--out", "{tmp}", "--max_iters=many"], "expected a value of type int"),
    (["train", "--preset", "gpt2-124m", "--out", "{tmp}"], "needs --dataset"),
    (["train", "--preset", "shakespeare-char-cpu", "--out", "{tmp}", "--resume"], "no checkpoint at"),
    (["sample", "--out", "{tmp}"], "no checkpoint at"),
])
def test_bad_input_gets_a_one_line_message(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert message.replace("{tmp}", str(tmp_path)) in err


def test_resuming_with_another_model_config_is_refused_in_one_line(tmp_path, capsys):
    run(tmp_path, "--max_iters=2", "--sample_tokens=0")
    with pytest.raises(SystemExit):
        main(["train", "--preset", "shakespeare-char-cpu", "--out", str(tmp_path), "--resume", *TINY, "--n_embd=64"])
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "different model config: n_embd=32 in the checkpoint but 64 here" in err


def test_profile_flag_writes_a_per_op_table(tmp_path):
    from tinytorch.models.gpt.cli import main
    main(["train", "--preset", "shakespeare-char-cpu", "--out", str(tmp_path), "--quiet", "--profile", "2",
          "--max_iters=3", "--eval_interval=3", "--eval_iters=1", "--n_layer=1", "--n_embd=32", "--n_head=2"])
    table = (tmp_path / "profile.txt").read_text()
    assert "Linear" in table and "CrossEntropy" in table and "backward" in table and "ms wall" in table


def cli_error(capsys, *argv):
    """Run the CLI expecting bad input: returns its one-line message (exit status 2)."""
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def train_cli(out, *extra):
    main(["train", "--preset", "shakespeare-char-cpu", "--out", str(out), "--quiet", *TINY, "--sample_tokens=0",
          *extra])


def test_a_folder_holding_a_run_is_refused_unless_resume_or_overwrite_is_given(tmp_path, capsys):
    train_cli(tmp_path, "--max_iters=4")
    finished = (tmp_path / "metrics.json").read_bytes(), (tmp_path / "ckpt.safetensors").read_bytes()
    err = cli_error(capsys, "train", "--preset", "shakespeare-char-cpu", "--out", tmp_path, "--quiet", *TINY,
                    "--max_iters=2")
    assert f"--out {tmp_path} already holds a run (ckpt.safetensors, metrics.json, loss.png)" in err
    assert "give --resume to continue it or --overwrite to replace it" in err
    assert ((tmp_path / "metrics.json").read_bytes(), (tmp_path / "ckpt.safetensors").read_bytes()) == finished
    train_cli(tmp_path, "--max_iters=2", "--overwrite")
    assert json.loads((tmp_path / "metrics.json").read_text())["steps"] == 2


@pytest.mark.parametrize("override, message", [
    ("--max_iters=0", "--max_iters must be an integer >= 1, got 0"),
    ("--max_iters=-5", "--max_iters must be an integer >= 1, got -5"),
    ("--batch_size=0", "--batch_size must be an integer >= 1, got 0"),
    ("--batch_size=-3", "--batch_size must be an integer >= 1, got -3"),
    ("--eval_interval=0", "--eval_interval must be an integer >= 1, got 0"),
    ("--eval_iters=0", "--eval_iters must be an integer >= 1, got 0"),
    ("--warmup_iters=-10", "--warmup_iters must be an integer >= 0, got -10"),
    ("--learning_rate=0", "--learning_rate must be a number > 0, got 0.0"),
    ("--learning_rate=nan", "--learning_rate must be a number > 0, got nan"),
    ("--beta2=1", "--beta2 must be a number in [0, 1), got 1.0"),
    ("--sample_tokens=-1", "--sample_tokens must be an integer >= 0, got -1"),
    ("--seed=-1", "--seed must be an integer >= 0, got -1"),
])
def test_bad_numbers_are_refused_up_front_in_one_line(tmp_path, capsys, override, message):
    err = cli_error(capsys, "train", "--preset", "shakespeare-char-cpu", "--out", tmp_path / "run", override)
    assert err == f"error: {message}\n"
    assert not (tmp_path / "run").exists()


def machine_gigabytes():
    kilobytes = int(re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text()).group(1))
    return f"{kilobytes * 1024 / 1e9:,.1f} GB"


def test_a_config_too_big_for_the_machine_is_refused_before_allocating(tmp_path, capsys):
    started = time.perf_counter()
    err = cli_error(capsys, "train", "--preset", "shakespeare-char-cpu", "--out", tmp_path, "--block_size=100000")
    assert time.perf_counter() - started < 5  # the model, the optimizer and the batch were never built
    assert "this run needs about " in err and f"more than this machine's {machine_gigabytes()}" in err
    assert "activations of a 12x100000 micro-batch" in err and "lower --batch_size, --block_size" in err
    assert list(tmp_path.iterdir()) == []


def test_resuming_with_other_train_settings_is_refused_naming_each_key_and_both_values(tmp_path, capsys):
    train_cli(tmp_path, "--stop-at", "2")
    err = cli_error(capsys, "train", "--preset", "shakespeare-char-cpu", "--out", tmp_path, "--resume", *TINY,
                    "--sample_tokens=0", "--learning_rate=0.002", "--seed=7")
    assert (f"checkpoint {tmp_path / 'ckpt.safetensors'} was trained with other settings: learning_rate=0.001 in "
            "the checkpoint but 0.002 here, seed=1337 in the checkpoint but 7 here; give --override learning_rate,seed"
            in err)
    err = cli_error(capsys, "train", "--preset", "shakespeare-char-cpu", "--out", tmp_path / "new", *TINY,
                    "--override", "learning_rate")
    assert "--override changes the settings of a resumed run: give it together with --resume" in err


def test_an_override_is_recorded_with_its_step_and_tokens_per_second_follow_each_steps_batch(tmp_path):
    train_cli(tmp_path, "--total_batch_tokens=0", "--stop-at", "4")
    train_cli(tmp_path, "--total_batch_tokens=0", "--resume", "--batch_size=8", "--override", "batch_size")
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["config_changes"] == [{"step": 4, "key": "batch_size", "from": 4, "to": 8}]
    assert metrics["step_tokens"] == [4 * 16] * 4 + [8 * 16] * 4
    assert metrics["train_config"]["batch_size"] == 8
    per_step = [1000 * tokens / ms for tokens, ms in zip(metrics["step_tokens"][5:], metrics["step_ms"][5:])]
    assert metrics["tokens_per_second"] == pytest.approx(float(np.median(per_step)))
    train_cli(tmp_path, "--total_batch_tokens=0", "--resume", "--batch_size=8", "--max_iters=10",
              "--override", "max_iters")  # the checkpoint now holds batch_size 8
    assert json.loads((tmp_path / "metrics.json").read_text())["steps"] == 10


@pytest.mark.parametrize("argv, message", [
    (["--temperature", "-1"], "argument --temperature: must be a finite number >= 0 (0: greedy), got '-1'"),
    (["--max-new-tokens", "-5"], "argument --max-new-tokens: must be an integer >= 1, got -5"),
    (["--top-k", "0"], "argument --top-k: must be an integer >= 1, got 0"),
    (["--prompt", ""], "argument --prompt: must not be empty (leave --prompt out to start from a newline)"),
    (["--num-samples", "0"], "argument --num-samples: must be an integer >= 1, got 0"),
])
def test_sample_refuses_bad_numbers_and_an_empty_prompt_in_one_line(tmp_path, capsys, argv, message):
    assert message in cli_error(capsys, "sample", "--out", tmp_path, *argv)


def test_sampled_text_is_printed_with_control_characters_escaped(tmp_path, capsys, monkeypatch):
    import tinytorch.models.gpt.train as train_module
    run(tmp_path, "--max_iters=2", "--sample_tokens=0")
    monkeypatch.setattr(train_module, "sample_text", lambda *args, **kwargs: "ROMEO:\x1b[2J\x07\n\tthou")
    capsys.readouterr()
    main(["sample", "--out", str(tmp_path), "--max-new-tokens", "3"])
    assert capsys.readouterr().out == "ROMEO:\\x1b[2J\\x07\n\tthou\n---------------\n"


KILLED = ["--n_layer=1", "--n_embd=16", "--n_head=2", "--block_size=8", "--batch_size=2", "--max_iters=44",
          "--eval_interval=6", "--eval_iters=1", "--sample_tokens=0", "--checkpoint_interval=2", "--dropout=0.1",
          "--kernels", "numpy", "--matmul", "numpy", "--quiet"]


def assert_every_file_loads(folder):
    """Each file a run writes is whole: the checkpoint loads, metrics.json parses, loss.png decodes."""
    from PIL import Image
    from tinytorch.models.gpt.checkpoint import read_checkpoint
    names = {p.name for p in folder.iterdir() if not p.name.endswith(".tmp")}
    assert names <= {"ckpt.safetensors", "metrics.json", "loss.png"}, names
    if "ckpt.safetensors" in names:
        assert read_checkpoint(folder / "ckpt.safetensors")["step"] > 0
    if "metrics.json" in names:
        assert json.loads((folder / "metrics.json").read_text())["steps"] > 0
    if "loss.png" in names:
        with Image.open(folder / "loss.png") as png:
            png.load()


def temporary_files(folder, prefix="."):
    """The names of the temporary files of atomic writes in folder (whose names start with prefix)."""
    if not folder.exists():
        return set()
    return {name for name in os.listdir(folder) if name.startswith(prefix) and name.endswith(".tmp")}


def start_and_kill(command, folder, rng):
    """Start `command` and SIGKILL it once it has begun writing files: just as it starts writing its n-th
    file, or while it draws loss.png (the longest write), or at a random moment up to 0.6 s (and at most
    five files) after its first write, so no life gets more than two checkpoints further. Returns (whether
    it finished before the kill, whether a file was being written when it died)."""
    left_by_others = temporary_files(folder)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    when, writes = rng.choice(["n-th write", "plot", "moment"]), rng.randint(1, 4)
    delay, deadline, started = rng.uniform(0, 0.6), None, set()
    while process.poll() is None:
        started |= temporary_files(folder, ".loss.png." if when == "plot" else ".") - left_by_others
        if when == "moment" and started and deadline is None:
            deadline = time.monotonic() + delay
        if (when == "n-th write" and len(started) >= writes) or (when == "plot" and started) or (
                deadline is not None and (time.monotonic() >= deadline or len(started) >= 5)):
            break
        time.sleep(0.001)
    process.send_signal(signal.SIGKILL)
    returncode = process.wait()
    assert returncode in (0, -signal.SIGKILL), process.stderr.read().decode()
    return returncode == 0, bool(temporary_files(folder) - left_by_others)


def test_a_run_killed_at_random_moments_leaves_files_that_load_and_resumes_to_the_same_weights(tmp_path):
    """SIGKILL, at least ten times, at random moments and while files are being written; every file left
    loads, and the run, resumed each time, ends with the weights, optimizer state and losses of an unkilled run."""
    from tinytorch.models.gpt.checkpoint import read_checkpoint
    command = [sys.executable, "-m", "tinytorch.models.gpt", "train", "--preset", "shakespeare-char-cpu", *KILLED]
    main(command[3:] + ["--out", str(tmp_path / "whole")])
    rng = random.Random(17)
    folder = tmp_path / "killed"
    kills = while_writing = 0
    finished = False
    while not finished:
        resume = ["--resume"] if (folder / "ckpt.safetensors").exists() else []
        if kills < 12:
            finished, writing = start_and_kill(command + ["--out", str(folder), *resume], folder, rng)
            kills += not finished
            while_writing += writing
        else:
            subprocess.run(command + ["--out", str(folder), *resume], check=True, stdout=subprocess.DEVNULL)
            finished = True
        assert_every_file_loads(folder)
    assert kills >= 10 and while_writing >= 3
    assert not [name for name in os.listdir(folder) if name.endswith(".tmp")]  # leftovers removed at each start
    whole = read_checkpoint(tmp_path / "whole" / "ckpt.safetensors")
    killed = read_checkpoint(folder / "ckpt.safetensors")
    assert killed["step"] == whole["step"] == 44
    for part in ("model", "optimizer", "rng", "data"):
        assert_same(killed[part], whole[part], part)
    for curve in ("step_loss", "lr", "eval_steps", "train_loss", "val_loss"):
        assert killed["log"][curve] == whole["log"][curve], curve


def assert_same(a, b, where):
    """Nested dicts/lists of tensors and values, equal to the last bit."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            assert_same(a[key], b[key], f"{where}/{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}/{i}")
    elif hasattr(a, "numpy"):
        assert a.dtype == b.dtype and np.array_equal(a.numpy(), b.numpy()), where
    else:
        assert a == b, where
