"""The kernel registry and the thread policy: the one place that picks the implementation of a hot
kernel, and the one place that decides how many threads BLAS and Numba use.

    tinytorch.backends.kernel(name, array)      the implementation of kernel `name` for `array`
    with tinytorch.backends.using(kernels="numpy", cpu_matmul="mkl", threads=1): ...
    tinytorch.set_num_threads(n), tinytorch.get_num_threads()

Every name in tinytorch.kernels.NAMES has a NumPy entry (kernels/numpy, written against xp so that
CuPy runs it too); `kernel` returns it unless a faster one applies to the array's device and dtype
under the settings:

    setting       environment variable      values (default first)
    kernels       TINYTORCH_KERNELS         "numba" when Numba imports: the Numba CPU kernels for
                                            float32 (kernels/cpu); "numpy": the NumPy entries (the
                                            reference path)
    cpu_matmul    TINYTORCH_CPU_MATMUL      "auto": Intel MKL's gemm where it is installed and measured
                                            faster than NumPy's BLAS on this CPU (cpu_matmul.py),
                                            else NumPy's; "numpy"; "mkl"
    cuda_kernels  TINYTORCH_CUDA_KERNELS    "numba": the Numba-CUDA kernels for float32 softmax,
                                            layernorm, GELU and fused attention; "cupy": the NumPy entries on CuPy
    cuda_matmul   TINYTORCH_CUDA_MATMUL     "cublas" (CuPy's matmul); "numba"

The settings are module attributes, read at every lookup (each combination is resolved once and
remembered); `using(...)` switches them for a block, and with `threads=` the thread count too.

Threads: one count for the process, every core by default ($OMP_NUM_THREADS when set, as torch).
Parallel by size: a matrix product of BLAS_PARALLEL_MIN multiply-adds or more (MKL_PARALLEL_MIN for MKL,
whose threads are the Numba kernels' OpenMP pool) runs on every free thread
(NumPy's OpenBLAS or MKL, set directly through their C functions), and BLAS stays on one thread
otherwise, for every BLAS call in the process; a Numba kernel runs on as many threads as its work
fills (kernels/cpu/threads.py). Small work never wakes a thread, and BLAS and Numba never run at once.
Free threads: the count less the cores other processes keep busy (free_threads), looked at every 0.1 s
of the process's work.
"""
import contextlib
import functools
import importlib
import importlib.util
import os
import sys
import threading
import time

import ml_dtypes
import numpy as np

from . import cpu_matmul as _matmul_rule
from . import precision as _precision
from .precision import CudaFlags, CudnnFlags
from .kernels import GPU_ONLY_NAMES, ORACLE_NAMES, NAMES

CPU_KERNELS = ("numba", "numpy")
CPU_MATMULS = ("auto", "numpy", "mkl")
CUDA_KERNELS = ("numba", "cupy")
CUDA_MATMULS = ("cublas", "numba")
SETTINGS = ("kernels", "cpu_matmul", "cuda_kernels", "cuda_matmul", "threads")

cuda = CudaFlags()  # torch.backends.cuda.matmul.allow_tf32, tied to the float32 matmul precision (precision.py)
cudnn = CudnnFlags()  # torch.backends.cudnn's flags
kernels = os.environ.get("TINYTORCH_KERNELS") or ("numba" if importlib.util.find_spec("numba") else "numpy")
cpu_matmul = os.environ.get("TINYTORCH_CPU_MATMUL") or "auto"
cuda_kernels = os.environ.get("TINYTORCH_CUDA_KERNELS") or "numba"
cuda_matmul = os.environ.get("TINYTORCH_CUDA_MATMUL") or "cublas"

# the module of kernels/numpy and kernels/cpu that defines each kernel ("matmul" on the CPU: cpu_matmul)
_MODULES = {"matmul": "matmul", "softmax_forward": "softmax", "softmax_backward": "softmax",
            "layernorm_forward": "layernorm", "layernorm_backward": "layernorm", "gelu_forward": "gelu",
            "gelu_backward": "gelu", "gelu_backward_and_forward_": "gelu", "cross_entropy_forward": "cross_entropy",
            "cross_entropy_backward": "cross_entropy", "attention_softmax_forward_": "attention_softmax",
            "attention_softmax_backward_": "attention_softmax", "adam_update_": "adam",
            "embedding_backward": "embedding", "box_muller_blocks": "normal", "power": "power",
            "power_backward": "power", "attention_forward": "attention", "attention_backward": "attention",
            "attention_heads_forward_": "attention", "attention_heads_backward_": "attention",
            "lstm_cell_forward_": "lstm", "lstm_cell_backward_": "lstm", "lstm_forward_": "lstm",
            "lstm_backward_": "lstm", "sgd_update_": "sgd",
            "mt19937_words": "mt19937", "mt19937_bernoulli": "mt19937", "masked_scale": "dropout",
            "im2col": "im2col", "col2im": "im2col", "max_pool_forward": "max_pool", "max_pool_backward": "max_pool"}
_chosen = {}  # (name, array type, dtype, settings) -> implementation


def kernel(name, array):
    """The implementation of kernel `name` (tinytorch.kernels.NAMES) for arrays like `array`
    (a NumPy or CuPy array: its type and dtype decide), under the current settings."""
    if time.monotonic() >= _next_sample:
        _sample_free_threads()
    key = (name, type(array), array.dtype, kernels, cpu_matmul, cuda_kernels, cuda_matmul)
    found = _chosen.get(key)
    if found is None:
        found = _chosen[key] = _resolve(name, array)
    return found


def _resolve(name, array):
    if name not in NAMES:
        raise ValueError(f"tinytorch.backends.kernel: unknown kernel {name!r}, expected one of {NAMES}")
    module = type(array).__module__.split(".")[0]
    if module not in ("numpy", "cupy"):
        raise ValueError(f"tinytorch.backends.kernel: expected a NumPy or CuPy array, got {type(array).__name__}")
    if array.dtype == _BFLOAT16 and name != "matmul":
        return _in_float32(_resolve(name, np.empty(0, np.float32)), in_place=name.endswith("_"))
    float32 = array.dtype == "float32"
    if module == "numpy":
        _apply_threads()
        if name == "matmul":
            if array.dtype.kind != "f" or matmul_library() == "numpy":
                return _with_blas_threads(_numpy_entry(name))
            mkl = importlib.import_module(".kernels.cpu.mkl_matmul", __package__)
            if mkl.available():  # loads MKL (else its first product says how to install it)
                _blas_loaded()
            return _with_blas_threads(mkl.matmul, MKL_PARALLEL_MIN, "mkl")
        if float32 and name not in GPU_ONLY_NAMES and \
                _choice("kernels", kernels, CPU_KERNELS, "TINYTORCH_KERNELS") == "numba":
            return _numba_cpu(_MODULES[name], name)
        return _numpy_entry(name)
    if name == "matmul":
        numba_cuda = _choice("cuda_matmul", cuda_matmul, CUDA_MATMULS, "TINYTORCH_CUDA_MATMUL") == "numba"
    else:
        numba_cuda = (name in ORACLE_NAMES + GPU_ONLY_NAMES and
                      _choice("cuda_kernels", cuda_kernels, CUDA_KERNELS, "TINYTORCH_CUDA_KERNELS") == "numba")
    if numba_cuda and float32:
        return getattr(importlib.import_module(".kernels.cuda", __package__), name)
    if name == "matmul":
        return _at_matmul_precision(_numpy_entry(name))
    return _numpy_entry(name)


_BFLOAT16 = np.dtype(ml_dtypes.bfloat16)


def _in_float32(implementation, in_place):
    """A bfloat16 version of a float32 kernel, as torch's CPU kernels compute bfloat16: each bfloat16
    argument widened to float32, the result's float32 arrays rounded back to bfloat16. A kernel that
    writes into its arguments (its name ends in "_") has them rounded back into place afterwards."""
    def run(*args):
        wide = [a.astype(np.float32) if getattr(a, "dtype", None) == _BFLOAT16 else a for a in args]
        out = implementation(*wide)
        if in_place:
            for a, w in zip(args, wide):
                if w is not a:
                    a[...] = w
        return _narrowed(out)
    return run


def _narrowed(out):
    if isinstance(out, tuple):
        return tuple(_narrowed(o) for o in out)
    return out.astype(_BFLOAT16) if getattr(out, "dtype", None) == np.float32 else out


def _at_matmul_precision(matmul):
    """CuPy's matmul under tinytorch.set_float32_matmul_precision (precision.py)."""
    @functools.wraps(matmul)
    def product(a, b):
        _precision.apply_to_cupy(sys.modules["cupy"])
        return matmul(a, b)
    return product


def _choice(setting, value, choices, env):
    if value not in choices:
        raise ValueError(f"tinytorch.backends.{setting} must be one of {choices} "
                         f"(set it or the environment variable {env}), got {value!r}")
    return value


def _numpy_entry(name):
    return getattr(importlib.import_module(f".kernels.numpy.{_MODULES[name]}", __package__), name)


def _numba_cpu(module, name):
    """A kernel of kernels/cpu; the first one loaded gives Numba the thread count."""
    found = getattr(importlib.import_module(f".kernels.cpu.{module}", __package__), name)
    _apply_threads()
    return found


def matmul_library():
    """"numpy" or "mkl": the library of float products on the CPU under the current settings (with
    cpu_matmul = "auto", the measured rule's answer)."""
    choice = _choice("cpu_matmul", cpu_matmul, CPU_MATMULS, "TINYTORCH_CPU_MATMUL")
    if choice != "auto":
        return choice
    from .kernels.cpu import mkl_matmul
    if not mkl_matmul.available():
        return "numpy"
    _blas_loaded()  # MKL is loaded now: it rests on one thread too, and is timed that way
    between = None
    if _choice("kernels", kernels, CPU_KERNELS, "TINYTORCH_KERNELS") == "numba":
        between = kernel("gelu_forward", np.empty(0, np.float32))  # a parallel kernel, as a step runs one
    mkl = _with_blas_threads(mkl_matmul.matmul, MKL_PARALLEL_MIN, "mkl")
    return _matmul_rule.faster_library(get_num_threads(), mkl, _with_blas_threads(_numpy_entry("matmul")), between)


@contextlib.contextmanager
def using(**settings):
    """Switch settings (and `threads`) for the block and restore them after it:
    `with using(kernels="numpy"):`. A setting given as None keeps its current value."""
    unknown = sorted(settings.keys() - set(SETTINGS))
    if unknown:
        raise ValueError(f"tinytorch.backends.using: unknown setting {unknown[0]!r}, expected one of {SETTINGS}")
    settings = {name: value for name, value in settings.items() if value is not None}
    threads = settings.pop("threads", None)
    before = {name: globals()[name] for name in settings}
    threads_before = get_num_threads()
    globals().update(settings)
    if threads is not None:
        set_num_threads(threads)
    try:
        yield
    finally:
        globals().update(before)
        if threads is not None:
            set_num_threads(threads_before)


# ---- the thread policy -----------------------------------------------------------------------

_threads = None  # set_num_threads' count; None: every core (or $OMP_NUM_THREADS)
_applied = None  # (the count BLAS and Numba last received, whether the Numba kernels were loaded then)
_lock = threading.Lock()


@functools.cache
def default_num_threads():
    """$OMP_NUM_THREADS when it is a positive integer (as torch), else the cores this process may run on;
    read once, as torch reads them when it starts (every product and kernel asks)."""
    value = os.environ.get("OMP_NUM_THREADS", "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def get_num_threads():
    """The threads tinytorch's CPU work may use (torch.get_num_threads)."""
    return default_num_threads() if _threads is None else _threads


def set_num_threads(n):
    """Use at most n threads for BLAS and for the Numba kernels from now on (torch.set_num_threads)."""
    global _threads
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads expects a positive integer, got {n!r}")
    _threads = n
    _apply_threads(force=True)


def _apply_threads(force=False):
    """Give the thread count to the Numba kernels, and BLAS its one thread between large products."""
    global _applied
    n, numba_loaded = get_num_threads(), f"{__package__}.kernels.cpu" in sys.modules
    with _lock:
        if _applied == (n, numba_loaded) and not force:
            return
        _set_blas_threads(1)
        if numba_loaded:
            importlib.import_module(".kernels.cpu.threads", __package__).set_limit(free_threads())
        _applied = (n, numba_loaded)


# ---- the threads that are free: the count, less the cores other processes keep busy ----------------

SAMPLE_EVERY = 0.1  # seconds between looks at how busy the machine is
STALE_AFTER = 0.3  # a look older than this (the process ran no kernel since) starts a new window
DYNAMIC_THREADS = os.environ.get("TINYTORCH_DYNAMIC_THREADS", "1") != "0"
_next_sample = 0.0
_last_sample = None  # (monotonic seconds, the machine's busy CPU seconds, this process's CPU seconds)
_free = None  # threads free at the last sample (None before two samples)


def free_threads():
    """The threads parallel work may use now: get_num_threads(), fewer while other processes keep cores
    busy, at least one. Like libgomp's OMP_DYNAMIC (which subtracts the load average), but measured over
    the last SAMPLE_EVERY seconds of this process's work from /proc/stat, less this process's own CPU
    time, so tinytorch's own threads never count against it. On a shared machine a thread that finds
    its core taken stalls a whole parallel kernel or product, so busy cores are left to their owners.
    A window only counts while the process works: what others did while it sat idle (a script between
    epochs, a benchmark's other contestant taking its turn) says nothing about the cores it needs now."""
    n = get_num_threads()
    return n if _free is None else max(1, min(n, _free))


def _sample_free_threads():
    """Look at the machine (every SAMPLE_EVERY seconds, from `kernel`); give Numba the new count.
    TINYTORCH_DYNAMIC_THREADS=0 turns the looking off: every thread counts as free."""
    global _next_sample, _last_sample, _free
    now = time.monotonic()
    _next_sample = now + SAMPLE_EVERY if DYNAMIC_THREADS else float("inf")
    busy, own = _machine_busy_seconds(), sum(os.times()[:2])
    if busy is None:
        return
    if _last_sample is not None and now - _last_sample[0] <= STALE_AFTER:
        before = _free
        _free = threads_left(os.cpu_count() or 1, busy - _last_sample[1], own - _last_sample[2], now - _last_sample[0])
        if _free != before and f"{__package__}.kernels.cpu" in sys.modules:
            importlib.import_module(".kernels.cpu.threads", __package__).set_limit(free_threads())
    _last_sample = (now, busy, own)


def threads_left(cores, busy_seconds, own_seconds, wall_seconds):
    """Cores not kept busy by other processes over an interval: the machine's busy CPU time less this
    process's, per second of wall time, taken from the core count and rounded."""
    others = max(0.0, busy_seconds - own_seconds) / max(wall_seconds, 1e-9)
    return max(1, round(cores - others))


def _machine_busy_seconds():
    """CPU seconds the whole machine has spent busy (user, nice, system, irq, softirq, steal), or None
    where /proc/stat is missing."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


BLAS_PARALLEL_MIN = 1 << 22  # multiply-adds: a product this large runs on every thread, a smaller one on one
# MKL on the Numba kernels' OpenMP pool (kernels/cpu/threads.py), whose threads spin briefly instead of
# sleeping: a 20x200 by 200x800 product (an LSTM step's, 3.2M) took 75 us on one thread, 51 on two
MKL_PARALLEL_MIN = 1 << 20


@contextlib.contextmanager
def parallel_products(work, least=BLAS_PARALLEL_MIN):
    """BLAS on every free thread inside the block when its products have `work` multiply-adds each, at
    least `least`; on one thread otherwise, and after the block."""
    n = free_threads()
    if work < least or n == 1:
        yield
        return
    _set_blas_threads(n)
    try:
        yield
    finally:
        _set_blas_threads(1)


def _with_blas_threads(matmul, least=BLAS_PARALLEL_MIN, library="numpy"):
    """A CPU matmul a (M, K) @ b (K, N) under parallel_products(M K N, least) (a small one straight on:
    the context manager alone costs microseconds). It carries its `library` and `parallel(work)`,
    the threads of products of `work` multiply-adds, for a kernel that calls the library itself
    in a loop of its own (kernels/cpu/lstm.py)."""
    @functools.wraps(matmul)
    def product(a, b):
        work = a.size * b.shape[-1]
        if work < least:
            return matmul(a, b)
        with parallel_products(work, least):
            return matmul(a, b)
    product.library, product.parallel = library, functools.partial(parallel_products, least=least)
    return product


_blas_now = None  # the thread count BLAS was last given


def _set_blas_threads(n):
    global _blas_now
    if n != _blas_now:
        for setter in _blas_setters():
            setter(n)
        _blas_now = n


def _blas_loaded():
    """Find the BLAS libraries loaded now (MKL loads late) and put them on one thread."""
    global _blas_now
    if len(_blas_setters()) < _loaded_blas_count():
        _blas_setters.cache_clear()
        _blas_now = None
    _set_blas_threads(1)


def _loaded_blas_count():
    import threadpoolctl
    return sum(info["user_api"] == "blas" for info in threadpoolctl.threadpool_info())


_BLAS_SETTERS = {"openblas": [f"{prefix}openblas_set_num_threads{suffix}" for prefix in ("", "scipy_")
                              for suffix in ("", "64_", "_64")],
                 "mkl": ["MKL_Set_Num_Threads"]}


@functools.cache
def _blas_setters():
    """The C functions that set the thread count of each BLAS library loaded now (NumPy's OpenBLAS; MKL),
    found through threadpoolctl's list of loaded libraries."""
    import ctypes

    import threadpoolctl
    setters = []
    for info in threadpoolctl.threadpool_info():
        if info["user_api"] != "blas":
            continue
        lib = ctypes.CDLL(info["filepath"])
        for name in _BLAS_SETTERS.get(info["internal_api"], ()):
            setter = getattr(lib, name, None)
            if setter is not None:
                setter.argtypes, setter.restype = [ctypes.c_int], None
                setters.append(setter)
                break
    return tuple(setters)
