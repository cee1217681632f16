"""Must show (issue 19): build-nanogpt-style code (examples/ddp_nanogpt.py, a plain PyTorch script: DDP,
require_backward_grad_sync, all_reduce of the loss with ReduceOp.AVG, backend "gloo") trains on 2 CPU
processes under `python -m tinytorch.run_as_torch -m torch.distributed.run`, like one process on the
same global batch, and like real PyTorch started by tinytorch's launcher."""
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import tinytorch
from launching import launch, run

SCRIPT = Path(__file__).resolve().parents[1] / "examples" / "ddp_nanogpt.py"
STEPS = 6
STEP_LINE = re.compile(r"^step +(\d+) \| loss: ([\d.]+) \|", re.M)
AS_TORCH = ("-m", "tinytorch.run_as_torch", "-m", "torch.distributed.run")


def losses(stdout):
    found = STEP_LINE.findall(stdout)
    assert [int(s) for s, _ in found] == list(range(STEPS)), stdout
    return np.array([float(loss) for _, loss in found])


def test_build_nanogpt_style_ddp_trains_on_two_processes_as_on_one(tmp_path):
    two = launch(2, SCRIPT, "--steps", STEPS, "--out", tmp_path / "two", launcher=AS_TORCH)
    assert "=> calculated gradient accumulation steps: 2" in two.stdout
    assert two.stdout.count("step    0 |") == 1  # printed by rank 0 only
    one = run([sys.executable, "-m", "tinytorch.run_as_torch", SCRIPT, "--steps", STEPS, "--out", tmp_path / "one"])
    assert "=> calculated gradient accumulation steps: 4" in one.stdout
    np.testing.assert_allclose(losses(two.stdout), losses(one.stdout), rtol=1e-5)
    assert losses(two.stdout)[-1] < losses(two.stdout)[0] - 0.3
    state = tinytorch.load(tmp_path / "two" / "model.pt")
    assert next(iter(state)).startswith("transformer.")  # the plain module's keys, no "module." prefix


@pytest.mark.torch
def test_real_torch_started_by_tinytorchs_launcher_trains_the_same_losses(tmp_path):
    tiny = launch(2, SCRIPT, "--steps", STEPS, "--out", tmp_path / "tiny", launcher=AS_TORCH)
    real = launch(2, SCRIPT, "--steps", STEPS, "--out", tmp_path / "real")  # `import torch` is PyTorch here
    np.testing.assert_allclose(losses(tiny.stdout), losses(real.stdout), rtol=1e-5)
