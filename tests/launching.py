"""Running a script on several processes in a test: tinytorch.distributed.run (or a plain mpiexec)
in a subprocess, with a timeout so that a hang fails the test instead of stalling the suite."""
import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent / "distributed"
TIMEOUT = 240


def launch(nproc, *target, launcher=("-m", "tinytorch.distributed.run"), env=None, timeout=TIMEOUT, check=True):
    """CompletedProcess of `python -m tinytorch.distributed.run --nproc_per_node=N TARGET...` (text
    output); a nonzero exit fails the test when `check`."""
    return run([sys.executable, *launcher, f"--nproc_per_node={nproc}", *target], env, timeout, check)


def run(cmd, env=None, timeout=TIMEOUT, check=True, cwd=None):
    environment = dict(os.environ, TINYTORCH_KERNELS="numpy", OMP_NUM_THREADS="1", **(env or {}))
    cmd = [str(part) for part in cmd]
    done = subprocess.run(cmd, capture_output=True, text=True, env=environment, timeout=timeout,
                          cwd=cwd, stdin=subprocess.DEVNULL)
    if check:
        assert done.returncode == 0, f"{' '.join(cmd)} exited with {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def script(name):
    return SCRIPTS / name


def records(folder):
    """{rank: record} from the files rank{r}.json that the ranks wrote into folder (report())."""
    return {int(p.stem[4:]): json.loads(p.read_text()) for p in sorted(Path(folder).glob("rank*.json"))}


def mpiexec():
    return str(Path(sys.executable).parent / "mpiexec")
