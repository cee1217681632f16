"""nanoGPT's shakespeare-char CPU recipe in plain PyTorch, with PyTorch's own init and RNG: what the
reference itself scores on this machine, seed by seed.

The twin in torch_twin_shakespeare.py copies tinytorch's initial weights and batches, so it
answers "does tinytorch compute the same thing?". This script answers the other question: what
does the recipe give when PyTorch draws everything, as nanoGPT does? It follows nanoGPT's
train.py for the CPU config (4 layers, 4 heads, 128 wide, block 64, batch 12, 2000 iterations,
AdamW lr 1e-3 with 100 warmup steps and cosine decay to 1e-4, betas (0.9, 0.99), weight decay 0.1
on matrices, clipping 1.0, exact GELU, no bias, no dropout): torch.manual_seed(seed), GPT-2 init,
batches from torch.randint, and the train and val losses estimated on 20 random batches each at
every 250 steps (train first: the draws are part of the RNG stream the next batches come from).
At the end it also scores the whole val split (every window of 64 characters, no overlap).

    python benchmarks/nanogpt_recipe_torch.py --seeds 1337 1338 1339 1340
    python benchmarks/nanogpt_recipe_torch.py --quick     # 40 iterations (the schedule shrinks with them)
    python benchmarks/nanogpt_recipe_torch.py --torch-threads 1   # torch's default threading otherwise

Writes OUT/nanogpt_recipe_torch.{json,md,png} (--update-results: benchmarks/results/) with the
machine's description.
"""
import math
import time

import numpy as np
import torch
import torch.nn as nn

import harness
from tinytorch.data import read_text
from tinytorch.models.gpt import GPTConfig

from twins.gpt import TorchGPT

B, T, ITERS, WARMUP, LR, MIN_LR, EVAL_EVERY, EVAL_BATCHES = 12, 64, 2000, 100, 1e-3, 1e-4, 250, 20
QUICK_ITERS = 40


def splits():
    """Tiny Shakespeare as character ids (sorted vocabulary), 90 % train / 10 % val."""
    text = read_text("tinyshakespeare")
    stoi = {c: i for i, c in enumerate(sorted(set(text)))}
    ids = np.array([stoi[c] for c in text], dtype=np.int64)
    n = int(0.9 * len(ids))
    return ids[:n], ids[n:], len(stoi)


def gpt2_init(model, n_layer):
    """nanoGPT's _init_weights, then the residual projections' smaller std."""
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)
    for name, p in model.named_parameters():
        if name.endswith("c_proj.weight"):
            nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))


def get_batch(data):
    starts = torch.randint(len(data) - T, (B,)).numpy()
    window = data[starts[:, None] + np.arange(T + 1)]
    return torch.from_numpy(window[:, :-1].copy()), torch.from_numpy(window[:, 1:].copy())


def lr_at(it, iters):
    """nanoGPT's get_lr: linear warmup to LR over WARMUP steps (at most half the run), cosine to MIN_LR at iters."""
    warmup = min(WARMUP, iters // 2)
    if it < warmup:
        return LR * (it + 1) / (warmup + 1)
    return MIN_LR + 0.5 * (1.0 + math.cos(math.pi * (it - warmup) / (iters - warmup))) * (LR - MIN_LR)


@torch.no_grad()
def whole_split_loss(model, data):
    windows = data[np.arange((len(data) - 1) // T)[:, None] * T + np.arange(T + 1)]
    total = sum(model(torch.from_numpy(w[:, :-1].copy()), torch.from_numpy(w[:, 1:].copy()))[1].item() * len(w)
                for w in np.array_split(windows, math.ceil(len(windows) / 64)))
    return total / len(windows)


def run(seed, train, val, vocab_size, iters):
    torch.manual_seed(seed)
    config = GPTConfig(block_size=T, vocab_size=vocab_size, n_layer=4, n_head=4, n_embd=128, dropout=0.0, bias=False)
    model = TorchGPT(config)
    for block in model.transformer.h:
        block.mlp.gelu = nn.GELU()  # nanoGPT's exact GELU (the twin uses GPT-2's tanh form)
    gpt2_init(model, config.n_layer)
    optimizer = model.configure_optimizers(0.1, LR, (0.9, 0.99))
    curve, steps, started = [], [], time.perf_counter()
    x, y = get_batch(train)
    for it in range(iters + 1):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(it, iters)
        if it % EVAL_EVERY == 0 or it == iters:
            model.eval()
            with torch.no_grad():
                train_loss, val_loss = (float(np.mean([model(*get_batch(d))[1].item() for _ in range(EVAL_BATCHES)]))
                                        for d in (train, val))
            curve.append(val_loss)
            steps.append(it)
            model.train()
        if it == iters:
            break
        _, loss = model(x, y)
        x, y = get_batch(train)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    seconds = time.perf_counter() - started
    model.eval()
    result = {"seed": seed, "train_loss": train_loss, "val_loss": curve[-1], "val_loss_curve": curve,
              "eval_steps": steps, "seconds": seconds, "whole_val_loss": whole_split_loss(model, val)}
    print(f"seed {seed}: val {result['val_loss']:.4f} (20 random batches), whole val split "
          f"{result['whole_val_loss']:.4f}, {seconds:.0f} s", flush=True)
    return result


def main():
    parser = harness.cli(__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1337])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ITERS} iterations instead of {ITERS}")
    parser.add_argument("--torch-threads", type=int, help="torch.set_num_threads (default: torch's own default)")
    args = harness.start(parser)
    iters = QUICK_ITERS if args.quick else ITERS
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    results = harness.Results("nanogpt_recipe_torch", args, "nanoGPT's shakespeare-char CPU recipe in PyTorch "
                              "(PyTorch's init and RNG), seed by seed", torch=torch.__version__,
                              torch_threads=torch.get_num_threads())
    results.table("runs", [("seed", "{seed}"),
                           (f"val at step {iters} ({EVAL_BATCHES} random batches)", "{val_loss:.4f}"),
                           ("whole val split", "{whole_val_loss:.4f}"), ("seconds", "{seconds:.0f}")])
    train, val, vocab_size = splits()
    for seed in args.seeds:
        results.row(**run(seed, train, val, vocab_size, iters))
    results.plot(harness.curves({f"seed {r['seed']}": (r["eval_steps"], r["val_loss_curve"])
                                 for r in results.rows("runs")}, "step", f"val loss ({EVAL_BATCHES} random batches)"))
    results.write()


if __name__ == "__main__":
    main()
