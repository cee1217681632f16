"""The "nccl" backend: collectives on CuPy arrays through NCCL (`cupy.cuda.nccl`).

Rank 0 makes NCCL's unique id and MPI broadcasts it (MPI also gives the ranks), then every
process joins one NCCL communicator on its current CUDA device. Each collective runs on the
backend's own stream once the current stream's queued work (which produced the tensor) is done,
and records an event there. As in torch, waiting on the work handle makes the current stream wait
for that event, without blocking the host; only `barrier()` blocks the host, until the GPU has
finished it. AVG is a SUM followed by a division on the same stream, which every NCCL version has.
"""
from ..device import import_cupy
from .reduce_op import ReduceOp
from .work import Work

NCCL_DTYPES = {"float16": "NCCL_FLOAT16", "float32": "NCCL_FLOAT32", "float64": "NCCL_FLOAT64",
               "int8": "NCCL_INT8", "uint8": "NCCL_UINT8", "int32": "NCCL_INT32", "int64": "NCCL_INT64"}
NCCL_OPS = {ReduceOp.SUM: "NCCL_SUM", ReduceOp.AVG: "NCCL_SUM", ReduceOp.PRODUCT: "NCCL_PROD",
            ReduceOp.MIN: "NCCL_MIN", ReduceOp.MAX: "NCCL_MAX"}


def import_nccl(cupy):
    try:
        from cupy.cuda import nccl
    except ImportError as e:
        raise RuntimeError(f"backend 'nccl' needs CuPy built with NCCL ({e}): pip install 'tinytorch[gpu]'") from None
    if not getattr(nccl, "available", True):
        raise RuntimeError("backend 'nccl': CuPy cannot load the NCCL library (pip install nvidia-nccl-cu12)")
    return nccl


class StreamWork(Work):
    """An NCCL operation: done when the event recorded after it on the backend's stream has passed.
    Keeps the arrays it reads and writes alive until then."""

    def __init__(self, cupy, event, arrays, describe, timeout, host=False):
        super().__init__(describe, timeout)
        self.cupy, self.event, self.arrays, self.host = cupy, event, arrays, host

    def _test(self):
        return self.event.done

    def wait(self, timeout=None):
        if self.host:
            return super().wait(timeout)
        self.cupy.cuda.get_current_stream().wait_event(self.event)
        return True


class NCCLBackend:
    name = "nccl"

    def __init__(self, mpi_comm, timeout, cupy=None, nccl=None):
        self.cupy = cupy or import_cupy()
        self.nccl = nccl or import_nccl(self.cupy)
        self.timeout = timeout
        self.rank, self.size = mpi_comm.Get_rank(), mpi_comm.Get_size()
        unique_id = mpi_comm.bcast(self.nccl.get_unique_id() if self.rank == 0 else None, root=0)
        self.device = self.cupy.cuda.Device().id
        self.comm = self.nccl.NcclCommunicator(self.size, unique_id, self.rank)
        self.stream = self.cupy.cuda.Stream(non_blocking=True)

    def check(self, array, what):
        if not isinstance(array, self.cupy.ndarray):
            raise RuntimeError(f"{what}: the nccl backend works on CUDA tensors; "
                               "init_process_group(backend='gloo') for CPU tensors")
        if array.device.id != self.device:
            raise RuntimeError(f"{what}: tensor on cuda:{array.device.id}, but this process's NCCL communicator "
                               f"is on cuda:{self.device}")

    def zeros(self, n, dtype):
        return self.cupy.zeros(n, dtype=dtype)

    def _dtype(self, array):
        name = NCCL_DTYPES.get(array.dtype.name)
        if name is None:
            raise TypeError(f"the nccl backend has no {array.dtype.name} collectives")
        return getattr(self.nccl, name)

    def _launch(self, what, arrays, run, then=None, host=False):
        """Run `run(stream pointer)`, then `then()`, on the backend's stream after the current stream's work."""
        self.stream.wait_event(self.cupy.cuda.get_current_stream().record())
        run(self.stream.ptr)
        if then is not None:
            with self.stream:
                then()
        return StreamWork(self.cupy, self.stream.record(), arrays, f"{what} on rank {self.rank}", self.timeout, host)

    def _average(self, array, op):
        return (lambda: self.cupy.divide(array, self.size, out=array)) if op is ReduceOp.AVG else None

    def all_reduce(self, array, op):
        p = array.data.ptr
        return self._launch("all_reduce", [array], lambda s: self.comm.allReduce(
            p, p, array.size, self._dtype(array), getattr(self.nccl, NCCL_OPS[op]), s), self._average(array, op))

    def broadcast(self, array, src):
        p = array.data.ptr
        return self._launch("broadcast", [array], lambda s: self.comm.broadcast(
            p, p, array.size, self._dtype(array), src, s))

    def all_gather(self, out, array, finish=None):
        return self._launch("all_gather", [out, array], lambda s: self.comm.allGather(
            array.data.ptr, out.data.ptr, array.size, self._dtype(array), s), finish)

    def reduce_scatter(self, out, array, op):
        return self._launch("reduce_scatter", [out, array], lambda s: self.comm.reduceScatter(
            array.data.ptr, out.data.ptr, out.size, self._dtype(array), getattr(self.nccl, NCCL_OPS[op]), s),
            self._average(out, op))

    def send(self, array, dst, tag):
        return self._launch(f"send to rank {dst}", [array], lambda s: self.comm.send(
            array.data.ptr, array.size, self._dtype(array), dst, s))

    def recv(self, array, src, tag):
        if src is None:
            raise ValueError("recv: the nccl backend needs the sending rank (src=)")
        return self._launch("recv", [array], lambda s: self.comm.recv(
            array.data.ptr, array.size, self._dtype(array), src, s))

    def barrier(self):
        token = self.cupy.zeros(1, dtype="float32")
        return self._launch("barrier", [token], lambda s: self.comm.allReduce(
            token.data.ptr, token.data.ptr, 1, self.nccl.NCCL_FLOAT32, self.nccl.NCCL_SUM, s), host=True)

    def close(self):
        self.stream.synchronize()
        self.comm.destroy()
