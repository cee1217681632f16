"""The GPT training loop (build-nanogpt's recipe), with evaluation, sampling, checkpoints and metrics.

One optimizer step: for each of `accum` micro-batches, loss / accum is backpropagated (so the
gradients add up to those of the mean over the whole step's tokens); then the global gradient
norm is clipped, the learning rate of this step is set, and AdamW steps. Every eval_interval
steps (and at the end) the mean loss over eval_iters fixed batches of each split is measured
and a sample is generated. A checkpoint holds everything the next step depends on (weights,
AdamW moments, step, RNG and data position), so a resumed run continues exactly.
"""
import json
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

import tinytorch
from tinytorch import profiler
from tinytorch.nn.utils import clip_grad_norm_

from .checkpoint import CHECKPOINT, load_checkpoint, save_checkpoint
from .data import open_dataset
from .model import GPT
from .presets import model_config

EVAL_SEED_OFFSET = 1   # evaluation batches come from their own fixed stream, seed + 1


class RunLog:
    """What metrics.json holds: losses per step and per evaluation, timings, samples."""

    def __init__(self, state=None):
        self.state = state or {"step_loss": [], "lr": [], "step_ms": [], "eval_steps": [], "train_loss": [],
                               "val_loss": [], "samples": [], "seconds": 0.0}

    def record_step(self, loss, lr, seconds):
        self.state["step_loss"].append(loss)
        self.state["lr"].append(lr)
        self.state["step_ms"].append(1000.0 * seconds)

    def record_eval(self, step, losses, sample):
        self.state["eval_steps"].append(step)
        self.state["train_loss"].append(losses["train"])
        self.state["val_loss"].append(losses["val"])
        if sample is not None:
            self.state["samples"].append({"step": step, "text": sample})

    def summary(self, tokens_per_step, params, settings):
        """metrics.json: final train_loss/val_loss as numbers, the per-eval values as *_curve lists."""
        curves = {k: v for k, v in self.state.items() if k not in ("train_loss", "val_loss")}
        ms = np.asarray(self.state["step_ms"][5:] or self.state["step_ms"] or [float("nan")])
        return {"params": params, "steps": len(self.state["step_loss"]), "seconds": self.state["seconds"],
                "train_seconds": float(sum(self.state["step_ms"])) / 1000.0,
                "ms_per_step": float(np.median(ms)), "tokens_per_second": float(tokens_per_step / np.median(ms) * 1000),
                "final_val_loss": self.state["val_loss"][-1] if self.state["val_loss"] else None,
                "best_val_loss": min(self.state["val_loss"]) if self.state["val_loss"] else None,
                "model_config": settings["model_config"], "train_config": settings["train_config"],
                "train_loss": self.state["train_loss"][-1] if self.state["train_loss"] else None,
                "val_loss": self.state["val_loss"][-1] if self.state["val_loss"] else None,
                "train_loss_curve": self.state["train_loss"], "val_loss_curve": self.state["val_loss"], **curves}


def grad_accum_steps(cfg, block_size):
    micro = cfg.batch_size * block_size
    total = cfg.total_batch_tokens or micro
    if total % micro:
        raise ValueError(f"total_batch_tokens={total} is not a multiple of batch_size*block_size={micro}")
    return total // micro


def as_tensor(array, device):
    t = tinytorch.from_numpy(array)
    return t if device == "cpu" else t.to(device)


def train_step(model, optimizer, params, stream, cfg, lr, accum):
    """One optimizer step over `accum` micro-batches from stream; returns the step's mean loss."""
    for group in optimizer.param_groups:
        group["lr"] = lr
    step_loss = 0.0
    for _ in range(accum):
        x, y = stream.next_batch()
        _, loss = model(as_tensor(x, cfg.device), as_tensor(y, cfg.device))
        (loss / accum if accum > 1 else loss).backward()
        step_loss += loss.item() / accum
    if cfg.grad_clip > 0:
        clip_grad_norm_(params, cfg.grad_clip)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return step_loss


@tinytorch.no_grad()
def estimate_loss(model, data, cfg, block_size):
    """Mean loss over cfg.eval_iters batches of each split; the same batches at every evaluation."""
    model.eval()
    losses = {}
    for split in ("train", "val"):
        stream = data.batches(split, cfg.batch_size, block_size, seed=cfg.seed + EVAL_SEED_OFFSET)
        total = 0.0
        for _ in range(cfg.eval_iters):
            x, y = stream.next_batch()
            total += model(as_tensor(x, cfg.device), as_tensor(y, cfg.device))[1].item()
        losses[split] = total / cfg.eval_iters
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
    tinytorch.manual_seed(cfg.seed)
    model = GPT(config)
    if cfg.device != "cpu":
        model.to(cfg.device)
    optimizer = model.configure_optimizers(cfg.weight_decay, cfg.learning_rate, (cfg.beta1, cfg.beta2), cfg.eps)
    return data, model, optimizer


def train(settings, out_dir, resume=False, stop_at=None, progress=True, profile_steps=0):
    """Run (or resume) training; stop_at ends early at that step as an interruption would. Returns metrics.

    profile_steps > 0 runs the first that many steps under tinytorch.profiler and writes its
    per-op table to `out_dir/profile.txt`.
    """
    started = time.perf_counter()
    cfg = settings["train"]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data, model, optimizer = build(settings)
    T = model.config.block_size
    accum = grad_accum_steps(cfg, T)
    tokens_per_step = accum * cfg.batch_size * T
    stream = data.batches("train", cfg.batch_size, T, seed=cfg.seed, shuffle=cfg.shuffle_shards)
    meta = {"model_config": model.config.to_dict(), "train_config": cfg.to_dict(),
            "tokenizer": data.tokenizer.to_meta()}
    step, log = 0, RunLog()
    if resume:
        step, log_state = load_checkpoint(out / CHECKPOINT, model, optimizer, stream, meta)
        log = RunLog(log_state)
    end = cfg.max_iters if stop_at is None else min(stop_at, cfg.max_iters)
    bar = tqdm(total=cfg.max_iters, initial=step, disable=not progress, dynamic_ncols=True, desc="train")
    bar.write(f"{data.describe()}; {model.num_params():,} parameters; {tokens_per_step:,} tokens per step "
              f"({accum} micro-batch{'es' if accum > 1 else ''} of {cfg.batch_size}x{T})")
    if step == 0:
        evaluate(model, data, cfg, log, 0, bar)
    params = list(model.parameters())
    metrics = None
    prof, profile_end = (profiler.profile(), step + profile_steps) if profile_steps else (None, step)
    while step < end:
        t0 = time.perf_counter()
        lr = cfg.lr_at(step)
        if step < profile_end:
            with prof:
                step_loss = train_step(model, optimizer, params, stream, cfg, lr, accum)
            if step + 1 == profile_end or step + 1 == end:
                prof.export(out / "profile.txt")
                bar.write(f"profile of {step + 1 - (profile_end - profile_steps)} steps -> {out / 'profile.txt'}")
        else:
            step_loss = train_step(model, optimizer, params, stream, cfg, lr, accum)
        step += 1
        seconds = time.perf_counter() - t0
        log.record_step(step_loss, lr, seconds)
        bar.update(1)
        bar.set_postfix_str(f"loss {step_loss:.4f} lr {lr:.2e} {1000 * seconds:.0f} ms/step "
                            f"{tokens_per_step / seconds:,.0f} tok/s", refresh=False)
        if step % cfg.eval_interval == 0 or step == cfg.max_iters:
            evaluate(model, data, cfg, log, step, bar)
        if step == end or (cfg.checkpoint_interval and step % cfg.checkpoint_interval == 0):
            log.state["seconds"] += time.perf_counter() - started
            started = time.perf_counter()
            save_checkpoint(out / CHECKPOINT, model, optimizer, stream, step, log.state, meta)
            metrics = write_metrics(log, tokens_per_step, model.num_params(), meta, out)
    bar.close()
    return metrics if metrics is not None else write_metrics(log, tokens_per_step, model.num_params(), meta, out)


def write_metrics(log, tokens_per_step, params, meta, out):
    """metrics.json and loss.png for the run so far."""
    metrics = {**log.summary(tokens_per_step, params, meta), "kernels": tinytorch.backends.kernels,
               "cpu_matmul": tinytorch.backends.cpu_matmul}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    plot_losses(metrics, out / "loss.png")
    return metrics


def evaluate(model, data, cfg, log, step, bar):
    losses = estimate_loss(model, data, cfg, model.config.block_size)
    sample = None
    if cfg.sample_tokens:
        sample = sample_text(model, data.tokenizer, cfg.sample_tokens, seed=cfg.seed, device=cfg.device)
    log.record_eval(step, losses, sample)
    bar.write(f"step {step}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")


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
    fig.savefig(path, dpi=100)
    plt.close(fig)
