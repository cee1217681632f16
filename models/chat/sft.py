"""Supervised fine-tuning: the pretrained GPT learns the chat template on worked task conversations.

Data: train-split problems of every task in turn (tasks.mixture, the calculator tasks 3 times per turn), each
rendered with the chat template into ids and a mask (tokenizer.py: 1 on the assistant's reply and tool
call, 0 on the prompt and on the tool's output). Packing: whole conversations are laid end to end into rows of block_size + 1 tokens (a
conversation that does not fit starts the next row; the rest of a row is padding with mask 0); attention
may look back into the previous conversation of a row, as in nanochat. Inputs are row[:-1], targets
row[1:] with -1 where the mask is 0, and the loss is the GPT's cross-entropy with ignore_index=-1: the
mean over the assistant's tokens only (losses.sft_loss). Steps are models/gpt's `train_step`.
"""
import time

import numpy as np
from tqdm import tqdm

import tinytorch
from tinytorch.models.gpt import TrainConfig
from tinytorch.models.gpt.train import train_step

from . import corpus, plots
from .losses import masked_targets, sft_loss
from .presets import as_dict
from .run_folder import finished, load_gpt, load_tokenizer, save_model, stage_folder, write_json
from .tasks import mixture


def pack(rendered, block_size, pad):
    """Rows (ids, mask), each (n_rows, block_size + 1), of whole conversations [(ids, mask), ...] in order."""
    width = block_size + 1
    rows, row_ids, row_mask = [], [], []
    for ids, mask in rendered:
        if len(ids) > width:
            continue  # longer than the model's context: never happens with these tasks' short conversations
        if len(row_ids) + len(ids) > width:
            rows.append((row_ids, row_mask))
            row_ids, row_mask = [], []
        row_ids, row_mask = row_ids + ids, row_mask + mask
    if row_ids:
        rows.append((row_ids, row_mask))
    ids = np.full((len(rows), width), pad, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for r, (i, m) in enumerate(rows):
        ids[r, :len(i)], mask[r, :len(m)] = i, m
    return ids, mask


class PackedBatches:
    """`next_batch()` -> (inputs, targets) of batch_size packed rows, in a fresh random order every epoch."""

    def __init__(self, ids, mask, batch_size, seed):
        self.inputs, self.targets = masked_targets(ids, mask)
        self.batch_size = batch_size
        self.rng = np.random.default_rng(seed)
        self.order, self.position = self.rng.permutation(len(ids)), 0

    def next_batch(self):
        if self.position + self.batch_size > len(self.order):
            self.order, self.position = self.rng.permutation(len(self.order)), 0
        rows = self.order[self.position:self.position + self.batch_size]
        self.position += self.batch_size
        return self.inputs[rows], self.targets[rows]


def conversations(tokenizer, tasks, split, n, seed, weights=None):
    return [tokenizer.render_conversation(p.conversation()) for p in mixture(tasks, split, n, seed, weights)]


@tinytorch.no_grad()
def mean_loss(model, inputs, targets, batch_size=32):
    """The mean masked loss over all rows (weighted by each batch's supervised tokens)."""
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(inputs), batch_size):
        y = targets[i:i + batch_size]
        n = int((y != -1).sum())
        total += sft_loss(model, tinytorch.from_numpy(inputs[i:i + batch_size]), tinytorch.from_numpy(y)).item() * n
        count += n
    model.train()
    return total / max(count, 1)


def run(run_dir, config, overwrite=False, progress=True):
    started = time.perf_counter()
    out = stage_folder(run_dir, "sft", overwrite)
    tokenizer = load_tokenizer(run_dir)
    model = load_gpt(finished(run_dir, "pretrain")).train()
    T = model.config.block_size
    tasks = corpus.tasks()
    per_row = max(1, T // 40)  # about 30-40 tokens per conversation
    train_ids, train_mask = pack(conversations(tokenizer, tasks, "train", config.steps * config.batch_size * per_row,
                                               config.seed, config.task_weights), T, tokenizer.assistant_end)
    val_ids, val_mask = pack(conversations(tokenizer, tasks, "test", config.val_conversations, config.seed), T,
                             tokenizer.assistant_end)
    val_inputs, val_targets = masked_targets(val_ids, val_mask)
    stream = PackedBatches(train_ids, train_mask, config.batch_size, config.seed)
    cfg = TrainConfig(batch_size=config.batch_size, max_iters=config.steps, learning_rate=config.learning_rate,
                      min_lr=config.min_lr, warmup_iters=config.warmup_iters, weight_decay=0.0)
    optimizer = model.configure_optimizers(cfg.weight_decay, cfg.learning_rate, (cfg.beta1, cfg.beta2), cfg.eps)
    params = list(model.parameters())
    log = {"step_loss": [], "evals": [{"step": 0, "val": mean_loss(model, val_inputs, val_targets)}]}
    bar = tqdm(range(config.steps), desc="sft", disable=not progress, dynamic_ncols=True)
    for step in bar:
        log["step_loss"].append(train_step(model, optimizer, params, stream, cfg, cfg.lr_at(step), 1))
        bar.set_postfix_str(f"loss {log['step_loss'][-1]:.3f}", refresh=False)
        if (step + 1) % config.eval_interval == 0 or step + 1 == config.steps:
            log["evals"].append({"step": step + 1, "val": mean_loss(model, val_inputs, val_targets)})
    bar.close()
    save_model(out, model.eval())
    plots.losses(log["step_loss"], log["evals"], out / "loss.png", "SFT: loss on the assistant's tokens only")
    metrics = {"train_rows": len(train_ids), "supervised_fraction": float(train_mask.mean()),
               "val_loss": log["evals"][-1]["val"], **log, "seconds": time.perf_counter() - started,
               "config": as_dict(config)}
    write_json(out / "metrics.json", metrics)
    return metrics
