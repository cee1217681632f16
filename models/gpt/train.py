"""The GPT training loop (build-nanogpt's recipe), with evaluation, sampling, checkpoints and metrics.

One optimizer step: for each of `accum` micro-batches, loss / accum is backpropagated (so the
gradients add up to those of the mean over the whole step's tokens); then the global gradient
norm is clipped, the learning rate of this step is set, and AdamW steps. Every eval_interval
steps (and at the end) the mean loss over eval_iters fixed batches of each split is measured
and a sample is generated. A checkpoint holds everything the next step depends on (weights,
AdamW moments, step, RNG and data position), so a resumed run continues exactly.

A run owns its folder: one that holds another run is refused unless `resume` (continue it; its
config must match, see checkpoint.py) or `overwrite` (its files are deleted first). Every file is
written atomically, so a run killed at any moment leaves files that load; the temporary files of a
killed run are deleted when the next one starts. The config's memory estimate (memory.py) is checked
against the machine before the model is built.

Launched on several processes (tinytorch.distributed.run), the same loop trains data-parallel with
the same global batch: see parallel.py.
"""
import contextlib
import json
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

import tinytorch
from tinytorch import profiler
from tinytorch.cli import check_run_folder, claim_run_folder
from tinytorch.distributed import ReduceOp
from tinytorch.nn.parallel import DistributedDataParallel
from tinytorch.nn.utils import clip_grad_norm_
from tinytorch.serialization import atomic
from tinytorch.terminal import printable

from .checkpoint import CHECKPOINT, load_checkpoint, save_checkpoint
from .data import open_dataset
from .memory import check_fits
from .model import GPT
from .parallel import Ranks
from .presets import model_config

EVAL_SEED_OFFSET = 1   # evaluation batches come from their own fixed stream, seed + 1
RUN_FILES = (CHECKPOINT, "metrics.json", "loss.png", "profile.txt")


class RunLog:
    """What metrics.json holds: losses, learning rate, time and tokens per step, evaluations, samples,
    and the config changes of resumed runs."""

    def __init__(self, state=None):
        self.state = state or {"step_loss": [], "lr": [], "step_ms": [], "step_tokens": [], "eval_steps": [],
                               "train_loss": [], "val_loss": [], "samples": [], "config_changes": [], "seconds": 0.0}

    def record_step(self, loss, lr, seconds, tokens):
        self.state["step_loss"].append(loss)
        self.state["lr"].append(lr)
        self.state["step_ms"].append(1000.0 * seconds)
        self.state["step_tokens"].append(tokens)

    def record_eval(self, step, losses, sample):
        self.state["eval_steps"].append(step)
        self.state["train_loss"].append(losses["train"])
        self.state["val_loss"].append(losses["val"])
        if sample is not None:
            self.state["samples"].append({"step": step, "text": sample})

    def summary(self, params, settings):
        """metrics.json: final train_loss/val_loss as numbers, the per-eval values as *_curve lists.

        ms_per_step and tokens_per_second are medians over the steps after the first 5, each step's
        tokens/s from the tokens that step had (a resumed run may have changed the batch size).
        """
        curves = {k: v for k, v in self.state.items() if k not in ("train_loss", "val_loss")}
        skip = 5 if len(self.state["step_ms"]) > 5 else 0
        ms = np.asarray(self.state["step_ms"][skip:] or [float("nan")])
        tokens = np.asarray(self.state["step_tokens"][skip:] or [float("nan")])
        return {"params": params, "steps": len(self.state["step_loss"]), "seconds": self.state["seconds"],
                "train_seconds": float(sum(self.state["step_ms"])) / 1000.0,
                "ms_per_step": float(np.median(ms)), "tokens_per_second": float(np.median(tokens / ms) * 1000),
                "final_val_loss": self.state["val_loss"][-1] if self.state["val_loss"] else None,
                "best_val_loss": min(self.state["val_loss"]) if self.state["val_loss"] else None,
                "model_config": settings["model_config"], "train_config": settings["train_config"],
                "train_loss": self.state["train_loss"][-1] if self.state["train_loss"] else None,
                "val_loss": self.state["val_loss"][-1] if self.state["val_loss"] else None,
                "train_loss_curve": self.state["train_loss"], "val_loss_curve": self.state["val_loss"], **curves}


def grad_accum_steps(cfg, block_size, world_size=1):
    """Micro-batches per step on each of world_size processes, for total_batch_tokens per step."""
    micro = cfg.batch_size * block_size * world_size
    total = cfg.total_batch_tokens or micro
    if total % micro:
        processes = f"*world_size ({world_size} processes)" if world_size > 1 else ""
        raise ValueError(f"total_batch_tokens={total} is not a multiple of batch_size*block_size{processes}={micro}")
    return total // micro


def as_tensor(array, device):
    t = tinytorch.from_numpy(array)
    return t if device == "cpu" else t.to(device)


def train_step(model, optimizer, params, stream, cfg, lr, accum):
    """One optimizer step over `accum` micro-batches from stream; returns the step's mean loss (this
    process's). A DistributedDataParallel model runs the other micro-batches under no_sync(), so it
    averages the gradients over the processes once, in the last micro-batch's backward."""
    for group in optimizer.param_groups:
        group["lr"] = lr
    step_loss = 0.0
    for micro in range(accum):
        x, y = stream.next_batch()
        local = isinstance(model, DistributedDataParallel) and micro < accum - 1
        with model.no_sync() if local else contextlib.nullcontext():
            _, loss = model(as_tensor(x, cfg.device), as_tensor(y, cfg.device))
            (loss / accum if accum > 1 else loss).backward()
        step_loss += loss.item() / accum
    if cfg.grad_clip > 0:
        clip_grad_norm_(params, cfg.grad_clip)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return step_loss


@tinytorch.no_grad()
def estimate_loss(model, data, cfg, block_size, ranks=None):
    """Mean loss over cfg.eval_iters batches of each split; the same batches at every evaluation,
    whatever the number of processes (with `ranks`, each computes every world_size-th batch)."""
    rank, world_size = (ranks.rank, ranks.world_size) if ranks else (0, 1)
    model.eval()
    losses = {}
    for split in ("train", "val"):
        stream = data.batches(split, cfg.batch_size, block_size, seed=cfg.seed + EVAL_SEED_OFFSET)
        total = 0.0
        for i in range(cfg.eval_iters):
            x, y = stream.next_batch()
            if i % world_size == rank:
                total += model(as_tensor(x, cfg.device), as_tensor(y, cfg.device))[1].item()
        losses[split] = (ranks.reduce(total, ReduceOp.SUM) if ranks else total) / cfg.eval_iters
    model.train()
    return losses


def sample_text(model, tokenizer, max_new_tokens, seed, device="cpu", prompt="\n", temperature=1.0, top_k=None,
                window_shift=1):
    """Text generated after `prompt` with a generator seeded by `seed` (independent of training's RNG)."""
    start = tinytorch.tensor([tokenizer.encode(prompt)], dtype=tinytorch.long, device=device)
    generator = tinytorch.Generator(device).manual_seed(seed)
    was_training = model.training
    model.eval()
    out = model.generate(start, max_new_tokens, temperature=temperature, top_k=top_k, generator=generator,
                         window_shift=window_shift)
    model.train(was_training)
    return tokenizer.decode(out[0].tolist())


def build(settings):
    """Dataset, model and optimizer for a run: settings = presets.resolve(...)."""
    cfg = settings["train"]
    if not cfg.dataset:
        raise ValueError("this preset needs --dataset=PATH (a text file/folder, or a folder of shards)")
    data = open_dataset(cfg.dataset)
    config = model_config(settings["model"], data.tokenizer.vocab_size)
    if config.vocab_size < data.tokenizer.vocab_size:
        raise ValueError(f"vocab_size={config.vocab_size} is smaller than the dataset's vocabulary "
                         f"({data.tokenizer.vocab_size})")
    check_fits(config, cfg.batch_size, cfg.device)
    tinytorch.manual_seed(cfg.seed)
    model = GPT(config)
    if cfg.device != "cpu":
        model.to(cfg.device)
    optimizer = model.configure_optimizers(cfg.weight_decay, cfg.learning_rate, (cfg.beta1, cfg.beta2), cfg.eps)
    return data, model, optimizer


def train(settings, out_dir, resume=False, overwrite=False, override=(), stop_at=None, progress=True,
          profile_steps=0):
    """Run (or resume) training into the folder out_dir; returns the metrics.

    resume continues the run in out_dir, with the train-config keys named in `override` allowed to
    differ from its checkpoint's; overwrite replaces the run there. stop_at ends early at that step
    (with a checkpoint), as an interruption would. profile_steps > 0 runs the first that many steps
    under tinytorch.profiler and writes its per-op table to `out_dir/profile.txt`. Launched on
    several processes, every one trains its share, and rank 0 writes the folder and alone returns
    the metrics (the others None; parallel.py).
    """
    started = time.perf_counter()
    cfg = settings["train"]
    if override and not resume:
        raise ValueError("--override changes the settings of a resumed run: give it together with --resume")
    ranks = Ranks(cfg.device)
    check_run_folder(out_dir, RUN_FILES, overwrite=overwrite, resume=resume)
    if resume and not (Path(out_dir) / CHECKPOINT).is_file():
        raise FileNotFoundError(f"no checkpoint at {Path(out_dir) / CHECKPOINT}")
    data, model, optimizer = build(settings)
    T = model.config.block_size
    accum = grad_accum_steps(cfg, T, ranks.world_size)
    ranks.barrier()  # every rank has checked the folder before rank 0 claims it
    out = claim_run_folder(out_dir, RUN_FILES, overwrite=overwrite, resume=resume) if ranks.main else Path(out_dir)
    tokens_per_step = accum * cfg.batch_size * T * ranks.world_size
    stream = data.batches("train", cfg.batch_size, T, seed=cfg.seed, rank=ranks.rank, world_size=ranks.world_size,
                          shuffle=cfg.shuffle_shards)
    meta = {"model_config": model.config.to_dict(), "train_config": cfg.to_dict(),
            "tokenizer": data.tokenizer.to_meta()}
    step, log = 0, RunLog()
    if resume:
        step, log_state = load_checkpoint(out / CHECKPOINT, model, optimizer, stream, meta, override)
        log = RunLog(log_state)
    replica = ranks.wrap(model)
    end = cfg.max_iters if stop_at is None else min(stop_at, cfg.max_iters)
    bar = tqdm(total=cfg.max_iters, initial=step, disable=not (progress and ranks.main), dynamic_ncols=True,
               desc="train")
    say = bar.write if ranks.main else (lambda text: None)
    processes = f" on each of {ranks.world_size} processes" if ranks.world_size > 1 else ""
    say(f"{printable(data.describe())}; {model.num_params():,} parameters; {tokens_per_step:,} tokens per step "
        f"({accum} micro-batch{'es' if accum > 1 else ''} of {cfg.batch_size}x{T}{processes})")
    if step == 0:
        evaluate(model, data, cfg, log, 0, say, ranks)
    params = list(model.parameters())
    metrics = None
    prof, profile_end = (profiler.profile(), step + profile_steps) if profile_steps else (None, step)
    while step < end:
        t0 = time.perf_counter()
        lr = cfg.lr_at(step)
        if step < profile_end:
            with prof:
                step_loss = train_step(replica, optimizer, params, stream, cfg, lr, accum)
            if ranks.main and (step + 1 == profile_end or step + 1 == end):
                atomic.write_text(out / "profile.txt", prof.table(row_limit=1000) + "\n")
                say(f"profile of {step + 1 - (profile_end - profile_steps)} steps -> "
                    f"{printable(str(out / 'profile.txt'))}")
        else:
            step_loss = train_step(replica, optimizer, params, stream, cfg, lr, accum)
        step_loss = ranks.reduce(step_loss, ReduceOp.AVG)
        step += 1
        seconds = time.perf_counter() - t0
        log.record_step(step_loss, lr, seconds, tokens_per_step)
        bar.update(1)
        bar.set_postfix_str(f"loss {step_loss:.4f} lr {lr:.2e} {1000 * seconds:.0f} ms/step "
                            f"{tokens_per_step / seconds:,.0f} tok/s", refresh=False)
        if step % cfg.eval_interval == 0 or step == cfg.max_iters:
            evaluate(model, data, cfg, log, step, say, ranks)
        if step == end or (cfg.checkpoint_interval and step % cfg.checkpoint_interval == 0):
            log.state["seconds"] += time.perf_counter() - started
            started = time.perf_counter()
            if ranks.main:
                save_checkpoint(out / CHECKPOINT, model, optimizer, stream, step, log.state, meta)
            metrics = write_metrics(log, model.num_params(), meta, out, ranks)
    bar.close()
    metrics = metrics if metrics is not None else write_metrics(log, model.num_params(), meta, out, ranks)
    ranks.close()
    return metrics if ranks.main else None


def write_metrics(log, params, meta, out, ranks):
    """The metrics so far; rank 0 also writes them to metrics.json and loss.png (each atomically)."""
    metrics = {**log.summary(params, meta), "world_size": ranks.world_size, "kernels": tinytorch.backends.kernels,
               "cpu_matmul": tinytorch.backends.matmul_library()}
    if ranks.main:
        atomic.write_text(out / "metrics.json", json.dumps(metrics, indent=1))
        plot_losses(metrics, out / "loss.png")
    return metrics


def evaluate(model, data, cfg, log, step, say, ranks):
    losses = estimate_loss(model, data, cfg, model.config.block_size, ranks)
    sample = None
    if cfg.sample_tokens and ranks.main:
        sample = sample_text(model, data.tokenizer, cfg.sample_tokens, seed=cfg.seed, device=cfg.device)
    log.record_eval(step, losses, sample)
    say(f"step {step}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")


def plot_losses(metrics, path):
    """Per-step training loss, and the evaluated train/val losses, against the step."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4))
    steps = np.arange(1, len(metrics["step_loss"]) + 1)
    ax.plot(steps, metrics["step_loss"], lw=0.5, alpha=0.5, label="train (per step)")
    ax.plot(metrics["eval_steps"], metrics["train_loss_curve"], "o-", label="train (eval)")
    ax.plot(metrics["eval_steps"], metrics["val_loss_curve"], "o-", label="val (eval)")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats/token)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic.replacing(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
