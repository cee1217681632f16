"""Rank FAIL_RANK fails (an exception, or sys.exit(EXIT) when EXIT is set) while the others wait in an
all_reduce: the job must end with its error instead of hanging."""
import os
import sys
import time

import tinytorch as torch
import tinytorch.distributed as dist

dist.init_process_group(backend="gloo")
if dist.get_rank() == int(os.environ.get("FAIL_RANK", "1")):
    time.sleep(0.5)  # the others are inside the all_reduce by now
    if os.environ.get("EXIT"):
        sys.exit(int(os.environ["EXIT"]))
    raise ValueError(f"rank {dist.get_rank()} cannot go on")
dist.all_reduce(torch.ones(4))
print("the all_reduce finished without the failed rank", flush=True)
