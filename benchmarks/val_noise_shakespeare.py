"""How noisy is a 20-batch val loss? The spread of nanoGPT's eval estimate for one trained model.

nanoGPT's CPU config reports the val loss as the mean over eval_iters=20 random batches of
12 x 64 characters. This script takes a finished tinytorch run (its checkpoint), draws that
estimate many times with independent random batches, and compares the spread with the loss on
the whole val split (every window of block_size characters, no overlap) and with the target:

    python -m tinytorch.models.gpt train --preset shakespeare-char-cpu --out runs/sc
    python benchmarks/val_noise_shakespeare.py --run runs/sc [--draws 200]

Writes benchmarks/results/val_noise.{json,md,png} with the machine's description.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np

import tinytorch
from tinytorch.models.gpt.checkpoint import CHECKPOINT, load_model
from tinytorch.models.gpt.data import open_dataset

from machine_info import describe, machine_info

RESULTS = Path(__file__).resolve().parent / "results"
TARGET, NANOGPT = 1.88, 1.8857


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", required=True, help="a shakespeare-char-cpu training run folder (with its checkpoint)")
    parser.add_argument("--draws", type=int, default=200)
    args = parser.parse_args()
    model, _ = load_model(Path(args.run) / CHECKPOINT)
    metrics = json.loads((Path(args.run) / "metrics.json").read_text())
    train_cfg = metrics["train_config"]
    block_size, batch_size, batches = model.config.block_size, train_cfg["batch_size"], train_cfg["eval_iters"]
    val = open_dataset(train_cfg["dataset"])
    t0 = time.perf_counter()
    estimates = twenty_batch_estimates(model, val, args.draws, batches, batch_size, block_size)
    whole = whole_split_loss(model, val.splits["val"], block_size)
    result = {"run": str(args.run), "reported_val_loss": metrics["final_val_loss"], "whole_val_loss": whole,
              "draws": args.draws, "batches_per_estimate": batches, "batch_size": batch_size, "block_size": block_size,
              "estimate_mean": float(estimates.mean()), "estimate_std": float(estimates.std(ddof=1)),
              "estimate_min": float(estimates.min()), "estimate_max": float(estimates.max()),
              "fraction_at_or_below_target": float(np.mean(estimates <= TARGET)),
              "fraction_at_or_below_nanogpt": float(np.mean(estimates <= NANOGPT)),
              "seconds": time.perf_counter() - t0, "estimates": estimates.tolist(), "machine": machine_info()}
    write(result)


def write(r):
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "val_noise.json").write_text(json.dumps(r, indent=1))
    text = "\n".join([
        f"# Val loss of one shakespeare-char-cpu model: {r['draws']} draws of nanoGPT's "
        f"{r['batches_per_estimate']}-batch estimate", "",
        "| reported by the run | whole val split | estimates: mean ± sd | min – max | share ≤ 1.88 | "
        "share ≤ 1.8857 (nanoGPT) |",
        "|---:|---:|---:|---:|---:|---:|",
        f"| {r['reported_val_loss']:.4f} | {r['whole_val_loss']:.4f} | {r['estimate_mean']:.4f} ± "
        f"{r['estimate_std']:.4f} | {r['estimate_min']:.4f} – {r['estimate_max']:.4f} | "
        f"{100 * r['fraction_at_or_below_target']:.1f} % | {100 * r['fraction_at_or_below_nanogpt']:.1f} % |", "",
        f"Each estimate averages {r['batches_per_estimate']} batches of {r['batch_size']} x {r['block_size']} "
        "characters at random offsets of the val split, as nanoGPT's estimate_loss does; the whole-split loss "
        "averages every non-overlapping window. Command: "
        f"`python benchmarks/val_noise_shakespeare.py --run RUN --draws {r['draws']}`.", "",
        describe(r["machine"]), ""])
    (RESULTS / "val_noise.md").write_text(text)
    plot(r, RESULTS / "val_noise.png")
    print(text)


def plot(r, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist(r["estimates"], bins=30, color="0.7")
    for x, label, style in ((r["whole_val_loss"], "whole val split", "-"), (r["reported_val_loss"], "reported", "--"),
                            (NANOGPT, "nanoGPT 1.8857", ":"), (TARGET, "target 1.88", "-.")):
        ax.axvline(x, color="k", ls=style, label=label)
    ax.set_xlabel(f"mean loss over {r['batches_per_estimate']} random val batches")
    ax.set_ylabel("draws")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
