"""Train the GPT a few steps with the trainer's pieces on however many processes this was launched
on (data-parallel, same global batch), then write each rank's weights: FOLDER/rank{r}.npy.

    python -m tinytorch.distributed.run --nproc_per_node=N gpt_replicas.py FOLDER --key=value ...
"""
import sys
from pathlib import Path

import numpy as np

from report import report
from tinytorch.distributed import ReduceOp
from tinytorch.models.gpt.parallel import Ranks
from tinytorch.models.gpt.presets import resolve
from tinytorch.models.gpt.train import build, grad_accum_steps, train_step

settings = resolve("shakespeare-char-cpu", sys.argv[2:])
cfg = settings["train"]
ranks = Ranks(cfg.device)
data, model, optimizer = build(settings)
accum = grad_accum_steps(cfg, model.config.block_size, ranks.world_size)
stream = data.batches("train", cfg.batch_size, model.config.block_size, seed=cfg.seed, rank=ranks.rank,
                      world_size=ranks.world_size)
replica = ranks.wrap(model)
params = list(model.parameters())
losses = [ranks.reduce(train_step(replica, optimizer, params, stream, cfg, cfg.lr_at(step), accum), ReduceOp.AVG)
          for step in range(cfg.max_iters)]
np.save(Path(sys.argv[1]) / f"rank{ranks.rank}.npy", np.concatenate([p.detach().numpy().ravel() for p in params]))
report(ranks.rank, {"world_size": ranks.world_size, "accum": accum, "losses": losses})
ranks.close()
