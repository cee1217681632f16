"""Fused ops vs their naive twins vs torch (CPU): forward + backward time and peak memory.

    python benchmarks/bench_fused.py               # every case (several minutes, ~8 GB of RAM)
    python benchmarks/bench_fused.py --quick       # the small GPT shapes only (seconds)
    python benchmarks/bench_fused.py --threads 2   # let torch / BLAS use 2 threads

For each op and shape, each implementation runs forward and then backward with a fixed random
upstream gradient, in float32. The implementations of a case take turns (harness.interleave),
so a load change on the shared machine hits them alike. Time: the minimum over rounds after one
warm-up (the least noisy statistic on a shared machine; the median is recorded too); the ratios
are the median over rounds of the ratio within a round, with their interquartile spread. Memory:
the rise of the process's peak resident set (VmHWM, reset through /proc/self/clear_refs) during
one forward + backward, for all three; plus, for tinytorch, tracemalloc's peak of NumPy
allocations. Targets: fused at least 2x faster than naive, and at most 1.5x slower than torch.
The fused column runs the NumPy kernels (`with tinytorch.backends.using(kernels="numpy")`, the
reference path); softmax, layer_norm, attention (its softmax) and gelu_linear (its GELU) also run
with the Numba kernels, tinytorch's default.
Writes OUT/fused.{json,md,png} (--update-results: benchmarks/results/).
"""
import harness


def parse_args():
    parser = harness.cli(__doc__, threads=1)
    parser.add_argument("--quick", action="store_true", help="only the small shapes (B=12, T=64, C=128)")
    parser.add_argument("--min-time", type=float, default=1.0, help="seconds of rounds per implementation")
    return harness.start(parser)


ARGS = parse_args() if __name__ == "__main__" else None  # before NumPy and torch load their thread pools

import gc  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

import tinytorch  # noqa: E402
import tinytorch.nn.functional as F  # noqa: E402

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

def forward_backward(lib, fn, arrays, needs_grad, upstream):
    """A step of one implementation: fn forward on leaves of `lib` (sharing `arrays`' memory), then
    backward from `upstream` (None for a scalar output); the gradients are dropped at the end."""
    wrap = torch.from_numpy if lib is torch else tinytorch.from_numpy
    leaves = [wrap(a) for a in arrays]
    for t, g in zip(leaves, needs_grad):
        t.requires_grad_(g)
    gradient = None if upstream is None else wrap(upstream)

    def step(_):
        out = fn(*leaves)
        if gradient is None:
            out.backward()
        else:
            out.backward(gradient)
        for t in leaves:
            t.grad = None
    return step


def run_case(op, label, make, naive_note, min_time):
    arrays, needs_grad, fused, naive, reference = make(np.random.default_rng(0))
    shape = tuple(fused(*[tinytorch.from_numpy(a) for a in arrays]).shape)
    upstream = np.random.default_rng(1).standard_normal(shape).astype(np.float32) if shape else None
    impls = [("fused", tinytorch, fused, {"kernels": "numpy"}), ("fused_numba", tinytorch, fused, {"kernels": "numba"}),
             ("naive", tinytorch, naive, {"kernels": "numpy"}), ("torch", torch, reference, None)]
    runners = [harness.Runner(name, forward_backward(lib, fn, arrays, needs_grad, upstream), backend)
               for name, lib, fn, backend in impls
               if not (name == "fused_numba" and op not in KERNEL_OPS) and not (name == "naive" and naive_note)]
    harness.interleave(runners, rounds=3, budget_s=min_time * len(runners), max_rounds=200)
    row = {"op": op, "shape": label}
    for r in runners:
        rss, traced = r.peak_memory_mb(0, trace=r.name != "torch")
        ms = harness.spread([t * 1e3 for t in r.times])
        row[r.name] = {"ms": ms["min"], "median_ms": ms["median"], "repeats": ms["n"], "peak_rss_mb": rss,
                       "numpy_peak_mb": traced}
        print(f"  {op:14s} {r.name:11s} {ms['min']:10.3f} ms (median {ms['median']:.3f}, n={ms['n']})  "
              f"peak RSS +{rss:.1f} MB" + ("" if traced is None else f", NumPy peak {traced:.1f} MB"), flush=True)
    by_name = {r.name: r for r in runners}
    if naive_note:
        row["naive_note"] = naive_note
    else:
        row["naive_over_fused"] = harness.ratios(by_name["naive"], by_name["fused"])
    row["fused_over_torch"] = harness.ratios(by_name["fused"], by_name["torch"])
    if "fused_numba" in by_name:
        row["fused_numba_over_torch"] = harness.ratios(by_name["fused_numba"], by_name["torch"])
    del runners, by_name
    gc.collect()
    return row


# ---- reporting ----

def against_target(key, met):
    """A ratio cell: median (interquartile spread) and whether the median meets its target."""
    def cell(row):
        if key not in row:
            return "—"
        return f"{harness.with_spread(row[key])} {'✓' if met(row[key]['median']) else '✗'}"
    return cell


COLUMNS = [("op", "{op}"), ("shape", "{shape}"), ("fused ms", "{fused[ms]:.3g}"), ("naive ms", "{naive[ms]:.3g}"),
           ("torch ms", "{torch[ms]:.3g}"),
           ("naive / fused", against_target("naive_over_fused", lambda x: x >= TARGET_VS_NAIVE)),
           ("fused / torch", against_target("fused_over_torch", lambda x: x <= TARGET_VS_TORCH)),
           ("fused MB", "{fused[peak_rss_mb]:.1f} ({fused[numpy_peak_mb]:.1f})"),
           ("naive MB", "{naive[peak_rss_mb]:.1f} ({naive[numpy_peak_mb]:.1f})"),
           ("torch MB", "{torch[peak_rss_mb]:.1f}"),
           ("fused, Numba kernels: ms, / torch", "{fused_numba[ms]:.3g}, {fused_numba_over_torch[median]:.2f}")]

HOW = ("Forward + backward, float32. Time: min over interleaved rounds (the implementations of a case take turns); "
       "ratios: median over rounds of the ratio within a round (interquartile spread in brackets). Memory: rise of "
       "peak RSS (NumPy-tracked peak for tinytorch in brackets). Targets: naive/fused >= 2, fused/torch <= 1.5. "
       "The fused column uses the NumPy kernels (`backends.using(kernels=\"numpy\")`); the last column is the same "
       "fused op with the Numba kernels, tinytorch's default (softmax, layer_norm, attention's softmax and "
       "gelu_linear's GELU).")


def main(args):
    torch.set_num_threads(args.threads)
    tinytorch.set_num_threads(args.threads)
    results = harness.Results("fused", args, "Fused ops vs their naive twins vs torch (CPU)", threads=args.threads,
                              torch=torch.__version__, tinytorch=tinytorch.__version__,
                              kernels=tinytorch.backends.kernels, platform=platform.platform())
    print(f"{results.machine['cpu']}, {results.machine['cores']} cores, {args.threads} thread(s), "
          f"load {results.machine['load_average'][0]:.1f}", flush=True)
    results.text(HOW).table("rows", COLUMNS, labels=2)
    for case in SMALL + ([] if args.quick else BIG):
        results.row(**run_case(*case, args.min_time))
    rows = results.rows("rows")
    notes = [f"- {r['op']} {r['shape']}: naive {r['naive_note']}" for r in rows if "naive_note" in r]
    if notes:
        results.text("\n".join(notes))
    series = {label: [r[name]["ms"] if name in r else None for r in rows]
              for name, label in (("fused", "fused"), ("naive", "naive"), ("torch", "torch (CPU)"))}
    results.plot(harness.bars([f"{r['op']}\n{r['shape'].split(':')[0][:24]}" for r in rows], series,
                              "forward + backward, ms (log)", log=True),
                 title="tinytorch fused ops vs naive twins vs torch, float32", width=max(8, 1.3 * len(rows)))
    results.write()


if __name__ == "__main__":
    try:
        main(ARGS)
    except (MemoryError, OSError) as e:
        print(f"bench_fused: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
