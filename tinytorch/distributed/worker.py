"""One rank of a job started by tinytorch.distributed.run (through `mpiexec -n N`).

The process asks MPI who it is and sets torchrun's variables from the answer (RANK, LOCAL_RANK,
WORLD_SIZE, LOCAL_WORLD_SIZE, GROUP_RANK; the launcher set MASTER_ADDR and MASTER_PORT), runs the
script or module as `__main__` (under the torch compat layer with --as-torch), and when the
script fails here (an exception, or a nonzero exit status) stops the whole job with its error
(failure.py).

    python -m tinytorch.distributed.worker [--as-torch] (script.py | -m module) [args...]
"""
import os
import sys

from . import failure
from .mpi import import_mpi


def main(argv):
    mpi = import_mpi()
    world = mpi.COMM_WORLD
    node = world.Split_type(mpi.COMM_TYPE_SHARED)
    os.environ.update(RANK=str(world.Get_rank()), WORLD_SIZE=str(world.Get_size()), LOCAL_RANK=str(node.Get_rank()),
                      LOCAL_WORLD_SIZE=str(node.Get_size()), GROUP_RANK="0")
    node.Free()
    as_torch = argv[:1] == ["--as-torch"]
    argv = argv[1:] if as_torch else argv
    try:
        from .. import compat, run_as_torch
        if as_torch:
            compat.install()
        run_as_torch.run(argv)
    except SystemExit as e:
        if e.code not in (None, 0):
            failure.stop_on(world, e)
        raise
    except BaseException as e:
        failure.stop_on(world, e.with_traceback(script_frames(e.__traceback__)))


def script_frames(tb):
    """The traceback from the script's first frame on (without this module's, run_as_torch's and runpy's)."""
    from .. import run_as_torch
    ours = (__file__, run_as_torch.__file__)
    while tb.tb_next is not None and (tb.tb_frame.f_code.co_filename in ours
                                      or tb.tb_frame.f_code.co_filename.startswith("<frozen runpy")):
        tb = tb.tb_next
    return tb


if __name__ == "__main__":
    main(sys.argv[1:])
