"""GPT training: the schedule, exact resume, run outputs, sampling from a run, and one-line CLI errors."""
import json
import math

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


def test_kernels_and_matmul_options_train_to_the_same_losses(tmp_path, monkeypatch):
    import tinytorch.backends as backends
    from tinytorch.cpu_matmul import mkl_available
    monkeypatch.setattr(backends, "kernels", "numpy")     # restored after the test: --kernels
    monkeypatch.setattr(backends, "cpu_matmul", "numpy")  # and --matmul set them
    choices = [("numpy", "numpy"), ("numba", "numpy")] + ([("numba", "mkl")] if mkl_available() else [])
    runs = {}
    for kernels, matmul in choices:
        out = tmp_path / f"{kernels}-{matmul}"
        main(["train", "--preset", "shakespeare-char-cpu", "--out", str(out), "--kernels", kernels, "--matmul", matmul,
              "--quiet", *TINY, "--dropout=0.0", "--sample_tokens=0"])
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
