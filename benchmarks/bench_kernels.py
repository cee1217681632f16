"""Benchmark the hand-written kernels against NumPy/OpenBLAS, PyTorch and (on a GPU) cuBLAS.

For each kernel, shape and implementation: validate the output against the NumPy oracle
(kernels.reference), then time it: a warm-up call, then rounds in which every
implementation of that kernel and shape runs once, so a load change on a shared machine
hits them alike; on the CPU the whole suite runs twice and each row keeps its min and
median over both passes. Throughput is GFLOP/s for matmul (2MNK flops) and
GB/s for softmax/layernorm/GELU (bytes each must read and write once), and a percentage of the
machine's measured limits: OpenBLAS SGEMM at 2048^3 and a large NumPy copy on the CPU;
cuBLAS SGEMM (TF32 off) at 4096^3 and a large device-to-device copy on the GPU.

    python benchmarks/bench_kernels.py                # CPU rows, and GPU rows when a GPU exists
    python benchmarks/bench_kernels.py --devices gpu  # GPU rows only -> results/kernels_gpu.*
    python benchmarks/bench_kernels.py --quick        # tiny shapes: a smoke test of this script
    python benchmarks/bench_kernels.py --kernels gelu_forward,gelu_backward   # only these kernels

Writes results/<name>.json, .md (tables) and .png (bar chart), with the machine's CPU/GPU
and library versions.
"""
import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("CUPY_TF32", "0")  # cuBLAS SGEMM in true float32, before CuPy is imported

import numpy as np  # noqa: E402
from machine_info import describe, machine_info  # noqa: E402  (benchmarks/machine_info.py)

from tinytorch.kernels import cpu, reference  # noqa: E402
from tinytorch.kernels.validate import check_outputs, make_args  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
ROW_KERNELS = ("softmax_forward", "softmax_backward", "layernorm_forward", "layernorm_backward",
               "gelu_forward", "gelu_backward")
FULL = {"matmul": [(1024, 1024, 1024)],
        "rows": [(r, c) for r in (768, 8192) for c in (65, 128, 768)] + [(768, 50257)],
        "gpu_matmul": [(4096, 4096, 4096)],
        "gpu_rows": [(8192, c) for c in (65, 128, 768, 50257)]}
QUICK = {"matmul": [(128, 96, 160)], "rows": [(64, 65), (32, 769)],
         "gpu_matmul": [(256, 256, 256)], "gpu_rows": [(256, 769)]}


# ---- timing --------------------------------------------------------------------------------

def wall_time(run):
    """Seconds one call of run() takes on the CPU."""
    t0 = time.perf_counter()
    run()
    return time.perf_counter() - t0


def gpu_timer(cupy):
    """Seconds of GPU time of run(), by CUDA events (llm.c's benchmark_kernel).

    A 1 GiB memset first evicts L2, and while the GPU works on it the host enqueues run()'s
    kernels, so Python launch overhead is not counted.
    """
    flush = cupy.empty(1 << 30, cupy.uint8)
    start, end = cupy.cuda.Event(), cupy.cuda.Event()

    def measure(run):
        flush.fill(0)
        start.record()
        run()
        end.record()
        end.synchronize()
        return cupy.cuda.get_elapsed_time(start, end) / 1e3
    return measure


def time_round_robin(runs, measure, min_rounds, budget_s):
    """{label: [seconds of each call]} of the callables in `runs` (after one warm-up call each).

    Each round calls every implementation once, in turn, so a load change on a shared machine
    hits them alike; rounds go on until min_rounds are done and budget_s has passed.
    """
    for run in runs.values():
        run()
    times = {label: [] for label in runs}
    start, rounds = time.perf_counter(), 0
    while rounds < min_rounds or (time.perf_counter() - start < budget_s and rounds < 10_000):
        for label, run in runs.items():
            times[label].append(measure(run))
        rounds += 1
    return times


def best_time(run, repeats, measure=wall_time):
    run()
    return min(measure(run) for _ in range(repeats))


# ---- work per call -------------------------------------------------------------------------

def work(name, shape, itemsize=4):
    """(amount, unit): flops for matmul, bytes read + written once for the row kernels."""
    if name == "matmul":
        M, K, N = shape
        return 2 * M * K * N, "GFLOP/s"
    R, C = shape
    elements = {"softmax_forward": 2 * R * C, "softmax_backward": 3 * R * C,
                "layernorm_forward": 2 * R * C + 2 * C + 2 * R,
                "layernorm_backward": 3 * R * C + 3 * C + 2 * R,
                "gelu_forward": 2 * R * C, "gelu_backward": 3 * R * C}[name]
    return elements * itemsize, "GB/s"


# ---- implementations -----------------------------------------------------------------------

def torch_implementation(name, args, device):
    """(run, outputs) for torch's own kernel on `device`: run is timed, outputs is validated."""
    import torch

    t = [torch.as_tensor(a, device=device) if isinstance(a, np.ndarray) else a for a in args]
    if name == "matmul":
        run = lambda: torch.matmul(t[0], t[1])  # noqa: E731
    elif name == "softmax_forward":
        run = lambda: torch.softmax(t[0], -1)  # noqa: E731
    elif name == "softmax_backward":
        run = lambda: torch._softmax_backward_data(t[0], t[1], -1, torch.float32)  # noqa: E731
    elif name == "layernorm_forward":
        run = lambda: torch.native_layer_norm(t[0], [t[0].shape[-1]], t[1], t[2], t[3])  # noqa: E731
    elif name == "gelu_forward":
        run = lambda: torch.nn.functional.gelu(t[0], approximate="tanh")  # noqa: E731
    elif name == "gelu_backward":
        run = lambda: torch.ops.aten.gelu_backward(t[0], t[1], approximate="tanh")  # noqa: E731
    else:
        dout, x, w, mean, rstd = t
        stats, bias = (mean.reshape(-1, 1), rstd.reshape(-1, 1)), torch.zeros_like(w)
        run = lambda: torch.ops.aten.native_layer_norm_backward(  # noqa: E731
            dout, x, [x.shape[-1]], *stats, w, bias, [True, True, True])

    def outputs():
        out = run()
        out = tuple(o.cpu().numpy() for o in out) if isinstance(out, tuple) else out.cpu().numpy()
        if name == "layernorm_forward":
            out = (out[0], out[1].reshape(-1), out[2].reshape(-1))
        return out
    return run, outputs


def cpu_implementations(name, args, with_torch):
    impls = {"numpy (oracle)": getattr(reference, name)}
    impls.update({f"numba {f.__name__.rsplit('_', 1)[-1]}": f for f in cpu.VERSIONS[name]})
    rows = {label: (lambda f=f: f(*args), lambda f=f: f(*args)) for label, f in impls.items()}
    if with_torch:
        rows["torch"] = torch_implementation(name, args, "cpu")
    return rows


def gpu_implementations(name, args, cupy, with_torch):
    from tinytorch.kernels import cuda

    dev = tuple(cupy.asarray(a) if isinstance(a, np.ndarray) else a for a in args)
    rows = {}
    for f in cuda.VERSIONS[name]:
        for block_size in block_sizes(f.__name__):
            run = lambda f=f, b=block_size: f(*dev, block_size=b)  # noqa: E731
            rows[f"numba-cuda {f.__name__.rsplit('_', 1)[-1]} b{block_size}"] = (run, run)
    oracle = lambda: getattr(reference, name)(*dev)  # noqa: E731
    rows["cublas (cupy)" if name == "matmul" else "cupy (oracle)"] = (oracle, oracle)
    if with_torch:
        rows["torch cuda"] = torch_implementation(name, args, "cuda")
    return rows


def block_sizes(kernel_name):
    from tinytorch.kernels.cuda.matmul import REGISTER_TILINGS

    return {"matmul_v2": (64, 256, 1024), "matmul_v3": tuple(REGISTER_TILINGS),
            "layernorm_backward_v2": (32, 64, 128, 256, 512)}.get(kernel_name, (32, 64, 128, 256, 512, 1024))


# ---- machine limits and info ---------------------------------------------------------------

def cpu_limits(quick):
    n = 512 if quick else 2048
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    gemm = 2 * n**3 / best_time(lambda: a @ a, 3 if quick else 5) / 1e9
    src = np.ones((16 if quick else 256) << 18, np.float32)  # 16 or 256 MiB
    dst = np.empty_like(src)
    copy = 2 * src.nbytes / best_time(lambda: np.copyto(dst, src), 5) / 1e9
    return {"GFLOP/s": gemm, "GB/s": copy,
            "how": f"OpenBLAS SGEMM {n}^3 (best of 5); NumPy copy of {src.nbytes >> 20} MiB, read + write"}


def gpu_limits(cupy, measure, quick):
    n = 1024 if quick else 4096
    a = cupy.random.standard_normal((n, n), dtype=cupy.float32)
    gemm = 2 * n**3 / best_time(lambda: a @ a, 10, measure) / 1e9
    src = cupy.ones((64 if quick else 1024) << 18, cupy.float32)
    dst = cupy.empty_like(src)
    copy = 2 * src.nbytes / best_time(lambda: cupy.copyto(dst, src), 10, measure) / 1e9
    return {"GFLOP/s": gemm, "GB/s": copy,
            "how": f"cuBLAS SGEMM {n}^3, TF32 off (best of 10); device-to-device copy of "
                   f"{src.nbytes >> 20} MiB, read + write"}


def kernel_machine_info(cupy):
    import llvmlite
    import numba

    extra = {"numba": numba.__version__, "numba_threads": numba.get_num_threads(), "llvmlite": llvmlite.__version__,
             "blas": _blas(), "numba_cpu_features": "host, -prefer-256-bit" if numba.config.CPU_FEATURES else "host"}
    try:
        import torch
        extra.update(torch=torch.__version__, torch_threads=torch.get_num_threads())
    except ImportError:
        pass
    if cupy is not None:
        props = cupy.cuda.runtime.getDeviceProperties(0)
        extra.update(gpu=props["name"].decode(), cupy=cupy.__version__,
                     cuda_runtime=cupy.cuda.runtime.runtimeGetVersion())
    return machine_info(**extra)


def _blas():
    blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()


def find_gpu():
    """CuPy when it is installed and sees a CUDA device, else None."""
    try:
        import cupy
        cupy.cuda.runtime.getDeviceCount()
        return cupy
    except Exception:  # no CuPy, no driver or no device
        return None


def has_torch(cuda=False):
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available() if cuda else True


# ---- the benchmark -------------------------------------------------------------------------

def run_device(device, cases, measure_limits, timing, passes, measure=wall_time):
    """Validate, then time every case: (kernel name, shape, implementations(args) -> {label: (run, outputs)}).

    Each pass re-measures the machine limits (keeping the best) and times every case; a row
    keeps the min and median over all passes, so a burst of load from other jobs on a shared
    machine must hit the same row in every pass to skew its min.
    """
    limits, times, errors = None, {}, {}
    for p in range(passes):
        measured = measure_limits()
        limits = measured if limits is None else {k: max(v, measured[k]) if k != "how" else v for k, v in limits.items()}
        print(f"pass {p + 1}/{passes}: {device} limits {measured['GFLOP/s']:.1f} GFLOP/s, {measured['GB/s']:.1f} GB/s",
              flush=True)
        for name, shape, implementations in cases:
            args = make_args(name, shape, np.random.default_rng(0))
            impls = implementations(args)
            if p == 0:
                errors[name, shape] = {label: check_outputs(name, outputs(), args) for label, (_, outputs) in impls.items()}
            for label, ts in time_round_robin({label: run for label, (run, _) in impls.items()}, measure, **timing).items():
                times.setdefault((name, shape, label), []).extend(ts)
            print(f"  {name} {'x'.join(map(str, shape))}: " + ", ".join(
                f"{label} {min(times[name, shape, label]) * 1e3:.3f} ms" for label in impls), flush=True)
    rows = []
    for (name, shape, label), ts in times.items():
        amount, unit = work(name, shape)
        rate = amount / min(ts) / 1e9
        rows.append({"device": device, "kernel": name, "shape": list(shape), "implementation": label,
                     "ms_min": min(ts) * 1e3, "ms_median": statistics.median(ts) * 1e3, "calls": len(ts),
                     "rate": rate, "unit": unit, "percent_of_limit": 100 * rate / limits[unit],
                     "max_abs_error": errors[name, shape][label]})
    return limits, rows


def run_cpu(shapes, quick, names):
    with_torch = has_torch()
    cases = [(name, shape, lambda args, n=name: cpu_implementations(n, args, with_torch))
             for name in names for shape in shapes["matmul" if name == "matmul" else "rows"]]
    return run_device("cpu", cases, lambda: cpu_limits(quick), {"min_rounds": 3, "budget_s": 0.2 if quick else 1.0},
                      passes=1 if quick else 2)


def run_gpu(cupy, shapes, quick, names):
    measure = gpu_timer(cupy)
    with_torch = has_torch(cuda=True)
    cases = [(name, shape, lambda args, n=name: gpu_implementations(n, args, cupy, with_torch))
             for name in names for shape in shapes["gpu_matmul" if name == "matmul" else "gpu_rows"]]
    return run_device("gpu", cases, lambda: gpu_limits(cupy, measure, quick),
                      {"min_rounds": 3, "budget_s": 0.2 if quick else 0.5}, passes=1, measure=measure)


# ---- reports -------------------------------------------------------------------------------

def cpu_targets(rows):
    """The issue's CPU targets, from the rows of one run (None where a row is missing)."""
    def ms(name, shape, label):
        hits = [r["ms_min"] for r in rows if r["kernel"] == name and tuple(r["shape"]) == shape
                and r["implementation"] == label and r["device"] == "cpu"]
        return hits[0] if hits else None

    targets = []
    for shape in sorted({tuple(r["shape"]) for r in rows if r["kernel"] in ROW_KERNELS}):
        for op, (fwd, bwd) in {"softmax": ("softmax_forward", "softmax_backward"),
                               "layernorm": ("layernorm_forward", "layernorm_backward"),
                               "gelu": ("gelu_forward", "gelu_backward")}.items():
            numba_label = (_numba_label(fwd), _numba_label(bwd))
            total = {label: _sum(ms(fwd, shape, fl), ms(bwd, shape, bl))
                     for label, (fl, bl) in {"numba": numba_label, "numpy": ("numpy (oracle)",) * 2,
                                             "torch": ("torch",) * 2}.items()}
            if None in total.values():
                continue
            vs_numpy, vs_torch = total["numpy"] / total["numba"], total["torch"] / total["numba"]
            targets.append({"target": f"{op} fwd+bwd {shape[0]}x{shape[1]}",
                            "numba_ms": total["numba"], "numpy_ms": total["numpy"], "torch_ms": total["torch"],
                            "speedup_vs_numpy": vs_numpy, "speedup_vs_torch": vs_torch,
                            "met": vs_numpy >= 2 and vs_torch >= 1})
    for shape in {tuple(r["shape"]) for r in rows if r["kernel"] == "matmul" and r["device"] == "cpu"}:
        v3, blas = ms("matmul", shape, _numba_label("matmul")), ms("matmul", shape, "numpy (oracle)")
        targets.append({"target": f"matmul v3 {'x'.join(map(str, shape))} vs OpenBLAS",
                        "numba_ms": v3, "numpy_ms": blas, "torch_ms": ms("matmul", shape, "torch"),
                        "speedup_vs_numpy": blas / v3, "speedup_vs_torch": None, "met": blas / v3 >= 0.5})
    return targets


def _numba_label(name):
    """The row label of the version that kernels.cpu.<name> is."""
    return "numba " + getattr(cpu, name).__name__.rsplit("_", 1)[-1]


def _sum(a, b):
    return None if a is None or b is None else a + b


def markdown(info, limits, rows, targets, command):
    lines = ["# Kernel benchmark", "", f"Command: `{command}`", ""]
    lines += [describe(info), ""]
    for device, lim in limits.items():
        lines.append(f"Measured {device} limits: {lim['GFLOP/s']:.1f} GFLOP/s, {lim['GB/s']:.1f} GB/s ({lim['how']}).")
    lines += ["", "| device | kernel | shape | implementation | ms (min) | ms (median) | calls | throughput "
                  "| % of limit | max abs err |", "|---|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['device']} | {r['kernel']} | {'x'.join(map(str, r['shape']))} | {r['implementation']} "
                     f"| {r['ms_min']:.3f} | {r['ms_median']:.3f} | {r['calls']} | {r['rate']:.1f} {r['unit']} "
                     f"| {r['percent_of_limit']:.1f} | {r['max_abs_error']:.1e} |")
    if targets:
        lines += ["", "## CPU targets", "",
                  "Softmax/layernorm/GELU: fused Numba forward + backward at least 2x faster than the NumPy oracle "
                  "and no slower than torch (speedup vs torch >= 1). Matmul: v3 at least 50% of OpenBLAS.", "",
                  "| target | numba ms | numpy ms | torch ms | speedup vs numpy | speedup vs torch | met |",
                  "|---|---:|---:|---:|---:|---:|---|"]
        for t in targets:
            vs_torch = "" if t["speedup_vs_torch"] is None else f"{t['speedup_vs_torch']:.2f}"
            torch_ms = "" if t["torch_ms"] is None else f"{t['torch_ms']:.3f}"
            lines.append(f"| {t['target']} | {t['numba_ms']:.3f} | {t['numpy_ms']:.3f} | {torch_ms} "
                         f"| {t['speedup_vs_numpy']:.2f} | {vs_torch} | {'yes' if t['met'] else 'NO'} |")
    return "\n".join(lines) + "\n"


def plot(rows, limits, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(d, k) for d in ("cpu", "gpu") for k in ("matmul",) + ROW_KERNELS
              if any(r["device"] == d and r["kernel"] == k for r in rows)]
    fig, axes = plt.subplots(len(panels), 1, figsize=(12, 3.2 * len(panels)), squeeze=False)
    for ax, (device, kernel) in zip(axes[:, 0], panels):
        sel = [r for r in rows if r["device"] == device and r["kernel"] == kernel]
        shapes = list(dict.fromkeys("x".join(map(str, r["shape"])) for r in sel))
        labels = list(dict.fromkeys(r["implementation"] for r in sel))
        width = 0.8 / len(labels)
        for i, label in enumerate(labels):
            values = [next((r["percent_of_limit"] for r in sel if r["implementation"] == label
                            and "x".join(map(str, r["shape"])) == s), 0) for s in shapes]
            ax.bar([j + i * width for j in range(len(shapes))], values, width, label=label)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(shapes))], shapes)
        ax.set_yscale("log")
        ax.set_title(f"{device} {kernel}")
        ax.set_ylabel(f"% of {device} {'FLOP' if kernel == 'matmul' else 'copy bandwidth'} limit")
        ax.legend(fontsize=7, ncol=4)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", default="cpu,gpu", help="comma-separated: cpu, gpu (gpu rows need CuPy and a GPU)")
    parser.add_argument("--quick", action="store_true", help="tiny shapes and short timings (smoke test)")
    parser.add_argument("--name", help="output file stem in benchmarks/results (default kernels, or kernels_gpu)")
    parser.add_argument("--kernels", default=",".join(("matmul",) + ROW_KERNELS),
                        help="comma-separated kernel names to run (default: all)")
    args = parser.parse_args(argv)
    names = tuple(args.kernels.split(","))
    if set(names) - set(("matmul",) + ROW_KERNELS):
        parser.exit(2, f"bench_kernels: --kernels takes names from {('matmul',) + ROW_KERNELS}, got {args.kernels!r}\n")
    devices = set(args.devices.split(","))
    if not devices or devices - {"cpu", "gpu"}:
        parser.exit(2, f"bench_kernels: --devices takes cpu and/or gpu, got {args.devices!r}\n")
    shapes = QUICK if args.quick else FULL
    cupy = find_gpu() if "gpu" in devices else None
    if devices == {"gpu"} and cupy is None:
        parser.exit(2, "bench_kernels: --devices gpu needs CuPy and a CUDA GPU, and none was found\n")
    limits, rows = {}, []
    if "cpu" in devices:
        limits["cpu"], cpu_rows = run_cpu(shapes, args.quick, names)
        rows += cpu_rows
    if cupy is not None:
        limits["gpu"], gpu_rows = run_gpu(cupy, shapes, args.quick, names)
        rows += gpu_rows
    info = kernel_machine_info(cupy)  # after the run: it records the load average
    targets = cpu_targets(rows)
    name = args.name or ("kernels" if "cpu" in devices else "kernels_gpu")
    command = "python benchmarks/bench_kernels.py " + " ".join(sys.argv[1:] if argv is None else argv)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(
        {"command": command.strip(), "machine": info, "limits": limits, "rows": rows, "targets": targets}, indent=1))
    (RESULTS / f"{name}.md").write_text(markdown(info, limits, rows, targets, command.strip()))
    plot(rows, limits, RESULTS / f"{name}.png", f"{info['cpu']} ({info['cores']} cores)"
         + (f" / {info['gpu']}" if "gpu" in info else ""))
    print(f"wrote {RESULTS / name}.json, .md, .png")


if __name__ == "__main__":
    main()
