"""The "nccl" backend. Without a GPU it runs against stand-ins for CuPy and cupy.cuda.nccl at world size 1:
the unique id goes through MPI, every collective calls NCCL with the tensor's pointer, count and type on the
backend's stream after the current stream's work, AVG divides on that stream, waiting makes the current
stream wait, and DDP runs through it. On a GPU (marked `gpu`), the real NCCL at world size 1 end to end."""
import ctypes
import types

import numpy as np
import pytest

import tinytorch
import tinytorch.distributed as dist
from devices import HAS_GPU
from tinytorch.distributed import nccl_backend
from tinytorch.nn.parallel import DistributedDataParallel as DDP


class DeviceArray(np.ndarray):
    """A NumPy array standing for a CuPy array on cuda:0 (`.data.ptr`, `.device.id`)."""

    @property
    def data(self):
        return types.SimpleNamespace(ptr=self.ctypes.data)

    @property
    def device(self):
        return types.SimpleNamespace(id=0)


class Event:
    def __init__(self, log, stream):
        self.log, self.stream, self.queries = log, stream, 0
        log.append(("record", stream.name))

    @property
    def done(self):  # the GPU "finishes" at the second look
        self.queries += 1
        return self.queries > 1


class Stream:
    def __init__(self, fake, name):
        self.fake, self.name, self.ptr = fake, name, 1000 + len(name)

    def record(self):
        return Event(self.fake.log, self)

    def wait_event(self, event):
        self.fake.log.append(("wait", self.name, event.stream.name))

    def synchronize(self):
        self.fake.log.append(("synchronize", self.name))

    def __enter__(self):
        self.fake.current.append(self)

    def __exit__(self, *exc):
        self.fake.current.pop()


class FakeCupy:
    """CuPy's few names the backend uses; `log` records the stream calls in order."""

    ndarray = DeviceArray

    def __init__(self):
        self.log = []
        self.current = [Stream(self, "current")]
        self.cuda = types.SimpleNamespace(Device=lambda: types.SimpleNamespace(id=0),
                                          Stream=lambda non_blocking: Stream(self, "nccl"),
                                          get_current_stream=lambda: self.current[-1])

    def zeros(self, n, dtype):
        return np.zeros(n, dtype=dtype).view(DeviceArray)

    def divide(self, a, b, out):
        self.log.append(("divide", self.current[-1].name, b))
        return np.divide(a, b, out=out)


class FakeNCCL:
    """cupy.cuda.nccl at world size 1: collectives copy their input to their output; calls are logged."""

    NCCL_FLOAT16, NCCL_FLOAT32, NCCL_FLOAT64, NCCL_INT8, NCCL_UINT8, NCCL_INT32, NCCL_INT64 = range(7)
    NCCL_SUM, NCCL_PROD, NCCL_MAX, NCCL_MIN = range(4)
    ITEMSIZE = {0: 2, 1: 4, 2: 8, 3: 1, 4: 1, 5: 4, 6: 8}

    def __init__(self, log):
        self.log = log

    def get_unique_id(self):
        return (7,) * 128

    def NcclCommunicator(self, ndev, unique_id, rank):
        self.log.append(("communicator", ndev, unique_id[:2], rank))
        return self

    def _copy(self, name, send, recv, count, dtype, stream, *more):
        self.log.append((name, send == recv, count, dtype, *more, stream))
        if send != recv:
            ctypes.memmove(recv, send, count * self.ITEMSIZE[dtype])

    def allReduce(self, send, recv, count, dtype, op, stream):
        self._copy("allReduce", send, recv, count, dtype, stream, op)

    def broadcast(self, send, recv, count, dtype, root, stream):
        self._copy("broadcast", send, recv, count, dtype, stream, root)

    def allGather(self, send, recv, count, dtype, stream):
        self._copy("allGather", send, recv, count, dtype, stream)

    def reduceScatter(self, send, recv, count, dtype, op, stream):
        self._copy("reduceScatter", send, recv, count, dtype, stream, op)

    def send(self, buf, count, dtype, peer, stream):
        self.log.append(("send", count, dtype, peer, stream))

    def recv(self, buf, count, dtype, peer, stream):
        self.log.append(("recv", count, dtype, peer, stream))

    def destroy(self):
        self.log.append(("destroy",))


class MPIWorld:
    def __init__(self, log):
        self.log = log

    def Get_rank(self):
        return 0

    def Get_size(self):
        return 1

    def bcast(self, value, root):
        self.log.append(("mpi bcast", value[:2], root))
        return value


@pytest.fixture
def fake(monkeypatch):
    """A process group on the nccl backend over the stand-ins; yields the FakeCupy (its log)."""
    cupy = FakeCupy()
    monkeypatch.setattr(nccl_backend, "import_cupy", lambda: cupy)
    monkeypatch.setattr(nccl_backend, "import_nccl", lambda _: FakeNCCL(cupy.log))
    dist.init_process_group("nccl")
    yield cupy
    dist.destroy_process_group()
    assert cupy.log[-2:] == [("synchronize", "nccl"), ("destroy",)]


def on_gpu(array):
    return tinytorch.from_numpy(np.ascontiguousarray(array).view(DeviceArray))


def test_the_unique_id_comes_from_rank_0_over_mpi():
    log = []
    backend = nccl_backend.NCCLBackend(MPIWorld(log), None, cupy=FakeCupy(), nccl=FakeNCCL(log))
    assert log == [("mpi bcast", (7, 7), 0), ("communicator", 1, (7, 7), 0)]
    assert (backend.rank, backend.size, backend.device) == (0, 1, 0)


def test_a_collective_runs_on_the_backends_stream_after_the_current_streams_work(fake):
    t = on_gpu(np.arange(6, dtype=np.float32))
    fake.log.clear()
    work = dist.all_reduce(t, op=dist.ReduceOp.AVG, async_op=True)
    assert fake.log == [("record", "current"), ("wait", "nccl", "current"),
                        ("allReduce", True, 6, FakeNCCL.NCCL_FLOAT32, FakeNCCL.NCCL_SUM, 1004),
                        ("divide", "nccl", 1), ("record", "nccl")]
    assert work.wait() and fake.log[-1] == ("wait", "current", "nccl")  # the stream waits, not the host
    assert t.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0] and t._version == 1


@pytest.mark.parametrize("call, expected", [
    (lambda a, b: dist.broadcast(a, src=0), ("broadcast", True, 4, FakeNCCL.NCCL_FLOAT64, 0, 1004)),
    (lambda a, b: dist.all_reduce(a, op=dist.ReduceOp.MAX),
     ("allReduce", True, 4, FakeNCCL.NCCL_FLOAT64, FakeNCCL.NCCL_MAX, 1004)),
    (lambda a, b: dist.all_gather_into_tensor(b, a), ("allGather", False, 4, FakeNCCL.NCCL_FLOAT64, 1004)),
    (lambda a, b: dist.reduce_scatter_tensor(b, a), ("reduceScatter", False, 4, FakeNCCL.NCCL_FLOAT64,
                                                     FakeNCCL.NCCL_SUM, 1004)),
    (lambda a, b: dist.send(a, dst=0), ("send", 4, FakeNCCL.NCCL_FLOAT64, 0, 1004)),
    (lambda a, b: dist.recv(b, src=0), ("recv", 4, FakeNCCL.NCCL_FLOAT64, 0, 1004)),
])
def test_every_collective_passes_pointers_counts_and_types(fake, call, expected):
    a, b = on_gpu(np.arange(4.0)), on_gpu(np.zeros(4))
    fake.log.clear()
    call(a, b)
    assert fake.log[2] == expected
    if expected[0] in ("allGather", "reduceScatter"):
        assert b.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_barrier_blocks_the_host_until_the_gpu_is_done(fake):
    dist.barrier()
    assert ("wait", "current", "nccl") not in fake.log  # polled the event instead


def test_nccl_refuses_cpu_tensors_types_it_lacks_and_recv_from_anyone(fake):
    with pytest.raises(RuntimeError, match="the nccl backend works on CUDA tensors"):
        dist.all_reduce(tinytorch.ones(2))
    with pytest.raises(TypeError, match="the nccl backend has no bool collectives"):
        dist.all_reduce(on_gpu(np.ones(2, dtype=bool)))
    with pytest.raises(ValueError, match="needs the sending rank"):
        dist.recv(on_gpu(np.zeros(2)))


def test_ddp_averages_gradients_through_nccl(fake):
    model = tinytorch.nn.Linear(3, 2)
    for p in model.parameters():
        p.data = on_gpu(p.detach().numpy())
    ddp = DDP(model)  # its broadcast checks that the parameters are on the GPU
    for p in model.parameters():  # the stand-in arrays cannot run tinytorch's kernels: compute on plain ones
        p.data = tinytorch.from_numpy(p.detach().numpy().view(np.ndarray))
    ddp(tinytorch.ones(4, 3)).sum().backward()
    reduces = [entry for entry in fake.log if entry[0] == "allReduce"]
    assert reduces == [("allReduce", True, 8, FakeNCCL.NCCL_FLOAT32, FakeNCCL.NCCL_SUM, 1004)]  # one bucket
    assert model.weight.grad.tolist() == [[4.0] * 3] * 2 and model.bias.grad.tolist() == [4.0, 4.0]


@pytest.mark.gpu
@pytest.mark.skipif(not HAS_GPU, reason="no CUDA GPU")
def test_real_nccl_at_world_size_one_runs_collectives_and_ddp():
    dist.init_process_group("nccl")
    try:
        t = tinytorch.arange(6.0, device="cuda")
        dist.all_reduce(t, op=dist.ReduceOp.AVG)
        work = dist.broadcast(t, src=0, async_op=True)
        work.wait()
        gathered = tinytorch.zeros(6, device="cuda")
        dist.all_gather_into_tensor(gathered, t)
        dist.barrier()
        assert gathered.tolist() == list(map(float, range(6)))
        tinytorch.manual_seed(0)
        model = tinytorch.nn.Linear(3, 2).to("cuda")
        twin = tinytorch.nn.Linear(3, 2).to("cuda")
        twin.load_state_dict(model.state_dict())
        x = tinytorch.randn(4, 3, device="cuda")
        DDP(model)(x).pow(2).sum().backward()
        twin(x).pow(2).sum().backward()
        tinytorch.cuda.synchronize()
        assert np.allclose(model.weight.grad.cpu().numpy(), twin.weight.grad.cpu().numpy(), atol=1e-6)
    finally:
        dist.destroy_process_group()
