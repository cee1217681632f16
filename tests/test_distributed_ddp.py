"""DistributedDataParallel: on 2 processes against one process on the global batch (with no_sync and
with require_backward_grad_sync), and, on one process with a recording backend, the bucket algorithm:
reverse parameter order, all-reduces started from the hooks while backward runs, always in bucket order."""
import pytest

import tinytorch
import tinytorch.distributed as dist
from launching import launch, records, script
from tinytorch.nn.parallel import DistributedDataParallel as DDP

FLOAT32_ROUNDING = 1e-6


def test_two_processes_average_gradients_like_one_process_on_the_global_batch(tmp_path):
    launch(2, script("ddp.py"), tmp_path)
    got = records(tmp_path)
    assert sorted(got) == [0, 1]
    for rank, r in got.items():
        assert r["spread_before"] > 0.1 and r["spread_after_construction"] == 0.0  # rank 0's weights everywhere
        assert r["module_is_model"] and r["state_dict_keys"] == ["module.0.weight", "module.0.bias"]
        for way in ("no_sync", "require_backward_grad_sync"):
            assert r[f"{way}_local_spread"] > 0.1  # gradients stayed local while accumulating
            assert r[f"{way}_synced_spread"] == 0.0
            assert r[f"{way}_vs_one_process"] < FLOAT32_ROUNDING
        assert r["buffer_after_construction"] == [0.0, 0.0] and r["buffer_after_forward"] == [5.0, 5.0]
        assert r["weights_spread"] == 0.0 and r["weights_vs_one_process"] < FLOAT32_ROUNDING
        assert r["unused_head_grads"] == [True, True]
        assert r["unused_error"].startswith("Expected to have finished reduction in the prior iteration")
        assert r["unused_error"].endswith("Parameters that got no gradient: b.bias, b.weight")


class Recording:
    """The process group's backend, logging each all_reduce with the parameters of its bucket."""

    def __init__(self, backend, log, names):
        self.backend, self.log, self.names = backend, log, names

    def all_reduce(self, array, op):
        bucket = next(b for b in self.reducer.buckets if b.buffer is array)
        self.log.append(("all_reduce", [self.names[id(p)] for p in bucket.params]))
        return self.backend.all_reduce(array, op)


class Crossed(tinytorch.nn.Module):
    """`late` is registered last but used first, so backward finishes `early` (registered first) last."""

    def __init__(self):
        super().__init__()
        self.early, self.late = tinytorch.nn.Linear(3, 3), tinytorch.nn.Linear(3, 3)
        self.head = tinytorch.nn.Linear(3, 1)

    def forward(self, x):
        return self.head(self.early(self.late(x)))


@pytest.fixture
def group():
    dist.init_process_group("mpi")
    yield
    dist.destroy_process_group()


def traced(model, overlap=True):
    """A DDP of model with one bucket per parameter and a log of hooks and all-reduces in one backward."""
    ddp = DDP(model, bucket_cap_mb=1e-6)
    names = {id(p): n for n, p in model.named_parameters()}
    log = []
    recording = Recording(ddp.reducer.backend, log, names)
    recording.reducer = ddp.reducer
    ddp.reducer.backend, ddp.reducer.overlap = recording, overlap
    for p in model.parameters():  # registered after DDP's hooks, so it runs after each of them
        p.register_post_accumulate_grad_hook(lambda p: log.append(("ready", names[id(p)])))
    ddp(tinytorch.ones(2, 3)).sum().backward()
    return ddp, log


def test_buckets_follow_reverse_parameter_order_and_start_in_that_order_during_backward(group):
    model = tinytorch.nn.Sequential(tinytorch.nn.Linear(3, 4), tinytorch.nn.Tanh(), tinytorch.nn.Linear(4, 2))
    ddp, log = traced(model)
    order = ["2.bias", "2.weight", "0.bias", "0.weight"]
    assert [[ddp.reducer.names[id(p)] for p in b.params] for b in ddp.reducer.buckets] == [[n] for n in order]
    assert [names for kind, names in log if kind == "all_reduce"] == [[n] for n in order]
    first_reduce = log.index(("all_reduce", ["2.bias"]))
    assert first_reduce < log.index(("ready", "0.weight"))  # overlap: started before backward ends


def test_a_bucket_full_early_waits_for_the_buckets_before_it(group):
    _, log = traced(Crossed())
    reduces = [names[0] for kind, names in log if kind == "all_reduce"]
    assert reduces == ["head.bias", "head.weight", "late.bias", "late.weight", "early.bias", "early.weight"]
    assert log.index(("ready", "late.weight")) > log.index(("ready", "early.weight"))  # late's grads came last
    assert log.index(("all_reduce", ["late.bias"])) > log.index(("ready", "early.weight"))


def test_without_overlap_every_all_reduce_starts_after_the_last_gradient(group):
    _, log = traced(Crossed(), overlap=False)
    kinds = [kind for kind, _ in log]
    assert kinds == ["ready"] * 5 + ["all_reduce"] * 6 + ["ready"]  # the last hook's DDP part starts them all


def test_a_parameter_ready_twice_in_one_synchronized_backward_is_refused(group):
    ddp = DDP(Crossed())
    loss = ddp(tinytorch.ones(2, 3)).sum()
    head = ddp.module.head.bias.sum()  # a second loss on the head only: its gradient arrives twice
    head.backward()
    with pytest.raises(RuntimeError, match="Expected to mark a variable ready only once: parameter head.bias"):
        loss.backward()


def test_device_ids_are_refused_for_a_cpu_module_as_torch_does(group):
    with pytest.raises(ValueError, match="device_ids .* for a module on the CPU: leave device_ids out"):
        DDP(tinytorch.nn.Linear(3, 1), device_ids=[0])
