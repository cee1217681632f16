"""The full shakespeare-char-cpu run: tinytorch as `make demo` trains it against nanoGPT's recipe in
plain PyTorch, both with their default settings (every core), each in its own process, alternated
seed by seed (tinytorch, torch, tinytorch, torch, ...).

    python benchmarks/race_shakespeare.py --seeds 1337 1338
    python benchmarks/race_shakespeare.py --quick          # 40 iterations each, a smoke run

tinytorch: `python -m tinytorch.models.gpt train --preset shakespeare-char-cpu --seed=S` (the preset
`make demo` trains; no text samples at its evaluations, as the recipe writes none). torch:
benchmarks/nanogpt_recipe_torch.py --seeds S (nanoGPT's train.py for the CPU config, PyTorch's own init
and RNG). Both train 2000 steps and estimate the val loss on 20 random batches every 250 steps. The
table gives each process's wall time (start to exit, what a user waits for), the training loop's
seconds as each reports it, and the final val loss; the ratio row is the median over seeds of
tinytorch's wall time over torch's. The val losses of different seeds are the run-to-run noise
(benchmarks/results/nanogpt_recipe_torch.md and val_noise.md measure it); both frameworks' should
fall inside it.

Writes OUT/race_shakespeare.{json,md} (--update-results: benchmarks/results/).
"""
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import harness

QUICK_ITERS = 40  # as nanogpt_recipe_torch.py --quick


def tinytorch_run(seed, folder, iters):
    out = Path(folder) / f"tinytorch-{seed}"
    overrides = [f"--seed={seed}", "--sample_tokens=0"]
    if iters:
        overrides += [f"--max_iters={iters}", f"--lr_decay_iters={iters}", f"--warmup_iters={iters // 2}",
                      f"--eval_interval={iters}"]
    wall = timed([sys.executable, "-m", "tinytorch.models.gpt", "train", "--preset", "shakespeare-char-cpu",
                  "--out", str(out), "--quiet", *overrides])
    metrics = json.loads((out / "metrics.json").read_text())
    return {"framework": "tinytorch", "seed": seed, "wall_s": wall, "train_s": metrics["seconds"],
            "val_loss": metrics["final_val_loss"], "kernels": metrics.get("kernels"),
            "matmul": metrics.get("cpu_matmul")}


def torch_run(seed, folder, iters):
    out = Path(folder) / f"torch-{seed}"
    wall = timed([sys.executable, str(harness.BENCHMARKS / "nanogpt_recipe_torch.py"), "--seeds", str(seed),
                  "--out", str(out)] + (["--quick"] if iters else []))
    run = json.loads((out / "nanogpt_recipe_torch.json").read_text())["runs"][0]
    return {"framework": "torch (nanoGPT recipe)", "seed": seed, "wall_s": wall, "train_s": run["seconds"],
            "val_loss": run["val_loss"]}


def timed(command):
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


COLUMNS = [("framework", "{framework}"), ("seed", "{seed}"), ("wall s (process)", "{wall_s:.1f}"),
           ("training loop s", "{train_s:.1f}"), ("final val loss (20 batches)", "{val_loss:.4f}")]


def main():
    parser = harness.cli(__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1337, 1338])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ITERS} iterations (torch: the recipe's --quick)")
    args = harness.start(parser)
    iters = QUICK_ITERS if args.quick else None
    results = harness.Results("race_shakespeare", args, "shakespeare-char-cpu, full run: tinytorch (make demo's "
                              "preset) vs nanoGPT's recipe in PyTorch, default threads")
    results.table("runs", COLUMNS, labels=2)
    with tempfile.TemporaryDirectory(prefix="race_") as folder:
        for seed in args.seeds:
            for run in (tinytorch_run, torch_run):
                row = run(seed, folder, iters)
                results.row(**row)
                print(f"{row['framework']:24s} seed {seed}: {row['wall_s']:.1f} s wall, {row['train_s']:.1f} s "
                      f"training, val {row['val_loss']:.4f}", flush=True)
    rows = results.rows("runs")
    ratios = [a["wall_s"] / b["wall_s"] for a, b in zip(rows[::2], rows[1::2])]
    results.record(wall_ratio=harness.spread(ratios))
    results.text(f"tinytorch's wall time / torch's, seed by seed: median {statistics.median(ratios):.2f} "
                 f"(min {min(ratios):.2f}, max {max(ratios):.2f}, {len(ratios)} seeds). Val loss: tinytorch "
                 f"{statistics.mean(r['val_loss'] for r in rows[::2]):.4f}, torch "
                 f"{statistics.mean(r['val_loss'] for r in rows[1::2]):.4f} (means over seeds).")
    results.write()


if __name__ == "__main__":
    main()
