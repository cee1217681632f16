"""The MPI engine under tinytorch.distributed: mpi4py (the `distributed` extra installs it with the
MPICH wheel), imported on first use so that `import tinytorch.distributed` works without it."""
import os
import shutil
import sys
from pathlib import Path

INSTALL = "pip install 'tinytorch[distributed]' (mpi4py and the mpich wheel)"


class MPINotInstalled(RuntimeError):
    """mpi4py or an MPI library is missing."""


def import_mpi():
    """mpi4py's MPI module (initializing MPI on first use); MPINotInstalled when it cannot load."""
    try:
        from mpi4py import MPI
    except ImportError as e:  # mpi4py itself, or its search for an MPI library, failed
        raise MPINotInstalled(f"tinytorch.distributed needs MPI, which is not installed ({e}): {INSTALL}") from None
    return MPI


def mpiexec():
    """The path of the mpiexec that starts processes for this Python's mpi4py (the one installed
    beside it by the MPI wheel, else the first on PATH)."""
    import_mpi()
    here = str(Path(sys.executable).parent)
    found = shutil.which("mpiexec", path=here) or shutil.which("mpiexec")
    if found is None:
        raise MPINotInstalled(f"no mpiexec beside {sys.executable} or on PATH: {INSTALL}")
    return found


def launched_world_size():
    """How many processes this one was started with, read from the environment without starting
    MPI: WORLD_SIZE (torchrun, tinytorch.distributed.run), else the variables of MPI's own
    launchers (PMI_SIZE: MPICH's mpiexec, OMPI_COMM_WORLD_SIZE: Open MPI's), else 1."""
    for name in ("WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE"):
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return 1
