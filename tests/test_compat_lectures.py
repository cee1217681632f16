"""The makemore lecture scripts (plain PyTorch, in examples/) run unchanged under run_as_torch.

They use what the char transformer does not: torch.Generator streams, F.one_hot, advanced
indexing with `+=`, raw tensors updated through `.data`, and multinomial sampling with a
generator. tinytorch's random streams differ from torch's, so only seed-free numbers (the
count model's likelihood) are compared exactly; trained losses must fall.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
TINYTORCH = ["-m", "tinytorch.run_as_torch"]


def run(launcher, script, *args):
    proc = subprocess.run([sys.executable, *launcher, str(EXAMPLES / script), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def losses(stdout, pattern=r"^step \d+: loss ([\d.]+)$"):
    return [float(x) for x in re.findall(pattern, stdout, re.M)]


@pytest.fixture(scope="module")
def few_names(tmp_path_factory):
    """The first 2000 names: the bigram script counts pair by pair in Python, so keep it short."""
    path = tmp_path_factory.mktemp("names") / "names.txt"
    names = (Path(os.environ["TINYTORCH_DATA"]) / "names.txt").read_text().splitlines()[:2000]
    path.write_text("\n".join(names) + "\n")
    return path


def sampled_names(stdout, count):
    names = stdout.strip().splitlines()[-count:]
    assert all(re.fullmatch(r"[a-z]*", n) for n in names), names
    return names


@pytest.mark.torch
def test_bigram_lecture_trains_under_run_as_torch_and_counts_like_torch(few_names):
    args = ["--input", str(few_names), "--steps", "30", "--samples", "3"]
    ours, theirs = run(TINYTORCH, "makemore_bigram.py", *args), run([], "makemore_bigram.py", *args)
    count_model = r"count model: (\d+) bigrams, nll ([\d.]+)"
    assert re.search(count_model, ours).groups() == re.search(count_model, theirs).groups()
    curve = losses(ours)
    assert curve[0] > 3.5 and curve[-1] < 2.7, curve
    sampled_names(ours, 3)


def test_mlp_lecture_trains_under_run_as_torch():
    out = run(TINYTORCH, "makemore_mlp.py", "--steps", "600", "--samples", "3")
    step0 = losses(out)[0]
    final = dict(re.findall(r"^(train|dev) loss ([\d.]+)$", out, re.M))
    assert step0 > 3.0 and float(final["train"]) < 2.7 and float(final["dev"]) < 2.7, out
    sampled_names(out, 3)
