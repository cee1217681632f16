"""tinytorch.distributed: torch.distributed's names over existing engines.

    import tinytorch.distributed as dist
    dist.init_process_group(backend="gloo")          # or "mpi" (CPU), "nccl" (CUDA, through CuPy)
    dist.all_reduce(t, op=dist.ReduceOp.AVG)         # in place, on every rank
    work = dist.all_reduce(t, async_op=True); ...; work.wait()

Start the processes with the launcher, `python -m tinytorch.distributed.run --nproc_per_node=N
script.py args` (torchrun's flags and variables), or with `mpirun -n N python script.py`:

    process_group.py   init_process_group, destroy_process_group, get_rank, get_world_size, ...
    collectives.py     all_reduce, broadcast, all_gather(_into_tensor), reduce_scatter(_tensor),
                       send/recv, isend/irecv, barrier
    reduce_op.py       ReduceOp (SUM, AVG, PRODUCT, MIN, MAX)
    work.py            the work handles of asynchronous operations
    mpi_backend.py     the collectives over MPI (mpi4py), on NumPy arrays
    nccl_backend.py    the collectives over NCCL (cupy.cuda.nccl), on CuPy arrays
    mpi.py             loading mpi4py (the `distributed` extra), finding mpiexec
    failure.py         a failing rank stops the job with its error (MPI_Abort)
    run.py, worker.py  the launcher and what it runs on each rank

DistributedDataParallel is in tinytorch.nn.parallel.
"""
from .collectives import (all_gather, all_gather_into_tensor, all_reduce, barrier, broadcast, irecv, isend, recv,
                          reduce_scatter, reduce_scatter_tensor, send)
from .mpi import launched_world_size
from .process_group import (destroy_process_group, get_backend, get_rank, get_world_size, init_process_group,
                            is_available, is_gloo_available, is_initialized, is_mpi_available, is_nccl_available)
from .reduce_op import ReduceOp
from .work import Work

__all__ = ["ReduceOp", "Work", "all_gather", "all_gather_into_tensor", "all_reduce", "barrier", "broadcast",
           "destroy_process_group", "get_backend", "get_rank", "get_world_size", "init_process_group", "irecv",
           "is_available", "is_gloo_available", "is_initialized", "is_mpi_available", "is_nccl_available", "isend",
           "launched_world_size", "recv", "reduce_scatter", "reduce_scatter_tensor", "send"]
