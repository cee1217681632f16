"""GPT-2 124M on CPU: one forward + backward at B=1, T=128 (float32), its time and peak memory.

Peak memory is measured two ways: tracemalloc (NumPy reports its array allocations to it), as
the peak above the memory held before the step (the weights), and the process's peak RSS
(ru_maxrss, which includes the weights, the interpreter and the libraries).

    python benchmarks/bench_gpt2_124m_step.py

Writes OUT/gpt2_124m_step.{json,md,png} (--update-results: benchmarks/results/).
"""
import math
import resource
import time
import tracemalloc

import numpy as np

import harness
import tinytorch
from tinytorch.models.gpt import GPT, PRESETS
from tinytorch.models.gpt.presets import model_config

MB = 2 ** 20
VOCAB = 50257

COLUMNS = [("parameters", "{params:,}"), ("loss (ln 50257 = 10.8249)", "{loss:.4f}"),
           ("forward (s)", "{forward_seconds:.2f}"), ("forward + backward (s)", "{forward_backward_seconds:.2f}"),
           ("weights (MB)", "{weights_mb:.0f}"),
           ("peak above weights, tracemalloc (MB)", "{peak_traced_above_weights_mb:.0f}"),
           ("peak RSS (MB)", "{peak_rss_mb:.0f}")]


def step(B, T):
    """Build GPT-2 124M and time one forward + backward on random tokens: the result row."""
    tinytorch.manual_seed(0)
    t0 = time.perf_counter()
    model = GPT(model_config(PRESETS["gpt2-124m"]["model"], vocab_size=VOCAB))
    init_seconds = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    x = tinytorch.from_numpy(rng.integers(0, VOCAB, (B, T)))
    y = tinytorch.from_numpy(rng.integers(0, VOCAB, (B, T)))
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
    return {"B": B, "T": T, "params": params, "parameters_with_grad": grads, "loss": loss.item(),
            "uniform_loss": math.log(VOCAB), "init_seconds": init_seconds, "forward_seconds": forward_seconds,
            "forward_backward_seconds": step_seconds, "weights_mb": params * 4 / MB,
            "peak_traced_above_weights_mb": (peak - before) / MB,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main(B=1, T=128):
    args = harness.start(harness.cli(__doc__))
    results = harness.Results("gpt2_124m_step", args, f"GPT-2 124M, one forward + backward on CPU (B={B}, T={T}, "
                              "float32)", tinytorch=tinytorch.__version__)
    r = step(B, T)
    results.table("rows", COLUMNS).row(**r)
    results.plot(harness.bars(["GPT-2 124M"], {"forward": [r["forward_seconds"]],
                                               "forward + backward": [r["forward_backward_seconds"]]}, "seconds",
                              f"one step, B={B}, T={T}"),
                 harness.bars(["GPT-2 124M"], {"weights": [r["weights_mb"]],
                                               "peak above weights (tracemalloc)": [r["peak_traced_above_weights_mb"]],
                                               "peak RSS": [r["peak_rss_mb"]]}, "MB", "memory"))
    results.write()


if __name__ == "__main__":
    main()
