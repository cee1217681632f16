"""Which library multiplies float matrices on this CPU: NumPy's BLAS or Intel MKL's gemm, by measurement.

NumPy's wheels bring OpenBLAS; MKL (the BLAS inside PyTorch's CPU wheels) comes with the optional
`mkl` extra. Neither wins everywhere: MKL's sgemm is about 10% faster on Intel Xeons at a small
GPT's shapes, and slower than OpenBLAS on AMD EPYCs. On several threads the products also share the
cores with the parallel kernels between them: MKL runs on the kernels' OpenMP pool, OpenBLAS on a
pool of its own whose threads spin after each product. So `backends.cpu_matmul = "auto"` times both,
once per machine, at the products of a small and a medium transformer's linear layers, each product
followed by `between` (the caller's parallel kernel on its result, as in a training step), with the
thread count the process uses, and takes MKL only where it is faster by more than MARGIN. The
answer is kept in $TINYTORCH_CACHE/cpu_matmul.json (default ~/.cache/tinytorch), keyed by the CPU,
the thread count and the libraries' versions: later processes read it instead of measuring, and
every process on a machine makes the same choice (the two libraries round differently).
"""
import json
import os
import platform
import time

import numpy as np

SHAPES = ((768, 128, 384), (768, 512, 128), (512, 768, 768))  # (M, K, N) of linear layers' products
REPEATS = 5
SETTLE_S = 0.25
MARGIN = 0.05
FILE = "cpu_matmul.json"


def faster_library(threads, mkl_matmul, numpy_matmul=np.matmul, between=None):
    """"mkl" or "numpy": the cached answer for this machine and thread count, else a measurement of the
    two products as the process would run them (each followed by between(product), when given)."""
    key = machine_key(threads) + ("" if between is None else " | a parallel kernel between products")
    cached = _read_cache()
    if key in cached:
        return cached[key]["library"]
    numpy_s, mkl_s = measure(mkl_matmul, numpy_matmul, between)
    library = "mkl" if mkl_s < (1 - MARGIN) * numpy_s else "numpy"
    cached[key] = {"library": library, "numpy_ms": round(numpy_s * 1e3, 3), "mkl_ms": round(mkl_s * 1e3, 3),
                   "shapes": SHAPES, "measured": time.strftime("%Y-%m-%d %H:%M:%S")}
    _write_cache(cached)
    return library


def measure(mkl_matmul, numpy_matmul=np.matmul, between=None):
    """(seconds of NumPy's matmul, seconds of MKL's) over SHAPES: per shape the least of REPEATS calls
    (a product, then between(product) when given), summed. Each library is timed in a block of its
    own, after SETTLE_S of rest: a pool's threads keep spinning for a while after its last call
    (OpenBLAS's about 0.1 s), and timed in turns, one library's spinning threads slowed the other."""
    rng = np.random.default_rng(0)
    operands = [(rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32))
                for m, k, n in SHAPES]
    totals = []
    for product in (numpy_matmul, mkl_matmul):
        time.sleep(SETTLE_S)
        total = 0.0
        for a, b in operands:
            best = float("inf")
            for _ in range(REPEATS + 1):  # the first call warms up
                start = time.perf_counter()
                c = product(a, b)
                if between is not None:
                    between(c)
                best = min(best, time.perf_counter() - start)
            total += best
        totals.append(total)
    return tuple(totals)


def machine_key(threads):
    """The CPU model, the thread count and the versions of NumPy and MKL: what the answer depends on."""
    return f"{cpu_model()} | {threads} threads | numpy {np.__version__} | mkl {_mkl_version()}"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _mkl_version():
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("mkl")
    except PackageNotFoundError:
        return "system"


def cache_path():
    from .data import cache_dir
    return cache_dir() / FILE


def _read_cache():
    try:
        return json.loads(cache_path().read_text())
    except (OSError, ValueError):
        return {}


def _write_cache(entries):
    """Best effort: a read-only home only means measuring again next time."""
    from .serialization.atomic import write_text
    try:
        os.makedirs(cache_path().parent, exist_ok=True)
        write_text(cache_path(), json.dumps(entries, indent=1, sort_keys=True))
    except OSError:
        pass
