"""Data-parallel training for the GPT trainer: build-nanogpt's recipe on several processes.

Under `python -m tinytorch.distributed.run --nproc_per_node=N` (or `mpirun -n N`) every process
trains a replica of the model wrapped in DistributedDataParallel. The global batch stays what the
config says (total_batch_tokens): each step has total / (batch_size * block_size * N) micro-batches
per process, rank r reads its own part of each global micro-batch (data.py, shards.py), and DDP
averages the gradients once per step, in the backward of the last micro-batch. Rank 0 alone
prints, samples and writes the run folder (one checkpoint); on resume every rank reads it. The
samplers' saved state describes the global stream, so a run resumes on any number of processes.
"""
import os

import tinytorch
import tinytorch.distributed as dist
from tinytorch.nn.parallel import DistributedDataParallel


class Ranks:
    """This process's place in the job: rank 0 of 1 when it runs alone. Starts the process group
    when the process was launched among others (and ends it in close())."""

    def __init__(self, device):
        self.owned = not dist.is_initialized() and dist.launched_world_size() > 1
        if self.owned:
            if device.startswith("cuda"):  # one GPU per process on the node
                tinytorch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
            dist.init_process_group("nccl" if device.startswith("cuda") else "gloo")
        self.rank = dist.get_rank() if dist.is_initialized() else 0
        self.world_size = dist.get_world_size() if dist.is_initialized() else 1
        self.main = self.rank == 0
        self.device = device

    def wrap(self, model):
        return DistributedDataParallel(model) if self.world_size > 1 else model

    def reduce(self, value, op):
        """A float reduced over the ranks (ReduceOp.AVG, SUM, ...)."""
        if self.world_size == 1:
            return value
        t = tinytorch.tensor([value], dtype=tinytorch.float64, device=self.device)
        dist.all_reduce(t, op=op)
        return t.item()

    def barrier(self):
        if self.world_size > 1:
            dist.barrier()

    def close(self):
        if self.owned:
            dist.destroy_process_group()
