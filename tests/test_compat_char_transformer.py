"""Must show (issue 3): a PyTorch char-level transformer script, unmodified, trains under
`python -m tinytorch.run_as_torch` and its loss falls. The same file also trains on real torch."""
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "examples" / "char_transformer.py"
TINY = ["--steps", "30", "--eval-interval", "10", "--eval-iters", "4", "--batch-size", "16", "--block-size", "16",
        "--n-embd", "32", "--n-head", "4", "--n-layer", "2", "--lr", "1e-2", "--sample-tokens", "40"]
EVAL_LINE = re.compile(r"^step (\d+): train loss ([\d.]+), val loss ([\d.]+)$", re.M)


def train(launcher, out, *extra):
    proc = subprocess.run([sys.executable, *launcher, str(SCRIPT), *TINY, "--out", str(out), *extra],
                          cwd=REPO, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    evals = [(int(s), float(tr), float(va)) for s, tr, va in EVAL_LINE.findall(proc.stdout)]
    assert [s for s, _, _ in evals] == [0, 10, 20, 29], proc.stdout
    return evals, proc.stdout


def assert_loss_falls(evals):
    (_, train0, val0), (_, train_end, val_end) = evals[0], evals[-1]
    assert abs(train0 - math.log(65)) < 0.15, f"initial loss {train0} should be near ln(65) = 4.17"
    assert train_end < train0 - 0.6 and val_end < val0 - 0.6, evals


def test_char_transformer_trains_under_run_as_torch(tmp_path):
    from tinytorch.utils.tensorboard import read_scalars
    import tinytorch

    evals, stdout = train(["-m", "tinytorch.run_as_torch"], tmp_path)
    assert_loss_falls(evals)
    steps, losses = read_scalars(tmp_path / "runs")["train/loss"]
    assert steps == list(range(30)) and sum(losses[-5:]) < sum(losses[:5]) - 2.0
    state = tinytorch.load(str(tmp_path / "model.pt"))
    assert state["transformer.wte.weight"].shape == (65, 32)
    assert len(stdout.strip().splitlines()[-1]) > 0


def test_char_transformer_fused_attention_variant_trains_under_run_as_torch(tmp_path):
    evals, _ = train(["-m", "tinytorch.run_as_torch"], tmp_path,
                     "--attention", "fused", "--no-bias", "--activation", "relu", "--dropout", "0.1", "--top-k", "5")
    assert_loss_falls(evals)


@pytest.mark.torch
def test_the_same_script_trains_on_real_torch(tmp_path):
    evals, _ = train([], tmp_path, "--attention", "fused", "--activation", "tanh")
    assert_loss_falls(evals)
