"""tinytorch.distributed's collectives over MPI: every one on 2 processes (the launcher, and a plain
mpiexec), on 1 process, and the errors of a bad call, in torch's words."""
import sys

import numpy as np
import pytest

import tinytorch
import tinytorch.distributed as dist
from launching import launch, mpiexec, records, run, script


def expected(rank, world):
    total = lambda f: sum(f(r) for r in range(world))  # noqa: E731
    half = [2 * rank, 2 * rank + 1]
    return {
        "SUM": [total(lambda r: r + 2)] * 3, "AVG": [total(lambda r: r + 2) / world] * 3,
        "PRODUCT": [float(np.prod([r + 2 for r in range(world)]))] * 3, "MIN": [2.0] * 3, "MAX": [world + 1.0] * 3,
        "SUM_int": [total(lambda r: r + 1)] * 3, "version_bumped": True,
        "async": [True, True, [total(lambda r: r)] * 3],
        "broadcast": [world + 9.0] * 3,
        "all_gather": [[[float(r)] * 2] * 2 for r in range(world)],
        "all_gather_into_tensor": [[float(r) for r in range(world) for _ in range(2)],
                                   [[float(r)] * 2 for r in range(world)]],
        "reduce_scatter_tensor": [world * i + total(lambda r: r) for i in half],
        "reduce_scatter": [rank * 10.0 + world - 1] * 2,
        "initialized_after_destroy": False,
    }


def check(got, world):
    for rank, record in got.items():
        want = expected(rank, world)
        assert {k: record[k] for k in want} == want, f"rank {rank}"
        assert record["world"] == world and record["backend"] == "gloo"


def test_every_collective_on_two_processes_started_by_the_launcher(tmp_path):
    launch(2, script("collectives.py"), tmp_path)
    got = records(tmp_path)
    assert sorted(got) == [0, 1]
    check(got, 2)
    assert got[1]["p2p"] == [0, [7.0, 8.0], [9.0]]
    for rank, record in got.items():  # torchrun's variables
        assert record["env"] == {"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": "2",
                                 "LOCAL_WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500",
                                 "OMP_NUM_THREADS": "1"}


def test_a_plain_mpiexec_starts_the_same_job_without_torchruns_variables(tmp_path):
    run([mpiexec(), "-n", "2", sys.executable, script("collectives.py"), tmp_path])
    got = records(tmp_path)
    check(got, 2)
    assert got[0]["env"]["RANK"] is None


def test_one_process_needs_no_launcher(tmp_path):
    run([sys.executable, script("collectives.py"), tmp_path])
    got = records(tmp_path)
    check(got, 1)


@pytest.fixture
def group():
    dist.init_process_group("mpi")
    yield
    dist.destroy_process_group()


def test_bad_calls_get_torchs_errors(group):
    assert (dist.is_initialized(), dist.get_rank(), dist.get_world_size(), dist.get_backend()) == (True, 0, 1, "mpi")
    with pytest.raises(RuntimeError, match="twice"):
        dist.init_process_group("gloo")
    with pytest.raises(RuntimeError, match="all_reduce: tensors must be contiguous"):
        dist.all_reduce(tinytorch.ones(3, 2).t())
    with pytest.raises(RuntimeError, match="AVG needs a floating-point tensor"):
        dist.all_reduce(tinytorch.ones(3, dtype=tinytorch.int64), op=dist.ReduceOp.AVG)
    with pytest.raises(ValueError, match="op must be a ReduceOp"):
        dist.all_reduce(tinytorch.ones(3), op="sum")
    with pytest.raises(ValueError, match="tensor_list must hold world_size \\(1\\) tensors, got 2"):
        dist.all_gather([tinytorch.ones(2), tinytorch.ones(2)], tinytorch.ones(2))
    with pytest.raises(RuntimeError, match="world_size \\(1\\) times the elements"):
        dist.all_gather_into_tensor(tinytorch.zeros(3), tinytorch.ones(2))


@pytest.mark.parametrize("call, error, message", [
    (lambda: dist.get_rank(), ValueError, "Default process group has not been initialized"),
    (lambda: dist.all_reduce(tinytorch.ones(1)), ValueError, "Default process group has not been initialized"),
    (lambda: dist.init_process_group("ucc"), ValueError, "backend must be one of mpi, gloo, nccl, got 'ucc'"),
    (lambda: dist.init_process_group("gloo", init_method="tcp://10.0.0.1:23456"), ValueError,
     "init_method 'tcp://10.0.0.1:23456' is not supported"),
    (lambda: dist.init_process_group("gloo", world_size=2, rank=0), RuntimeError,
     "world_size=2 but MPI started this process as rank 0 of 1: start the script with `python -m "
     "tinytorch.distributed.run"),
])
def test_without_a_process_group(call, error, message):
    with pytest.raises(error, match=message.replace("(", "\\(").replace(")", "\\)")):
        call()
    assert not dist.is_initialized()
