"""Forward+backward time per op: tinytorch vs the same math in raw NumPy vs torch (CPU), float32.

Every step runs one op forward and backpropagates a fixed upstream gradient `g` into
persistent gradient buffers (`.grad` already exists, so each backward adds into it, as with
gradient accumulation). The NumPy baseline does the same math by hand: the forward, then each
input's gradient computed as a full array (as a Function's backward returns it) and added into
its buffer, the forward's output staying alive until the step returns it (as a framework's
output does: the caller holds it). The framework's overhead per op is then (tinytorch - NumPy) in microseconds, and
torch's eager overhead is (torch - NumPy).

Targets (issue 2): at 8x8, tinytorch's overhead <= torch's; at 1024x1024, tinytorch within 10% of
NumPy. Timing: each repeat runs the step enough times to take >= `--min-time` seconds, the three
libraries taking turns; the best of `--repeats` repeats is reported (per step), as tinygrad's
speed tests do. The clock is the process's CPU time: on one thread it equals wall time, but it
does not count the moments a busy shared machine gives the core to someone else. Every library runs
on one thread (BLAS and torch alike; set BENCH_THREADS to change it), which keeps a shared
machine's noise out and compares the libraries' own code rather than their thread pools.

    python benchmarks/bench_ops.py [--sizes 8 1024] [--ops add mul ...] [--repeats 5]

Writes benchmarks/results/ops.json, ops.md and ops.png.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

THREADS = os.environ.setdefault("BENCH_THREADS", "1")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = THREADS  # before NumPy and torch load their thread pools

import numpy as np  # noqa: E402

import tinytorch  # noqa: E402
from machine_info import describe, machine_info  # noqa: E402  (benchmarks/ is sys.path[0] when run as a script)

RESULTS = Path(__file__).resolve().parent / "results"


# ---- the ops: (inputs, tensor code written once for torch and tinytorch, NumPy by hand) --------
def two_matrices(n, rng):
    return [rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n), dtype=np.float32)]


def one_matrix(n, rng):
    return [rng.standard_normal((n, n), dtype=np.float32)]


def np_add(a, b, g, ga, gb):
    y = a + b
    ga += g
    gb += g
    return y


def np_mul(a, b, g, ga, gb):
    y = a * b
    ga += g * b
    gb += g * a
    return y


def np_matmul(a, b, g, ga, gb):
    y = a @ b
    ga += g @ b.T
    gb += a.T @ g
    return y


def np_sum(a, g, ga):
    y = a.sum()
    ga += np.broadcast_to(g, a.shape)
    return y


def np_tanh(a, g, ga):
    y = np.tanh(a)
    ga += g * (1 - y * y)
    return y


def np_exp(a, g, ga):
    y = np.exp(a)
    ga += g * y
    return y


def np_getitem(a, g, ga):
    y = a[1::2]
    da = np.zeros_like(a)
    da[1::2] = g
    ga += da
    return y


def np_transpose(a, g, ga):
    y = a.T
    ga += g.T
    return y


def np_reshape(a, g, ga):
    y = a.reshape(-1)
    ga += g.reshape(a.shape)
    return y


def np_softmax(a, g, ga):
    """softmax as the composite exp(a - max) / sum, backpropagated through each primitive."""
    idx = a.argmax(axis=-1)[:, None]
    m = np.take_along_axis(a, idx, axis=-1)
    d = a - m
    e = np.exp(d)
    s = e.sum(axis=-1, keepdims=True)
    y = e / s
    ge = g / s
    gs = (-g * y / s).sum(axis=-1, keepdims=True)
    gd = (ge + gs) * e
    ga += gd
    gm = np.zeros_like(a)
    np.put_along_axis(gm, idx, -gd.sum(axis=-1, keepdims=True), axis=-1)
    ga += gm
    return y


def softmax_composite(m, a):
    e = (a - a.max(-1, keepdim=True).values).exp()
    return e / e.sum(-1, keepdim=True)


OPS = {
    "add": (two_matrices, lambda m, a, b: a + b, np_add),
    "mul": (two_matrices, lambda m, a, b: a * b, np_mul),
    "matmul": (two_matrices, lambda m, a, b: a @ b, np_matmul),
    "sum": (one_matrix, lambda m, a: a.sum(), np_sum),
    "tanh": (one_matrix, lambda m, a: a.tanh(), np_tanh),
    "exp": (one_matrix, lambda m, a: a.exp(), np_exp),
    "getitem": (one_matrix, lambda m, a: a[1::2], np_getitem),
    "transpose": (one_matrix, lambda m, a: a.T, np_transpose),
    "reshape": (one_matrix, lambda m, a: a.reshape(-1), np_reshape),
    "softmax_composite": (one_matrix, softmax_composite, np_softmax),
}


# ---- timing ------------------------------------------------------------------------------------
def calibrate(step, min_time):
    """How many calls of step() last at least min_time seconds."""
    step()
    loops = 1
    while True:
        start = time.process_time()
        for _ in range(loops):
            step()
        elapsed = time.process_time() - start
        if elapsed >= min_time:
            return loops
        loops = max(loops * 2, int(loops * min_time / max(elapsed, 1e-9) * 1.2))


def best_times(steps, min_time, repeats):
    """Seconds per call of each step: the best of `repeats` rounds, the libraries taking turns
    within each round so that a busy moment on the machine hits all of them alike."""
    loops = {lib: calibrate(step, min_time) for lib, step in steps.items()}
    best = {lib: float("inf") for lib in steps}
    for _ in range(repeats):
        for lib, step in steps.items():
            start = time.process_time()
            for _ in range(loops[lib]):
                step()
            best[lib] = min(best[lib], (time.process_time() - start) / loops[lib])
    return best


def framework_step(m, fn, arrays, g):
    """A step of torch or tinytorch: leaves with existing .grad, forward, backward(g)."""
    leaves = [m.tensor(a, requires_grad=True) for a in arrays]
    upstream = m.tensor(g)

    def step():
        fn(m, *leaves).backward(upstream)
    step()  # creates the .grad buffers that later steps accumulate into
    return step


def numpy_step(np_fn, arrays, g):
    grads = [np.zeros_like(a) for a in arrays]
    return lambda: np_fn(*arrays, g, *grads)


def measure(name, n, libraries, min_time, repeats):
    make_inputs, fn, np_fn = OPS[name]
    arrays = make_inputs(n, np.random.default_rng(0))
    out_shape = tuple(fn(tinytorch, *[tinytorch.tensor(a) for a in arrays]).shape)
    g = np.random.default_rng(1).standard_normal(out_shape).astype(np.float32)
    row = {"op": name, "size": f"{n}x{n}"}
    steps = {lib: numpy_step(np_fn, arrays, g) if lib == "numpy" else framework_step(m, fn, arrays, g)
             for lib, m in libraries.items()}
    for lib, seconds in best_times(steps, min_time, repeats).items():
        row[f"{lib}_us"] = seconds * 1e6
    row["tinytorch_overhead_us"] = row["tinytorch_us"] - row["numpy_us"]
    row["tinytorch_vs_numpy"] = row["tinytorch_us"] / row["numpy_us"]
    if "torch_us" in row:
        row["torch_overhead_us"] = row["torch_us"] - row["numpy_us"]
    return row


# ---- reporting ---------------------------------------------------------------------------------
def markdown(rows, info, command):
    lines = [f"Forward+backward per op, float32, best of repeats, every library on {THREADS} thread; `{command}`", "",
             "| op | size | NumPy µs | tinytorch µs | torch µs | tinytorch overhead µs | torch overhead µs "
             "| tinytorch / NumPy |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['op']} | {r['size']} | {r['numpy_us']:.1f} | {r['tinytorch_us']:.1f} | "
                     f"{r.get('torch_us', float('nan')):.1f} | {r['tinytorch_overhead_us']:.1f} | "
                     f"{r.get('torch_overhead_us', float('nan')):.1f} | {r['tinytorch_vs_numpy']:.2f} |")
    return "\n".join(lines + ["", describe(info)]) + "\n"


def plot(rows, path):
    """Small size: overhead per op in µs (the target: tinytorch's bar below torch's). Larger
    sizes: time relative to NumPy (the target: tinytorch below the dashed 1.10 line)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sizes = sorted({r["size"] for r in rows}, key=lambda s: int(s.split("x")[0]))
    fig, axes = plt.subplots(1, len(sizes), figsize=(6 * len(sizes), 4), squeeze=False)
    for k, (ax, size) in enumerate(zip(axes[0], sizes)):
        sub = [r for r in rows if r["size"] == size]
        x = np.arange(len(sub))
        if k == 0:
            ours = [r["tinytorch_overhead_us"] for r in sub]
            theirs = [r.get("torch_overhead_us", np.nan) for r in sub]
            ax.set_ylabel("overhead per op over NumPy (µs)")
            ax.set_title(f"forward+backward overhead, {size}")
        else:
            ours = [r["tinytorch_vs_numpy"] for r in sub]
            theirs = [r.get("torch_us", np.nan) / r["numpy_us"] for r in sub]
            ax.axhline(1.10, color="gray", linestyle="--", linewidth=1, label="NumPy + 10%")
            ax.set_ylabel("time / NumPy's")
            ax.set_title(f"forward+backward time relative to NumPy, {size}")
        ax.bar(x - 0.2, ours, 0.4, label="tinytorch")
        ax.bar(x + 0.2, theirs, 0.4, label="torch")
        ax.set_xticks(x, [r["op"] for r in sub], rotation=45, ha="right")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 1024])
    parser.add_argument("--ops", nargs="+", default=list(OPS), choices=list(OPS))
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--min-time", type=float, default=0.1, help="seconds per repeat and library")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
    libraries = {"numpy": np, "tinytorch": tinytorch}
    if torch is not None and not args.no_torch:
        torch.set_num_threads(int(THREADS))
        libraries["torch"] = torch
    rows = []
    for n in args.sizes:
        for name in args.ops:
            rows.append(measure(name, n, libraries, args.min_time, args.repeats))
            r = rows[-1]
            print(f"{name:18s} {r['size']:>10s}  numpy {r['numpy_us']:10.1f} µs  tinytorch {r['tinytorch_us']:10.1f} µs"
                  f"  torch {r.get('torch_us', float('nan')):10.1f} µs", flush=True)
    info = machine_info(tinytorch=tinytorch.__version__, threads=int(THREADS),
                        **({"torch": torch.__version__} if torch is not None else {}))
    command = "python benchmarks/bench_ops.py " + " ".join(sys.argv[1:])
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ops.json").write_text(json.dumps({"machine": info, "command": command, "rows": rows}, indent=2))
    (args.out / "ops.md").write_text(markdown(rows, info, command.strip()))
    plot(rows, args.out / "ops.png")
    print(markdown(rows, info, command.strip()))


if __name__ == "__main__":
    main()
