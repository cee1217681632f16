"""The "mpi" backend (also what "gloo" means here): collectives on NumPy arrays over an MPI
communicator. Each starts as MPI's nonblocking form (Iallreduce, Ibcast, Iallgather,
Ireduce_scatter_block, Isend/Irecv, Ibarrier) and comes back as a work handle (work.py); the
caller waits on it, now or later. Arrays are written in place.
"""
import numpy as np

from .reduce_op import ReduceOp
from .work import MPIWork


class MPIBackend:
    def __init__(self, mpi, comm, name, timeout):
        self.mpi, self.name, self.timeout = mpi, name, timeout
        self.comm = comm.Dup()  # tinytorch's messages never mix with a script's own use of MPI
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self.ops = {ReduceOp.SUM: mpi.SUM, ReduceOp.AVG: mpi.SUM, ReduceOp.PRODUCT: mpi.PROD,
                    ReduceOp.MIN: mpi.MIN, ReduceOp.MAX: mpi.MAX}

    def check(self, array, what):
        if not isinstance(array, np.ndarray):
            raise RuntimeError(f"{what}: the {self.name} backend works on CPU tensors; "
                               "init_process_group(backend='nccl') for CUDA tensors")

    def zeros(self, n, dtype):
        return np.zeros(n, dtype=dtype)

    def _work(self, requests, what, finish=None):
        return MPIWork(self.mpi, requests, f"{what} on rank {self.rank}", self.timeout, finish)

    def _average(self, array, op):
        return (lambda: np.divide(array, self.size, out=array)) if op is ReduceOp.AVG else None

    def all_reduce(self, array, op):
        request = self.comm.Iallreduce(self.mpi.IN_PLACE, array, op=self.ops[op])
        return self._work([request], "all_reduce", self._average(array, op))

    def broadcast(self, array, src):
        return self._work([self.comm.Ibcast(array, root=src)], "broadcast")

    def all_gather(self, out, array, finish=None):
        """out (a contiguous array of world_size * array.size elements) <- every rank's array, in rank order."""
        return self._work([self.comm.Iallgather(array, out)], "all_gather", finish)

    def reduce_scatter(self, out, array, op):
        """out <- rank r's piece (the r-th of world_size equal parts) of the reduction of every rank's array."""
        request = self.comm.Ireduce_scatter_block(array, out, op=self.ops[op])
        return self._work([request], "reduce_scatter", self._average(out, op))

    def send(self, array, dst, tag):
        return self._work([self.comm.Isend(array, dest=dst, tag=tag)], f"send to rank {dst}")

    def recv(self, array, src, tag):
        source = self.mpi.ANY_SOURCE if src is None else src
        return self._work([self.comm.Irecv(array, source=source, tag=tag)], "recv")

    def barrier(self):
        return self._work([self.comm.Ibarrier()], "barrier")

    def close(self):
        self.comm.Free()
