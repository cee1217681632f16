"""Every collective on CPU tensors; each rank writes a record of what it got (report.py)."""
import os

import tinytorch as torch
import tinytorch.distributed as dist
from report import report

dist.init_process_group(backend=os.environ.get("BACKEND", "gloo"))
rank, world = dist.get_rank(), dist.get_world_size()
got = {"world": world, "backend": dist.get_backend(),
       "env": {k: os.environ.get(k) for k in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR",
                                              "MASTER_PORT", "OMP_NUM_THREADS")}}


def filled(value, n=3, dtype=torch.float32):
    return torch.full((n,), value, dtype=dtype)


for op in ("SUM", "AVG", "PRODUCT", "MIN", "MAX"):
    t = filled(float(rank + 2))
    before = t._version
    dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
    got[op] = t.tolist()
    got["version_bumped"] = t._version > before
t = filled(rank + 1, dtype=torch.int64)
dist.all_reduce(t)
got["SUM_int"] = t.tolist()

t = filled(float(rank))
work = dist.all_reduce(t, async_op=True)
got["async"] = [work.wait(), work.is_completed(), t.tolist()]

t = filled(float(rank + 10))
dist.broadcast(t, src=world - 1)
got["broadcast"] = t.tolist()

pieces = [torch.zeros(2, 2) for _ in range(world)]
dist.all_gather(pieces, torch.full((2, 2), float(rank)))
got["all_gather"] = [p.tolist() for p in pieces]
whole = torch.zeros(world * 2)
dist.all_gather_into_tensor(whole, torch.full((2,), float(rank)))
stacked = torch.zeros(world, 2)
dist.all_gather_into_tensor(stacked, torch.full((2,), float(rank)))
got["all_gather_into_tensor"] = [whole.tolist(), stacked.tolist()]

out = torch.zeros(2)
dist.reduce_scatter_tensor(out, torch.arange(2.0 * world) + rank)
got["reduce_scatter_tensor"] = out.tolist()
out = torch.zeros(2)
dist.reduce_scatter(out, [torch.full((2,), float(r * 10 + rank)) for r in range(world)], op=dist.ReduceOp.MAX)
got["reduce_scatter"] = out.tolist()

if world > 1:
    if rank == 0:
        dist.send(torch.tensor([7.0, 8.0]), dst=1)
        work = dist.isend(torch.tensor([9.0]), dst=1, tag=3)
        work.wait()
    elif rank == 1:
        a, b = torch.zeros(2), torch.zeros(1)
        source = dist.recv(a)
        work = dist.irecv(b, src=0, tag=3)
        work.wait()
        got["p2p"] = [source, a.tolist(), b.tolist()]
dist.barrier()
dist.destroy_process_group()
got["initialized_after_destroy"] = dist.is_initialized()
report(rank, got)
