"""Running Python in a fresh interpreter from a test: the example scripts under torch or under
`python -m tinytorch.run_as_torch`, and snippets after `compat.install()`.

A fresh interpreter each time: installing the `torch` alias changes `sys.modules` for good, and the
pytest process may already hold the real torch.
"""
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
TINYTORCH = ["-m", "tinytorch.run_as_torch"]  # the launcher of a script under tinytorch; [] runs it under torch


def python(*args, cwd=REPO, check=True, timeout=60):
    """CompletedProcess of `python ARGS` on one thread; a nonzero exit fails the test when `check`."""
    proc = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def run_example(launcher, script, *args, timeout=300):
    """The stdout of examples/SCRIPT run with `launcher` (TINYTORCH or [])."""
    return python(*launcher, str(EXAMPLES / script), *args, timeout=timeout).stdout


def under_compat(code):
    """Run `code` after compat.install(); it prints one JSON value, which is returned."""
    proc = python("-c", "from tinytorch import compat\ncompat.install()\n" + textwrap.dedent(code))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def losses(stdout, pattern=r"^step \d+: loss ([\d.]+)$"):
    """The floats that `pattern`'s group matches, line by line."""
    return [float(x) for x in re.findall(pattern, stdout, re.M)]
