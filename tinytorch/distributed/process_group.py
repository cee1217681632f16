"""The default process group: init_process_group and what asks about it (torch's names).

The processes and their ranks come from MPI (started by tinytorch.distributed.run or mpirun);
the backend then carries the collectives: "mpi" for CPU tensors, "gloo" accepted as the same
engine (so torch CPU scripts run unchanged), "nccl" for CUDA tensors (NCCL through CuPy, its
unique id broadcast over MPI). init_method "env://" (the default) checks RANK and WORLD_SIZE,
when set, against MPI's; no store is needed, so MASTER_ADDR and MASTER_PORT are not read. With
more than one process, an uncaught exception stops the whole job (failure.py).
"""
import datetime
import os
import sys

from . import failure
from .mpi import import_mpi
from .mpi_backend import MPIBackend
from .nccl_backend import NCCLBackend

BACKENDS = ("mpi", "gloo", "nccl")
TIMEOUTS = {"nccl": datetime.timedelta(minutes=10)}  # torch's defaults
DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)
NOT_INITIALIZED = "Default process group has not been initialized, please make sure to call init_process_group."

_group = None          # the backend of the default process group
_previous_hook = None  # sys.excepthook before init_process_group


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Join this process to the default process group of every process MPI started."""
    global _group, _previous_hook
    if _group is not None:
        raise RuntimeError("trying to initialize the default process group twice!")
    name = (backend or "gloo").lower()
    if name not in BACKENDS:
        raise ValueError(f"init_process_group: backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if init_method not in (None, "env://"):
        raise ValueError(f"init_process_group: init_method {init_method!r} is not supported: the ranks come from "
                         "MPI (tinytorch.distributed.run or mpirun); leave it out or give 'env://'")
    if store is not None:
        raise ValueError("init_process_group: store is not supported: the ranks come from MPI")
    mpi = import_mpi()
    world = mpi.COMM_WORLD
    _check("world_size", world_size, "WORLD_SIZE", world.Get_size(), world.Get_size())
    _check("rank", rank, "RANK", world.Get_rank(), world.Get_size())
    timeout = timeout or TIMEOUTS.get(name, DEFAULT_TIMEOUT)
    _group = NCCLBackend(world, timeout) if name == "nccl" else MPIBackend(mpi, world, name, timeout)
    if world.Get_size() > 1:
        _previous_hook = failure.stop_on_uncaught_exceptions(world)


def _check(what, given, variable, actual, size):
    """`given` (an argument, else the environment variable) must be what MPI says."""
    if given is None or given < 0:
        given = int(os.environ[variable]) if os.environ.get(variable, "").isdigit() else None
    if given is not None and given != actual:
        raise RuntimeError(f"init_process_group: {what}={given} but MPI started this process as rank "
                           f"{import_mpi().COMM_WORLD.Get_rank()} of {size}: start the script with "
                           "`python -m tinytorch.distributed.run --nproc_per_node=N script.py` or `mpirun -n N`")


def default_group():
    if _group is None:
        raise ValueError(NOT_INITIALIZED)
    return _group


def group_of(group):
    """The backend of `group`: only the default group (None) exists here."""
    if group is not None and group is not _group:
        raise ValueError("only the default process group (group=None) is supported")
    return default_group()


def destroy_process_group(group=None):
    global _group, _previous_hook
    group_of(group).close()
    _group = None
    if _previous_hook is not None:
        sys.excepthook, _previous_hook = _previous_hook, None


def is_available():
    return True


def is_initialized():
    return _group is not None


def is_mpi_available():
    try:
        import_mpi()
    except RuntimeError:
        return False
    return True


is_gloo_available = is_mpi_available


def is_nccl_available():
    try:
        import cupy.cuda.nccl  # noqa: F401
    except ImportError:
        return False
    return True


def get_rank(group=None):
    return group_of(group).rank


def get_world_size(group=None):
    return group_of(group).size


def get_backend(group=None):
    return group_of(group).name
