"""Fused ops vs their naive twins vs torch (CPU): forward + backward time and peak memory.

    python benchmarks/bench_fused.py               # every case (several minutes, ~8 GB of RAM)
    python benchmarks/bench_fused.py --quick       # the small GPT shapes only (seconds)
    python benchmarks/bench_fused.py --threads 2   # let torch / BLAS use 2 threads

For each op and shape, each implementation runs forward and then backward with a fixed random
upstream gradient, in float32. Time: the minimum over repeats after one warm-up (the machine is
shared, so the minimum is the least noisy statistic; the median is recorded too). Memory: the
rise of the process's peak resident set (VmHWM, reset through /proc/self/clear_refs) during one
forward + backward, for all three; plus, for tinytorch, tracemalloc's peak of NumPy allocations.
Targets: fused at least 2x faster than naive, and at most 1.5x slower than torch. softmax,
layer_norm, attention (its softmax) and gelu_linear (its GELU) also run with
`tinytorch.backends.kernels = "numba"` (the float32 Numba kernels).
Writes benchmarks/results/fused.{json,md,png}.
"""
import argparse
import os
import sys


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python benchmarks/bench_fused.py", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="only the small shapes (B=12, T=64, C=128)")
    parser.add_argument("--threads", type=int, default=1, help="threads for torch, BLAS and Numba (default 1)")
    parser.add_argument("--min-time", type=float, default=1.0, help="seconds of repeats per measurement")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
    return parser.parse_args(argv)


ARGS = parse_args() if __name__ == "__main__" else None
if ARGS is not None:  # before NumPy and torch load their thread pools
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(ARGS.threads)

import gc  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

import tinytorch  # noqa: E402
import tinytorch.nn.functional as F  # noqa: E402
from machine_info import machine_info, reset_peak_rss, rss_kb  # noqa: E402  (benchmarks/ is sys.path[0])

TARGET_VS_NAIVE, TARGET_VS_TORCH = 2.0, 1.5
KERNEL_OPS = ("softmax", "layer_norm", "attention", "gelu_linear")  # float32 ops that kernels = "numba" switches


# ---- cases: (op, shape label, make(rng) -> (arrays, needs_grad, fused, naive, reference), naive note) ----

def cross_entropy_case(rows, vocab):
    def make(rng):
        logits = rng.standard_normal((rows, vocab), dtype=np.float32)
        return ([logits, rng.integers(0, vocab, rows)], [True, False], F.cross_entropy, F.cross_entropy_naive,
                TF.cross_entropy)
    return make


def layer_norm_case(shape):
    def make(rng):
        c = shape[-1]
        arrays = [rng.standard_normal(shape, dtype=np.float32), 1 + 0.1 * rng.standard_normal(c, dtype=np.float32),
                  0.1 * rng.standard_normal(c, dtype=np.float32)]
        return (arrays, [True] * 3, lambda x, w, b: F.layer_norm(x, (c,), w, b),
                lambda x, w, b: F.layer_norm_naive(x, (c,), w, b), lambda x, w, b: TF.layer_norm(x, (c,), w, b))
    return make


def batch_norm_case(shape):
    def make(rng):
        c = shape[1]
        arrays = [rng.standard_normal(shape, dtype=np.float32), 1 + 0.1 * rng.standard_normal(c, dtype=np.float32),
                  0.1 * rng.standard_normal(c, dtype=np.float32)]

        def call(fn, lib):
            def run(x, w, b):
                return fn(x, lib.zeros(c), lib.ones(c), w, b, training=True, momentum=0.1)
            return run
        return (arrays, [True] * 3, call(F.batch_norm, tinytorch), call(F.batch_norm_naive, tinytorch),
                call(TF.batch_norm, torch))
    return make


def softmax_case(shape):
    def make(rng):
        return ([rng.standard_normal(shape, dtype=np.float32) * 3], [True], lambda x: F.softmax(x, -1),
                lambda x: F.softmax_naive(x, -1), lambda x: TF.softmax(x, -1))
    return make


def attention_case(shape):
    def make(rng):
        arrays = [rng.standard_normal(shape, dtype=np.float32) for _ in range(3)]
        return (arrays, [True] * 3, lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
                lambda q, k, v: F.scaled_dot_product_attention_naive(q, k, v, is_causal=True),
                lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, is_causal=True))
    return make


def gelu_linear_case(h_shape, n_out):
    def make(rng):
        arrays = [rng.standard_normal(h_shape, dtype=np.float32),
                  0.02 * rng.standard_normal((n_out, h_shape[-1]), dtype=np.float32),
                  0.02 * rng.standard_normal(n_out, dtype=np.float32)]
        return (arrays, [True] * 3, lambda h, w, b: F.gelu_linear(h, w, b, approximate="tanh"),
                lambda h, w, b: F.gelu_linear_naive(h, w, b, approximate="tanh"),
                lambda h, w, b: TF.linear(TF.gelu(h, approximate="tanh"), w, b))
    return make


SMALL = [
    ("cross_entropy", "logits (768, 65): B=12 T=64 vocab 65", cross_entropy_case(768, 65), None),
    ("layer_norm", "x (12, 64, 128)", layer_norm_case((12, 64, 128)), None),
    ("batch_norm", "x (768, 128) = (B*T, C)", batch_norm_case((768, 128)), None),
    ("softmax", "scores (12, 4, 64, 64) over the last dim", softmax_case((12, 4, 64, 64)), None),
    ("attention", "causal, q k v (12, 4, 64, 32)", attention_case((12, 4, 64, 32)), None),
    ("gelu_linear", "h (12, 64, 512) -> 128: a GPT MLP's GELU + c_proj", gelu_linear_case((12, 64, 512), 128), None),
]
BIG = [
    ("cross_entropy", "logits (1024, 50257): B=1 T=1024 vocab 50257", cross_entropy_case(1024, 50257), None),
    ("cross_entropy", "logits (8192, 50257): B=8 T=1024 vocab 50257", cross_entropy_case(8192, 50257),
     "skipped: the naive twin keeps about 10 copies of the 1.6 GB logits; see the B=1 row"),
    ("layer_norm", "x (8, 1024, 768)", layer_norm_case((8, 1024, 768)), None),
    ("batch_norm", "x (8192, 768) = (B*T, C)", batch_norm_case((8192, 768)), None),
    ("softmax", "scores (8, 12, 1024, 1024) over the last dim", softmax_case((8, 12, 1024, 1024)), None),
    ("attention", "causal, q k v (8, 12, 1024, 64)", attention_case((8, 12, 1024, 64)), None),
    ("gelu_linear", "h (8, 1024, 3072) -> 768: GPT-2's GELU + c_proj", gelu_linear_case((8, 1024, 3072), 768), None),
]


# ---- measuring ----

class Runner:
    """One implementation on one case: leaves, an upstream gradient, and a forward+backward step
    (with `kernels` as tinytorch.backends.kernels while it runs)."""

    def __init__(self, lib, fn, arrays, needs_grad, kernels="numpy"):
        self.kernels = kernels
        wrap = torch.from_numpy if lib is torch else tinytorch.from_numpy
        self.leaves = [wrap(a) for a in arrays]
        for t, g in zip(self.leaves, needs_grad):
            t.requires_grad_(g)
        self.fn = fn
        tinytorch.backends.kernels = kernels
        out = fn(*self.leaves)
        tinytorch.backends.kernels = "numpy"
        upstream = np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(np.float32)
        self.upstream = wrap(upstream) if out.ndim else None
        del out

    def step(self):
        for t in self.leaves:
            t.grad = None
        tinytorch.backends.kernels = self.kernels
        try:
            out = self.fn(*self.leaves)
            if self.upstream is None:
                out.backward()
            else:
                out.backward(self.upstream)
        finally:
            tinytorch.backends.kernels = "numpy"

    def time(self, min_time):
        self.step()  # warm-up
        times = []
        start = time.perf_counter()
        while len(times) < 3 or (time.perf_counter() - start < min_time and len(times) < 200):
            t0 = time.perf_counter()
            self.step()
            times.append(time.perf_counter() - t0)
        return min(times), statistics.median(times), len(times)

    def memory(self, track_numpy):
        for t in self.leaves:
            t.grad = None
        reset_peak_rss()
        _, base = rss_kb()
        if track_numpy:
            tracemalloc.start()
        self.step()
        traced = tracemalloc.get_traced_memory()[1] if track_numpy else None
        if track_numpy:
            tracemalloc.stop()
        peak, _ = rss_kb()
        return (peak - base) / 1024, None if traced is None else traced / 2 ** 20


def run_case(op, label, make, naive_note, min_time):
    arrays, needs_grad, fused, naive, reference = make(np.random.default_rng(0))
    row = {"op": op, "shape": label}
    impls = [("fused", tinytorch, fused, "numpy"), ("naive", tinytorch, naive, "numpy"), ("torch", torch, reference, None)]
    if op in KERNEL_OPS:
        impls.insert(1, ("fused_numba", tinytorch, fused, "numba"))
    for name, lib, fn, kernels in impls:
        if name == "naive" and naive_note:
            row["naive_note"] = naive_note
            continue
        runner = Runner(lib, fn, arrays, needs_grad, kernels or "numpy")
        best, median, n = runner.time(min_time)
        rss, traced = runner.memory(lib is tinytorch)
        row[name] = {"ms": best * 1e3, "median_ms": median * 1e3, "repeats": n, "peak_rss_mb": rss,
                     "numpy_peak_mb": traced}
        del runner
        gc.collect()
        print(f"  {op:14s} {name:11s} {best * 1e3:10.3f} ms (median {median * 1e3:.3f}, n={n})  "
              f"peak RSS +{rss:.1f} MB" + ("" if traced is None else f", NumPy peak {traced:.1f} MB"), flush=True)
    if "naive" in row:
        row["naive_over_fused"] = row["naive"]["ms"] / row["fused"]["ms"]
    row["fused_over_torch"] = row["fused"]["ms"] / row["torch"]["ms"]
    return row


# ---- reporting ----

def _ms(row, name):
    return f"{row[name]['ms']:.3g}" if name in row else "—"


def _mb(row, name, key="peak_rss_mb"):
    if name not in row or row[name][key] is None:
        return "—"
    return f"{row[name][key]:.1f}"


def markdown(rows, info, command):
    lines = [f"Forward + backward, float32, {info['cpu']} ({info['cores']} cores, {info['threads']} thread(s) for "
             f"torch/BLAS; NumPy {info['numpy']}, torch {info['torch']}; load average at start "
             f"{info['load_average'][0]:.1f} on a shared machine). Time: min over repeats. Memory: rise of peak RSS "
             "(NumPy-tracked peak for tinytorch in brackets). Targets: naive/fused >= 2, fused/torch <= 1.5. "
             "The fused column uses the default kernels (the NumPy code); the last column is the same fused op "
             "with `tinytorch.backends.kernels = \"numba\"` (softmax, layer_norm, attention's softmax and "
             "gelu_linear's GELU).",
             "", f"Command: `{command}`", "",
             "| op | shape | fused ms | naive ms | torch ms | naive / fused | fused / torch | fused MB | naive MB "
             "| torch MB | fused, Numba kernels: ms, / torch |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        vs_naive = f"{r['naive_over_fused']:.2f}" if "naive_over_fused" in r else "—"
        vs_naive += "" if "naive_over_fused" not in r else (" ✓" if r["naive_over_fused"] >= TARGET_VS_NAIVE else " ✗")
        vs_torch = f"{r['fused_over_torch']:.2f}" + (" ✓" if r["fused_over_torch"] <= TARGET_VS_TORCH else " ✗")
        mem = [f"{_mb(r, n)} ({_mb(r, n, 'numpy_peak_mb')})" if n != "torch" else _mb(r, n)
               for n in ("fused", "naive", "torch")]
        numba = "—"
        if "fused_numba" in r:
            numba = f"{_ms(r, 'fused_numba')}, {r['fused_numba']['ms'] / r['torch']['ms']:.2f}"
        lines.append(f"| {r['op']} | {r['shape']} | {_ms(r, 'fused')} | {_ms(r, 'naive')} | {_ms(r, 'torch')} | "
                     f"{vs_naive} | {vs_torch} | " + " | ".join(mem) + f" | {numba} |")
    notes = [f"- {r['op']} {r['shape']}: naive {r['naive_note']}" for r in rows if "naive_note" in r]
    return "\n".join(lines + ([""] + notes if notes else [])) + "\n"


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    labels = [f"{r['op']}\n{r['shape'].split(':')[0][:24]}" for r in rows]
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(max(8, 1.3 * len(rows)), 5))
    for i, name in enumerate(("fused", "naive", "torch")):
        values = [r[name]["ms"] if name in r else np.nan for r in rows]
        ax.bar(x + (i - 1) * 0.27, values, 0.27, label=name if name != "torch" else "torch (CPU)")
    ax.set_yscale("log")
    ax.set_ylabel("forward + backward, ms (log)")
    ax.set_xticks(x, labels, fontsize=7)
    ax.legend()
    ax.set_title("tinytorch fused ops vs naive twins vs torch, float32")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(args):
    torch.set_num_threads(args.threads)
    info = machine_info(threads=args.threads, torch=torch.__version__, tinytorch=tinytorch.__version__,
                        kernels=tinytorch.backends.kernels, platform=platform.platform())
    command = "python benchmarks/bench_fused.py" + (" --quick" if args.quick else "") + \
        (f" --threads {args.threads}" if args.threads != 1 else "")
    print(f"{info['cpu']}, {info['cores']} cores, {args.threads} thread(s), load {info['load_average'][0]:.1f}")
    rows = [run_case(*case, args.min_time) for case in SMALL + ([] if args.quick else BIG)]
    info["load_average_end"] = list(os.getloadavg())
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "fused.json"), "w") as f:
        json.dump({"machine": info, "command": command, "rows": rows}, f, indent=1)
    with open(os.path.join(args.out, "fused.md"), "w") as f:
        f.write(markdown(rows, info, command))
    plot(rows, os.path.join(args.out, "fused.png"))
    print(markdown(rows, info, command))


if __name__ == "__main__":
    try:
        main(ARGS)
    except (MemoryError, OSError) as e:
        print(f"bench_fused: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
