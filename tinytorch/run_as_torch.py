"""Run an unmodified PyTorch script on tinytorch.

    python -m tinytorch.run_as_torch script.py [args...]      # like `python script.py args...`
    python -m tinytorch.run_as_torch -m package.module [args...]
    python -m tinytorch.run_as_torch -m torch.distributed.run --nproc_per_node=2 train.py   # torchrun

Installs `tinytorch.compat` (so the script's `import torch` gives tinytorch), then runs the
script as `__main__` with `sys.argv` and `sys.path[0]` set as Python would set them. A module
under `torch.` runs as its tinytorch twin (`-m torch.distributed.run` is tinytorch's launcher,
which then starts every rank's script under the compat layer too).
"""
import importlib.util
import os
import runpy
import sys

from . import compat

USAGE = "usage: python -m tinytorch.run_as_torch (script.py | -m module) [args...]"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        sys.exit(USAGE)
    if argv[0] in ("-h", "--help"):
        print(USAGE + "\nRuns a PyTorch script with `import torch` resolving to tinytorch.")
        return
    if argv[0] == "-m":
        if len(argv) < 2:
            sys.exit(f"run_as_torch: -m needs a module name\n{USAGE}")
        argv = ["-m", tinytorch_twin(argv[1]), *argv[2:]]
        if not _module_exists(argv[1]):
            sys.exit(f"run_as_torch: no module named {argv[1]}")
    elif not os.path.isfile(argv[0]):
        sys.exit(f"run_as_torch: no such script: {argv[0]}")
    compat.install()
    run(argv)


def run(argv):
    """Run `script.py args...` or `-m module args...` as `__main__`, as `python` would."""
    if argv[0] == "-m":
        sys.argv = argv[1:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        return
    sys.argv = list(argv)
    sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))
    runpy.run_path(argv[0], run_name="__main__")


def tinytorch_twin(module):
    """`torch.x.y` -> `tinytorch.x.y` (what the compat layer gives for it); other names unchanged."""
    return "tinytorch" + module[len("torch"):] if module == "torch" or module.startswith("torch.") else module


def _module_exists(name):
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


if __name__ == "__main__":
    main()
