"""How noisy is a 20-batch val loss? The spread of nanoGPT's eval estimate for one trained model.

nanoGPT's CPU config reports the val loss as the mean over eval_iters=20 random batches of
12 x 64 characters. This script takes a finished tinytorch run (its checkpoint), draws that
estimate many times with independent random batches, and compares the spread with the loss on
the whole val split (every window of block_size characters, no overlap) and with the target:

    python -m tinytorch.models.gpt train --preset shakespeare-char-cpu --out runs/sc
    python benchmarks/val_noise_shakespeare.py --run runs/sc [--draws 200]

Writes OUT/val_noise.{json,md,png} (--update-results: benchmarks/results/) with the machine's
description.
"""
import json
import time
from pathlib import Path

import numpy as np

import harness
import tinytorch
from tinytorch.models.gpt.checkpoint import CHECKPOINT, load_model
from tinytorch.models.gpt.data import open_dataset

TARGET, NANOGPT = 1.88, 1.8857
COLUMNS = [("reported by the run", "{reported_val_loss:.4f}"), ("whole val split", "{whole_val_loss:.4f}"),
           ("estimates: mean ± sd", "{estimate_mean:.4f} ± {estimate_std:.4f}"),
           ("min – max", "{estimate_min:.4f} – {estimate_max:.4f}"),
           ("share ≤ 1.88", lambda r: f"{100 * r['fraction_at_or_below_target']:.1f} %"),
           ("share ≤ 1.8857 (nanoGPT)", lambda r: f"{100 * r['fraction_at_or_below_nanogpt']:.1f} %")]


def batch_loss(model, x, y):
    with tinytorch.no_grad():
        return model(tinytorch.from_numpy(x), tinytorch.from_numpy(y))[1].item()


def twenty_batch_estimates(model, val, draws, batches, batch_size, block_size):
    """`draws` estimates, each the mean loss over `batches` random batches (nanoGPT's estimate_loss)."""
    estimates = []
    for d in range(draws):
        stream = val.batches("val", batch_size, block_size, seed=10_000 + d)
        estimates.append(float(np.mean([batch_loss(model, *stream.next_batch()) for _ in range(batches)])))
    return np.array(estimates)


def whole_split_loss(model, tokens, block_size, rows=64):
    """Mean loss over every non-overlapping window of block_size + 1 tokens of the split."""
    n = (len(tokens) - 1) // block_size
    starts = np.arange(n) * block_size
    window = tokens[starts[:, None] + np.arange(block_size + 1)].astype(np.int64)
    losses = [batch_loss(model, window[i:i + rows, :-1].copy(), window[i:i + rows, 1:].copy()) * len(window[i:i + rows])
              for i in range(0, n, rows)]
    return float(np.sum(losses) / n)


def histogram(r):
    """The panel: the estimates' histogram, with the whole-split loss, the run's report and the targets."""
    def draw(ax):
        ax.hist(r["estimates"], bins=30, color="0.7")
        for x, label, style in ((r["whole_val_loss"], "whole val split", "-"),
                                (r["reported_val_loss"], "reported", "--"),
                                (NANOGPT, "nanoGPT 1.8857", ":"), (TARGET, "target 1.88", "-.")):
            ax.axvline(x, color="k", ls=style, label=label)
        ax.set_xlabel(f"mean loss over {r['batches_per_estimate']} random val batches")
        ax.set_ylabel("draws")
        ax.legend(fontsize=8)
    return draw


def main():
    parser = harness.cli(__doc__)
    parser.add_argument("--run", required=True, help="a shakespeare-char-cpu training run folder (with its checkpoint)")
    parser.add_argument("--draws", type=int, default=200)
    args = harness.start(parser)
    model, _ = load_model(Path(args.run) / CHECKPOINT)
    metrics = json.loads((Path(args.run) / "metrics.json").read_text())
    train_cfg = metrics["train_config"]
    block_size, batch_size, batches = model.config.block_size, train_cfg["batch_size"], train_cfg["eval_iters"]
    results = harness.Results("val_noise", args, f"Val loss of one shakespeare-char-cpu model: {args.draws} draws "
                              f"of nanoGPT's {batches}-batch estimate")
    val = open_dataset(train_cfg["dataset"])
    t0 = time.perf_counter()
    estimates = twenty_batch_estimates(model, val, args.draws, batches, batch_size, block_size)
    whole = whole_split_loss(model, val.splits["val"], block_size)
    r = {"run": str(args.run), "reported_val_loss": metrics["final_val_loss"], "whole_val_loss": whole,
         "draws": args.draws, "batches_per_estimate": batches, "batch_size": batch_size, "block_size": block_size,
         "estimate_mean": float(estimates.mean()), "estimate_std": float(estimates.std(ddof=1)),
         "estimate_min": float(estimates.min()), "estimate_max": float(estimates.max()),
         "fraction_at_or_below_target": float(np.mean(estimates <= TARGET)),
         "fraction_at_or_below_nanogpt": float(np.mean(estimates <= NANOGPT)),
         "seconds": time.perf_counter() - t0, "estimates": estimates.tolist()}
    results.table("rows", COLUMNS).row(**r)
    results.text(f"Each estimate averages {batches} batches of {batch_size} x {block_size} characters at random "
                 "offsets of the val split, as nanoGPT's estimate_loss does; the whole-split loss averages every "
                 "non-overlapping window.")
    results.plot(histogram(r)).write()


if __name__ == "__main__":
    main()
