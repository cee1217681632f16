"""The makemore trainer: minibatch SGD (or AdamW) with the lectures' step schedule, a progress
bar, and periodic train/val evaluation.

The lectures train with `lr = 0.1 if step < 100_000 else 0.01` (150_000 for WaveNet): a
step decay, `lr * lr_decay` from `lr_decay_step` on. Minibatches are drawn with replacement
from the training examples by `tinytorch.randint` (seed it with `tinytorch.manual_seed`);
evaluation draws its subsets from a generator of its own, so evaluating more or less often
never changes the training run.
"""
import sys
import time
from dataclasses import dataclass, field

from tqdm import tqdm

import tinytorch as torch
from tinytorch import profiler

from .makemore_data import IGNORE


@dataclass
class TrainConfig:
    max_steps: int = 200_000
    batch_size: int = 32              # 0: the whole training set every step (full-batch GD)
    lr: float = 0.1
    lr_decay_step: int = 100_000      # from this step on the rate is lr * lr_decay (None: never)
    lr_decay: float = 0.1
    optimizer: str = "sgd"            # "sgd" (the lectures) or "adamw" (makemore's transformer)
    weight_decay: float = 0.0
    betas: tuple = (0.9, 0.99)
    eval_interval: int = 10_000
    eval_examples: int = 20_000       # periodic evaluations use a random subset this large (0: all)
    keep_best: bool = False           # end with the weights of the evaluation with the lowest val loss
    profile_steps: int = 0            # run the first steps under tinytorch.profiler (History.profile)

    def lr_at(self, step):
        if self.lr_decay_step is not None and step >= self.lr_decay_step:
            return self.lr * self.lr_decay
        return self.lr


@dataclass
class History:
    losses: list = field(default_factory=list)   # the training loss of every step
    evals: list = field(default_factory=list)    # {"step", "train", "val"} per periodic evaluation
    best_step: int = None                        # with keep_best: the step whose weights were kept
    seconds: float = 0.0       # wall-clock time of the training loop, periodic evaluations included
    cpu_seconds: float = 0.0   # CPU time of this process over the same span (the box is shared)
    profile: str = None        # with profile_steps: the profiler's per-op table


def make_optimizer(model, cfg):
    params = list(model.parameters())
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, betas=cfg.betas, eps=1e-8, weight_decay=cfg.weight_decay)
    raise ValueError(f"trainer: unknown optimizer {cfg.optimizer!r} (expected 'sgd' or 'adamw')")


def gradients(model, xb, yb):
    """The loss of one batch, with every parameter's `.grad` set: by the model's own
    `manual_gradients` if it has one (backprop ninja), else by autograd."""
    if hasattr(model, "manual_gradients"):
        return model.manual_gradients(xb, yb)
    _, loss = model(xb, yb)
    model.zero_grad()
    loss.backward()
    return loss


@torch.no_grad()
def evaluate(model, X, Y, chunk=4096):
    """Mean loss per target (targets equal to IGNORE do not count) over all examples, in eval mode."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for i in range(0, X.shape[0], chunk):
        xb, yb = X[i:i + chunk], Y[i:i + chunk]
        n = int((yb != IGNORE).sum().item())
        if n:
            _, loss = model(xb, yb)
            total += loss.item() * n
            count += n
    model.train(was_training)
    return total / count


def evaluate_splits(model, examples, names=("train", "val"), limit=0, generator=None):
    """{split: loss}; with `limit`, each split is a random subset of that many examples.

    A model whose eval-mode BatchNorm needs statistics of the whole training set
    (`calibrate`, the backprop-ninja MLP) gets them first.
    """
    if hasattr(model, "calibrate"):
        model.calibrate(examples["train"][0])
    out = {}
    for name in names:
        X, Y = examples[name]
        if limit and limit < X.shape[0]:
            ix = torch.randperm(X.shape[0], generator=generator, device=X.device)[:limit]
            X, Y = X[ix], Y[ix]
        out[name] = evaluate(model, X, Y)
    return out


def train(model, examples, cfg, desc="train"):
    """Train `model` on examples["train"] = (X, Y); evaluate on train and val every
    `cfg.eval_interval` steps and after the last. A model with `fit` (the count bigram) is
    fitted in closed form instead. Returns a History."""
    history = History()
    X, Y = examples["train"]
    start, cpu_start = time.perf_counter(), time.process_time()
    if hasattr(model, "fit"):
        model.fit(X, Y)
    else:
        _descend(model, examples, cfg, desc, history)
    history.seconds = time.perf_counter() - start
    history.cpu_seconds = time.process_time() - cpu_start
    return history


def _descend(model, examples, cfg, desc, history):
    """The minibatch loop of `train`, appending to history.losses and history.evals."""
    X, Y = examples["train"]
    model.train()
    optimizer = make_optimizer(model, cfg)
    eval_generator = torch.Generator(X.device).manual_seed(0)
    prof = profiler.profile()
    bar = tqdm(range(cfg.max_steps), desc=desc, file=sys.stderr, mininterval=1.0, dynamic_ncols=True)
    for step in bar:
        lr = cfg.lr_at(step)
        for group in optimizer.param_groups:
            group["lr"] = lr
        if cfg.batch_size:
            ix = torch.randint(0, X.shape[0], (cfg.batch_size,), device=X.device)
            xb, yb = X[ix], Y[ix]
        else:
            xb, yb = X, Y
        if step < cfg.profile_steps:
            with prof:
                loss = gradients(model, xb, yb)
                optimizer.step()
            if step + 1 in (cfg.profile_steps, cfg.max_steps):
                history.profile = prof.table()
        else:
            loss = gradients(model, xb, yb)
            optimizer.step()
        history.losses.append(loss.item())
        if step % 100 == 0:
            bar.set_postfix(loss=f"{history.losses[-1]:.4f}", lr=lr, refresh=False)
        if (step + 1) % cfg.eval_interval == 0 or step + 1 == cfg.max_steps:
            losses = evaluate_splits(model, examples, limit=cfg.eval_examples, generator=eval_generator)
            history.evals.append({"step": step + 1, **losses})
            bar.write(f"step {step + 1:7d}/{cfg.max_steps}: train {losses['train']:.4f}  val {losses['val']:.4f}",
                      file=sys.stderr)
            if cfg.keep_best and losses["val"] <= min(e["val"] for e in history.evals):
                best = {name: t.clone() for name, t in model.state_dict().items()}
                history.best_step = step + 1
    bar.close()
    if cfg.keep_best and history.best_step is not None:
        model.load_state_dict(best)
