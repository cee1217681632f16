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
    python benchmarks/bench_kernels.py --devices gpu  # GPU rows only -> OUT/kernels_gpu.*
    python benchmarks/bench_kernels.py --quick        # tiny shapes: a smoke test of this script
    python benchmarks/bench_kernels.py --kernels gelu_forward,gelu_backward   # only these kernels
    python benchmarks/bench_kernels.py --devices gpu --kernels attention_forward,attention_backward

The fused (flash) attention kernels are GPU-only: their rows time the Numba-CUDA versions against
CuPy's batched matmul + softmax (kernels/numpy/attention.py on CuPy arrays), causal, at
B=8, H=12, T=1024, D=64, in GFLOP/s of the causal half of the products (forward: q k^T and P v;
backward: 5 products, S recomputed).

Writes OUT/<name>.json, .md (tables) and .png (bar chart), with the machine's CPU/GPU and
library versions (--update-results: benchmarks/results/).
"""
import os

import harness

os.environ.setdefault("CUPY_TF32", "0")  # cuBLAS SGEMM in true float32, before CuPy is imported

import numpy as np  # noqa: E402

from tinytorch.kernels import cpu, reference  # noqa: E402
from tinytorch.kernels.numpy import attention as numpy_attention  # noqa: E402
from tinytorch.kernels.validate import check_outputs, make_args  # noqa: E402

ROW_KERNELS = ("softmax_forward", "softmax_backward", "layernorm_forward", "layernorm_backward",
               "gelu_forward", "gelu_backward")
ATTENTION_KERNELS = ("attention_forward", "attention_backward")  # GPU only; shapes (B, H, T, D), causal
FULL = {"matmul": [(1024, 1024, 1024)],
        "rows": [(r, c) for r in (768, 8192) for c in (65, 128, 768)] + [(768, 50257)],
        "gpu_matmul": [(4096, 4096, 4096)],
        "gpu_rows": [(8192, c) for c in (65, 128, 768, 50257)],
        "gpu_attention": [(8, 12, 1024, 64)]}
QUICK = {"matmul": [(128, 96, 160)], "rows": [(64, 65), (32, 769)],
         "gpu_matmul": [(256, 256, 256)], "gpu_rows": [(256, 769)], "gpu_attention": [(2, 2, 129, 64)]}


# ---- timing --------------------------------------------------------------------------------

def gpu_clock(cupy):
    """A harness clock: (seconds of GPU time, result) of run(), by CUDA events (llm.c's benchmark_kernel).

    A 1 GiB memset first evicts L2, and while the GPU works on it the host enqueues run()'s
    kernels, so Python launch overhead is not counted.
    """
    flush = cupy.empty(1 << 30, cupy.uint8)
    start, end = cupy.cuda.Event(), cupy.cuda.Event()

    def clock(run):
        flush.fill(0)
        start.record()
        result = run()
        end.record()
        end.synchronize()
        return cupy.cuda.get_elapsed_time(start, end) / 1e3, result
    return clock


# ---- work per call -------------------------------------------------------------------------

def work(name, shape, itemsize=4):
    """(amount, unit): flops for matmul, bytes read + written once for the row kernels."""
    if name == "matmul":
        M, K, N = shape
        return 2 * M * K * N, "GFLOP/s"
    if name in ATTENTION_KERNELS:
        B, H, T, D = shape
        products = 2 if name == "attention_forward" else 5
        return products * 2 * B * H * D * T * (T + 1) // 2, "GFLOP/s"  # causal: the T (T + 1) / 2 visible pairs
    R, C = shape
    elements = {"softmax_forward": 2 * R * C, "softmax_backward": 3 * R * C,
                "layernorm_forward": 2 * R * C + 2 * C + 2 * R,
                "layernorm_backward": 3 * R * C + 3 * C + 2 * R,
                "gelu_forward": 2 * R * C, "gelu_backward": 3 * R * C}[name]
    return elements * itemsize, "GB/s"


# ---- implementations -----------------------------------------------------------------------

def kernel_args(name, shape, rng):
    """make_args, and for attention (q, k, v, scale, causal) or the backward's arguments from its forward."""
    if name not in ATTENTION_KERNELS:
        return make_args(name, shape, rng)
    q, k, v, dout = (rng.standard_normal(shape).astype(np.float32) for _ in range(4))
    scale, causal = 1 / np.sqrt(shape[-1]), True
    if name == "attention_forward":
        return q, k, v, scale, causal
    return (q, k, v) + reference.attention_forward(q, k, v, scale, causal) + (dout, scale, causal)


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
    if name in ATTENTION_KERNELS:
        from tinytorch.kernels.cuda import attention
        for f in attention.VERSIONS[name]:
            for block_size in block_sizes(f.__name__):
                run = lambda f=f, b=block_size: f(*dev, block_size=b)  # noqa: E731
                rows[f"numba-cuda {f.__name__.rsplit('_', 1)[-1]} b{block_size}"] = (run, run)
        baseline = lambda: getattr(numpy_attention, name)(*dev)  # noqa: E731
        rows["cupy (batched matmul + softmax)"] = (baseline, baseline)
        return rows  # torch's fused attention returns no log-sum-exp to validate
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
            "layernorm_backward_v2": (32, 64, 128, 256, 512), "attention_forward_v1": (32, 64, 128),
            "attention_forward_v2": (128, 256, 512), "attention_backward_v1": (32, 64, 128)
            }.get(kernel_name, (32, 64, 128, 256, 512, 1024))


# ---- machine limits and info ---------------------------------------------------------------

def cpu_limits(quick):
    n = 512 if quick else 2048
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    gemm = 2 * n**3 / harness.best_time(lambda: a @ a, 3 if quick else 5, warmup=1)[0] / 1e9
    src = np.ones((16 if quick else 256) << 18, np.float32)  # 16 or 256 MiB
    dst = np.empty_like(src)
    copy = 2 * src.nbytes / harness.best_time(lambda: np.copyto(dst, src), 5, warmup=1)[0] / 1e9
    return {"GFLOP/s": gemm, "GB/s": copy,
            "how": f"OpenBLAS SGEMM {n}^3 (best of 5); NumPy copy of {src.nbytes >> 20} MiB, read + write"}


def gpu_limits(cupy, clock, quick):
    n = 1024 if quick else 4096
    a = cupy.random.standard_normal((n, n), dtype=cupy.float32)
    gemm = 2 * n**3 / harness.best_time(lambda: a @ a, 10, warmup=1, clock=clock)[0] / 1e9
    src = cupy.ones((64 if quick else 1024) << 18, cupy.float32)
    dst = cupy.empty_like(src)
    copy = 2 * src.nbytes / harness.best_time(lambda: cupy.copyto(dst, src), 10, warmup=1, clock=clock)[0] / 1e9
    return {"GFLOP/s": gemm, "GB/s": copy,
            "how": f"cuBLAS SGEMM {n}^3, TF32 off (best of 10); device-to-device copy of "
                   f"{src.nbytes >> 20} MiB, read + write"}


def kernel_machine_info(cupy):
    """The versions and thread counts behind the kernels' numbers, for harness.Results."""
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
    return extra


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

def discarding(run):
    """A runner's step that calls run() and drops its output, which is freed before the next call."""
    def step(_):
        run()
    return step


def run_device(device, cases, measure_limits, timing, passes, clock=harness.wall_clock):
    """Validate, then time every case: (kernel name, shape, implementations(args) -> {label: (run, outputs)}).

    The implementations of a case take turns (harness.interleave: one warm-up call each, then
    rounds). Each pass re-measures the machine limits (keeping the best) and times every case; a
    row keeps the min and median over all passes, so a burst of load from other jobs on a shared
    machine must hit the same row in every pass to skew its min.
    """
    limits, times, errors = None, {}, {}
    for p in range(passes):
        measured = measure_limits()
        limits = measured if limits is None else {k: max(v, measured[k]) if k != "how" else v for k, v in limits.items()}
        print(f"pass {p + 1}/{passes}: {device} limits {measured['GFLOP/s']:.1f} GFLOP/s, {measured['GB/s']:.1f} GB/s",
              flush=True)
        for name, shape, implementations in cases:
            args = kernel_args(name, shape, np.random.default_rng(0))
            impls = implementations(args)
            if p == 0:
                errors[name, shape] = {label: check_outputs(name, outputs(), args) for label, (_, outputs) in impls.items()}
            runners = [harness.Runner(label, discarding(run)) for label, (run, _) in impls.items()]
            for r in harness.interleave(runners, clock=clock, **timing):
                times.setdefault((name, shape, r.name), []).extend(r.times)
            print(f"  {name} {'x'.join(map(str, shape))}: " + ", ".join(
                f"{label} {min(times[name, shape, label]) * 1e3:.3f} ms" for label in impls), flush=True)
    rows = []
    for (name, shape, label), ts in times.items():
        amount, unit = work(name, shape)
        ms = harness.spread([t * 1e3 for t in ts])
        rate = amount / ms["min"] * 1e3 / 1e9
        rows.append({"device": device, "kernel": name, "shape": list(shape), "implementation": label,
                     "ms_min": ms["min"], "ms_median": ms["median"], "calls": ms["n"],
                     "rate": rate, "unit": unit, "percent_of_limit": 100 * rate / limits[unit],
                     "max_abs_error": errors[name, shape][label]})
    return limits, rows


def run_cpu(shapes, quick, names):
    with_torch = has_torch()
    cases = [(name, shape, lambda args, n=name: cpu_implementations(n, args, with_torch))
             for name in names if name not in ATTENTION_KERNELS
             for shape in shapes["matmul" if name == "matmul" else "rows"]]
    return run_device("cpu", cases, lambda: cpu_limits(quick), {"rounds": 3, "budget_s": 0.2 if quick else 1.0},
                      passes=1 if quick else 2)


def run_gpu(cupy, shapes, quick, names):
    clock = gpu_clock(cupy)
    with_torch = has_torch(cuda=True)
    cases = [(name, shape, lambda args, n=name: gpu_implementations(n, args, cupy, with_torch))
             for name in names for shape in shapes["gpu_matmul" if name == "matmul" else
                                                   "gpu_attention" if name in ATTENTION_KERNELS else "gpu_rows"]]
    return run_device("gpu", cases, lambda: gpu_limits(cupy, clock, quick),
                      {"rounds": 3, "budget_s": 0.2 if quick else 0.5}, passes=1, clock=clock)


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


ROW_COLUMNS = [("device", "{device}"), ("kernel", "{kernel}"), ("shape", lambda r: "x".join(map(str, r["shape"]))),
               ("implementation", "{implementation}"), ("ms (min)", "{ms_min:.3f}"), ("ms (median)", "{ms_median:.3f}"),
               ("calls", "{calls}"), ("throughput", "{rate:.1f} {unit}"), ("% of limit", "{percent_of_limit:.1f}"),
               ("max abs err", "{max_abs_error:.1e}")]
TARGET_COLUMNS = [("target", "{target}"), ("numba ms", "{numba_ms:.3f}"), ("numpy ms", "{numpy_ms:.3f}"),
                  ("torch ms", "{torch_ms:.3f}"), ("speedup vs numpy", "{speedup_vs_numpy:.2f}"),
                  ("speedup vs torch", "{speedup_vs_torch:.2f}"), ("met", lambda t: "yes" if t["met"] else "NO")]


def panels(rows):
    """One bar panel per device and kernel: % of the device's limit, per shape and implementation."""
    found = []
    for device, kernel in [(d, k) for d in ("cpu", "gpu") for k in ("matmul",) + ROW_KERNELS + ATTENTION_KERNELS]:
        sel = [r for r in rows if r["device"] == device and r["kernel"] == kernel]
        if not sel:
            continue
        shapes = list(dict.fromkeys("x".join(map(str, r["shape"])) for r in sel))
        percent = {(r["implementation"], "x".join(map(str, r["shape"]))): r["percent_of_limit"] for r in sel}
        labels = dict.fromkeys(r["implementation"] for r in sel)
        series = {label: [percent.get((label, s)) for s in shapes] for label in labels}
        flops = kernel == "matmul" or kernel in ATTENTION_KERNELS
        found.append(harness.bars(shapes, series, f"% of {device} {'FLOP' if flops else 'copy bandwidth'} "
                                  "limit", title=f"{device} {kernel}", log=True))
    return found


def main():
    parser = harness.cli(__doc__)
    parser.add_argument("--devices", default="cpu,gpu", help="comma-separated: cpu, gpu (gpu rows need CuPy and a GPU)")
    parser.add_argument("--quick", action="store_true", help="tiny shapes and short timings (smoke test)")
    parser.add_argument("--name", help="output file stem (default kernels, or kernels_gpu)")
    parser.add_argument("--kernels", default=",".join(("matmul",) + ROW_KERNELS + ATTENTION_KERNELS),
                        help="comma-separated kernel names to run (default: all; attention_* on a GPU only)")
    args = harness.start(parser)
    names = tuple(args.kernels.split(","))
    if set(names) - set(("matmul",) + ROW_KERNELS + ATTENTION_KERNELS):
        parser.exit(2, f"bench_kernels: --kernels takes names from {('matmul',) + ROW_KERNELS + ATTENTION_KERNELS}, "
                       f"got {args.kernels!r}\n")
    devices = set(args.devices.split(","))
    if not devices or devices - {"cpu", "gpu"}:
        parser.exit(2, f"bench_kernels: --devices takes cpu and/or gpu, got {args.devices!r}\n")
    shapes = QUICK if args.quick else FULL
    cupy = find_gpu() if "gpu" in devices else None
    if devices == {"gpu"} and cupy is None:
        parser.exit(2, "bench_kernels: --devices gpu needs CuPy and a CUDA GPU, and none was found\n")
    results = harness.Results(args.name or ("kernels" if "cpu" in devices else "kernels_gpu"), args,
                              "Kernel benchmark", **kernel_machine_info(cupy))
    limits, rows = {}, []
    if "cpu" in devices:
        limits["cpu"], cpu_rows = run_cpu(shapes, args.quick, names)
        rows += cpu_rows
    if cupy is not None:
        limits["gpu"], gpu_rows = run_gpu(cupy, shapes, args.quick, names)
        rows += gpu_rows
    results.record(limits=limits)
    results.text("\n".join(f"Measured {device} limits: {lim['GFLOP/s']:.1f} GFLOP/s, {lim['GB/s']:.1f} GB/s "
                           f"({lim['how']})." for device, lim in limits.items()))
    results.table("rows", ROW_COLUMNS, labels=4)
    for row in rows:
        results.row(**row)
    targets = cpu_targets(rows)
    if targets:
        results.text("## CPU targets\n\nSoftmax/layernorm/GELU: fused Numba forward + backward at least 2x faster "
                     "than the NumPy oracle and no slower than torch (speedup vs torch >= 1). Matmul: v3 at least "
                     "50% of OpenBLAS.")
        results.table("targets", TARGET_COLUMNS)
        for target in targets:
            results.row(**target)
    info = results.machine
    results.plot(*panels(rows), title=f"{info['cpu']} ({info['cores']} cores)"
                 + (f" / {info['gpu']}" if "gpu" in info else ""))
    results.write()


if __name__ == "__main__":
    main()
