"""GPT-2 124M on CPU: one forward + backward at B=1, T=128 (float32), its time and peak memory.

Peak memory is measured two ways: tracemalloc (NumPy reports its array allocations to it), as
the peak above the memory held before the step (the weights), and the process's peak RSS
(ru_maxrss, which includes the weights, the interpreter and the libraries).

    python benchmarks/bench_gpt2_124m_step.py

Writes benchmarks/results/gpt2_124m_step.{json,md}.
"""
import json
import math
import resource
import time
import tracemalloc
from pathlib import Path

import numpy as np

import tinytorch
from tinytorch.models.gpt import GPT, PRESETS
from tinytorch.models.gpt.presets import model_config

from machine_info import describe, machine_info

RESULTS = Path(__file__).resolve().parent / "results"
MB = 2 ** 20


def main(B=1, T=128):
    tinytorch.manual_seed(0)
    t0 = time.perf_counter()
    model = GPT(model_config(PRESETS["gpt2-124m"]["model"], vocab_size=50257))
    init_seconds = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    x = tinytorch.from_numpy(rng.integers(0, 50257, (B, T)))
    y = tinytorch.from_numpy(rng.integers(0, 50257, (B, T)))
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    t0 = time.perf_counter()
    _, loss = model(x, y)
    forward_seconds = time.perf_counter() - t0
    loss.backward()
    step_seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    params = model.num_params()
    grads = sum(p.grad.numel() for p in model.parameters() if p.grad is not None)
    result = {"B": B, "T": T, "params": params, "parameters_with_grad": grads, "loss": loss.item(),
              "uniform_loss": math.log(50257), "init_seconds": init_seconds, "forward_seconds": forward_seconds,
              "forward_backward_seconds": step_seconds, "weights_mb": params * 4 / MB,
              "peak_traced_above_weights_mb": (peak - before) / MB,
              "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
              "machine": machine_info(tinytorch=tinytorch.__version__)}
    write(result)


def write(r):
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "gpt2_124m_step.json").write_text(json.dumps(r, indent=1))
    text = "\n".join([
        f"# GPT-2 124M, one forward + backward on CPU (B={r['B']}, T={r['T']}, float32)", "",
        "| parameters | loss (ln 50257 = 10.8249) | forward (s) | forward + backward (s) | weights (MB) | "
        "peak above weights, tracemalloc (MB) | peak RSS (MB) |",
        "|---|---|---|---|---|---|---|",
        f"| {r['params']:,} | {r['loss']:.4f} | {r['forward_seconds']:.2f} | {r['forward_backward_seconds']:.2f} | "
        f"{r['weights_mb']:.0f} | {r['peak_traced_above_weights_mb']:.0f} | {r['peak_rss_mb']:.0f} |", "",
        "Command: `python benchmarks/bench_gpt2_124m_step.py`", "", describe(r["machine"]), ""])
    (RESULTS / "gpt2_124m_step.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
