"""DistributedDataParallel on every rank: the broadcast at construction, gradient accumulation with
no_sync() and with require_backward_grad_sync, averaged gradients against one process's on the global
batch, optimizer steps that keep the replicas equal, buffers, and find_unused_parameters: one record per rank."""

import numpy as np

import tinytorch as torch
import tinytorch.distributed as dist
from report import report
from tinytorch.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group(backend="gloo")
rank, world = dist.get_rank(), dist.get_world_size()
ACCUM, ROWS = 2, 3  # micro-batches per step, rows per rank and micro-batch


def net():
    return torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.Tanh(),
                               torch.nn.Linear(16, 1))


def flat(values):
    return np.concatenate([v.detach().numpy().ravel() for v in values])


def spread(vector):
    """max |rank r's vector - rank 0's| over the ranks."""
    everyone = torch.zeros(world, vector.size)
    dist.all_gather_into_tensor(everyone, torch.from_numpy(vector.astype(np.float32)))
    return float(np.abs(everyone.numpy() - everyone.numpy()[0]).max())


rng = np.random.default_rng(0)
X = rng.standard_normal((ACCUM, world, ROWS, 4)).astype(np.float32)  # [micro][rank][row]
Y = X.sum(-1, keepdims=True) ** 2


def loss_of(model, x, y):
    return ((model(torch.from_numpy(x)) - torch.from_numpy(y)) ** 2).mean()


torch.manual_seed(rank)  # different weights on every rank: DDP starts them all from rank 0's
model = net()
got = {"spread_before": spread(flat(model.parameters()))}
ddp = DDP(model, bucket_cap_mb=0.001)
got["spread_after_construction"] = spread(flat(model.parameters()))
got["module_is_model"] = ddp.module is model
got["state_dict_keys"] = list(ddp.state_dict())[:2]
got["buckets"] = [len(b.params) for b in ddp.reducer.buckets]
reference = net()
reference.load_state_dict(model.state_dict())
ref_opt = torch.optim.SGD(reference.parameters(), lr=0.1)
opt = torch.optim.SGD(model.parameters(), lr=0.1)

for step, way in enumerate(("no_sync", "require_backward_grad_sync")):
    for micro in range(ACCUM):
        last = micro == ACCUM - 1
        if way == "no_sync" and not last:
            with ddp.no_sync():
                (loss_of(ddp, X[micro, rank], Y[micro, rank]) / ACCUM).backward()
        else:
            ddp.require_backward_grad_sync = last
            (loss_of(ddp, X[micro, rank], Y[micro, rank]) / ACCUM).backward()
        if not last:
            got[f"{way}_local_spread"] = spread(flat(p.grad for p in model.parameters()))
        (loss_of(reference, X[micro].reshape(-1, 4), Y[micro].reshape(-1, 1)) / ACCUM).backward()
    grads = flat(p.grad for p in model.parameters())
    got[f"{way}_synced_spread"] = spread(grads)
    got[f"{way}_vs_one_process"] = float(np.abs(grads - flat(p.grad for p in reference.parameters())).max())
    opt.step()
    opt.zero_grad()
    ref_opt.step()
    ref_opt.zero_grad()
got["weights_spread"] = spread(flat(model.parameters()))
got["weights_vs_one_process"] = float(np.abs(flat(model.parameters()) - flat(reference.parameters())).max())


class Branches(torch.nn.Module):
    """One of two heads per call: the other gets no gradient (rank 0 uses head a, the others head b)."""

    def __init__(self):
        super().__init__()
        self.trunk, self.a, self.b = torch.nn.Linear(4, 4), torch.nn.Linear(4, 1), torch.nn.Linear(4, 1)

    def forward(self, x, use_a):
        return (self.a if use_a else self.b)(self.trunk(x))


x = torch.from_numpy(X[0, rank])
scaled = torch.nn.Linear(4, 1)
scaled.register_buffer("scale", torch.full((2,), float(rank)))
with_buffer = DDP(scaled)
got["buffer_after_construction"] = scaled.scale.tolist()
scaled.scale.fill_(rank + 5.0)
with_buffer(x).sum().backward()
got["buffer_after_forward"] = scaled.scale.tolist()  # rank 0's again, broadcast before the forward

branches = DDP(Branches(), find_unused_parameters=True)
branches(x, rank == 0).sum().backward()
got["unused_head_grads"] = [float(branches.module.a.weight.grad.abs().sum()) > 0,
                            float(branches.module.b.weight.grad.abs().sum()) > 0]
strict = DDP(Branches())
strict(x, True).sum().backward()
try:
    strict(x, True)
    got["unused_error"] = None
except RuntimeError as e:
    got["unused_error"] = str(e)
dist.destroy_process_group()
report(rank, got)
