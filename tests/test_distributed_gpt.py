"""The GPT trainer on 2 processes (CPU, MPI) against 1 process with the same global batch, gradient
accumulation in both (DDP's no_sync() for all micro-batches but the last): the same weights within
float32 rounding on every rank; the command line under the launcher logs on rank 0, writes one
checkpoint, and resumes on another number of processes."""
import json
import sys

import numpy as np
import pytest

import tinytorch
from launching import launch, records, run, script
from tinytorch.models.gpt.data import RandomWindows
from tinytorch.models.gpt.presets import resolve
from tinytorch.models.gpt.shards import write_shards
from tinytorch.models.gpt.train import train

# 256 tokens per step: 4 micro-batches of 4x16 on one process, 2 on each of two
SMALL = ["--n_layer=2", "--n_embd=32", "--n_head=2", "--block_size=16", "--batch_size=4", "--dropout=0",
         "--total_batch_tokens=256", "--warmup_iters=1", "--learning_rate=1e-2"]
FLOAT32_ROUNDING = 1e-5  # weights of size ~1 after a few AdamW steps summed in another order


def shards(folder):
    """Token shards of Tiny Shakespeare's first 60,000 characters (byte values as token ids): val + 3 train."""
    text = tinytorch.data.read_text("tinyshakespeare")[:60000]
    write_shards([text[i:i + 5000] for i in range(0, 60000, 5000)], folder, 15003,
                 lambda doc: [ord(c) % 256 for c in doc], eot=50256)
    return folder


@pytest.mark.parametrize("dataset", ["tinyshakespeare", "shards"])  # random windows; build-nanogpt's loader
def test_two_processes_train_the_weights_of_one_process_on_every_rank(tmp_path, dataset):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    data = [f"--dataset={shards(tmp_path / 'shards') if dataset == 'shards' else dataset}"]
    run([sys.executable, script("gpt_replicas.py"), one, *SMALL, *data, "--max_iters=3"])
    launch(2, script("gpt_replicas.py"), two, *SMALL, *data, "--max_iters=3")
    single, replicas = records(one), records(two)
    assert (single[0]["world_size"], single[0]["accum"]) == (1, 4)
    assert [(r["world_size"], r["accum"]) for r in replicas.values()] == [(2, 2), (2, 2)]
    alone = np.load(one / "rank0.npy")
    for rank in (0, 1):
        weights = np.load(two / f"rank{rank}.npy")
        assert np.abs(weights - alone).max() < FLOAT32_ROUNDING, f"rank {rank}"
        np.testing.assert_allclose(replicas[rank]["losses"], single[0]["losses"], rtol=1e-6)
    assert np.array_equal(np.load(two / "rank0.npy"), np.load(two / "rank1.npy"))
    assert single[0]["losses"][-1] < single[0]["losses"][0] - 0.02  # it trained


def cli_train(nproc, out, *extra):
    args = ["-m", "tinytorch.models.gpt", "train", "--preset", "shakespeare-char-cpu", "--out", out, "--quiet",
            *SMALL, "--max_iters=4", "--eval_interval=2", "--eval_iters=3", "--sample_tokens=10", *extra]
    return launch(nproc, *args)


def test_the_command_line_on_two_processes_logs_once_writes_one_run_and_resumes_on_any_number(tmp_path):
    whole = train(resolve("shakespeare-char-cpu", SMALL + ["--max_iters=4", "--eval_interval=2", "--eval_iters=3",
                                                           "--sample_tokens=10"]), tmp_path / "whole", progress=False)
    parts = tmp_path / "parts"
    first = cli_train(2, parts, "--stop-at=2")
    assert sorted(p.name for p in parts.iterdir()) == ["ckpt.safetensors", "loss.png", "metrics.json"]
    assert first.stdout.count("step 0: train loss") == 1 and first.stdout.count("2 steps in") == 1
    assert "(2 micro-batches of 4x16 on each of 2 processes)" in first.stdout
    train(resolve("shakespeare-char-cpu", SMALL + ["--max_iters=4", "--eval_interval=2", "--eval_iters=3",
                                                   "--sample_tokens=10"]), parts, resume=True, stop_at=3,
          progress=False)
    cli_train(2, parts, "--resume")
    metrics = json.loads((parts / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["steps"] == 4 and metrics["step_tokens"] == [256] * 4
    np.testing.assert_allclose(metrics["step_loss"], whole["step_loss"], rtol=1e-6)
    np.testing.assert_allclose(metrics["val_loss_curve"], whole["val_loss_curve"], rtol=1e-6)
    assert metrics["samples"] == whole["samples"]
    resumed = tinytorch.load(parts / "ckpt.safetensors")["model"]
    uninterrupted = tinytorch.load(tmp_path / "whole" / "ckpt.safetensors")["model"]
    assert max(float((resumed[k] - uninterrupted[k]).abs().max()) for k in resumed) < FLOAT32_ROUNDING


def test_ranks_of_random_windows_read_together_what_one_process_reads():
    tokens = np.arange(1000, dtype=np.uint16)
    alone = RandomWindows(tokens, batch_size=3, block_size=8, seed=5)
    ranks = [RandomWindows(tokens, batch_size=3, block_size=8, seed=5, rank=r, world_size=2) for r in range(2)]
    for _ in range(3):
        expected = np.concatenate([alone.next_batch()[0], alone.next_batch()[0]])
        assert np.array_equal(np.concatenate([r.next_batch()[0] for r in ranks]), expected)
    assert ranks[0].state_dict() == ranks[1].state_dict() == alone.state_dict()  # one state for any world size
