"""Run an unmodified PyTorch script on tinytorch.

    python -m tinytorch.run_as_torch script.py [args...]      # like `python script.py args...`
    python -m tinytorch.run_as_torch -m package.module [args...]

Installs `tinytorch.compat` (so the script's `import torch` gives tinytorch), then runs the
script as `__main__` with `sys.argv` and `sys.path[0]` set as Python would set them.
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
        if not _module_exists(argv[1]):
            sys.exit(f"run_as_torch: no module named {argv[1]}")
        compat.install()
        sys.argv = argv[1:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        return
    script = argv[0]
    if not os.path.isfile(script):
        sys.exit(f"run_as_torch: no such script: {script}")
    compat.install()
    sys.argv = argv
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    runpy.run_path(script, run_name="__main__")


def _module_exists(name):
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


if __name__ == "__main__":
    main()
