"""tinytorch.backends: which implementation `kernel(name, array)` returns for each setting, device and
dtype; `using(...)`; the defaults; and the thread policy (set_num_threads, BLAS's and Numba's counts,
small kernels on one thread)."""
import importlib
import os
import subprocess
import sys

import numpy as np
import pytest

import tinytorch
from tinytorch import backends
from tinytorch.kernels import GPU_ONLY_NAMES, NAMES, ORACLE_NAMES
from tinytorch.kernels.validate import check_outputs, make_args

NUMBA_CPU_NAMES = [n for n in NAMES if n != "matmul" and n not in GPU_ONLY_NAMES]


class FakeCupyArray:
    """Stands in for a CuPy array: the registry looks only at the type's module and the dtype."""
    __module__ = "cupy._core.core"

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)


def implementation(name, array, **settings):
    with backends.using(**settings):
        return backends.kernel(name, array)


def module_of(found):
    return found.__module__.removeprefix("tinytorch.kernels.")


@pytest.mark.parametrize("name", NAMES)
def test_every_name_has_a_numpy_entry(name):
    found = implementation(name, np.ones(3, np.float32), kernels="numpy", cpu_matmul="numpy")
    assert module_of(found).startswith("numpy.") and found.__name__ == name


@pytest.mark.parametrize("name", NUMBA_CPU_NAMES)
def test_numba_setting_returns_the_numba_kernel_for_float32_only(name):
    assert module_of(implementation(name, np.ones(3, np.float32), kernels="numba")).startswith("cpu.")
    for dtype in (np.float64, np.float16):
        assert module_of(implementation(name, np.ones(3, dtype), kernels="numba")).startswith("numpy.")


@pytest.mark.parametrize("name", [n for n in ORACLE_NAMES if n != "matmul"])
def test_numba_and_numpy_entries_give_the_oracles_results(name):
    args = make_args(name, (3, 7, 33), np.random.default_rng(0))
    for setting in ("numpy", "numba"):
        check_outputs(name, implementation(name, args[0], kernels=setting)(*args), args)


def test_matmul_follows_cpu_matmul_not_kernels(monkeypatch):
    a = np.ones((2, 3), np.float32)
    for kernels in ("numpy", "numba"):
        assert module_of(implementation("matmul", a, kernels=kernels, cpu_matmul="numpy")) == "numpy.matmul"
    monkeypatch.setattr(backends._matmul_rule, "faster_library", lambda threads, mkl, numpy, between: "mkl")
    monkeypatch.setattr(backends, "_chosen", {})                      # forget earlier lookups of "auto"
    from tinytorch.kernels.cpu import mkl_matmul
    expected = "cpu.mkl_matmul" if mkl_matmul.available() else "numpy.matmul"
    assert module_of(implementation("matmul", a, cpu_matmul="auto")) == expected
    assert module_of(implementation("matmul", np.ones((2, 3), np.int64), cpu_matmul="auto")) == "numpy.matmul"


def test_settings_are_read_at_every_lookup_and_using_restores_them():
    x = np.ones(3, np.float32)
    before = backends.kernels
    with backends.using(kernels="numpy"):
        assert module_of(backends.kernel("softmax_forward", x)) == "numpy.softmax"
        with backends.using(kernels="numba"):
            assert module_of(backends.kernel("softmax_forward", x)) == "cpu.softmax"
        assert module_of(backends.kernel("softmax_forward", x)) == "numpy.softmax"
    assert backends.kernels == before


@pytest.mark.parametrize("setting, value, array, pattern", [
    ("kernels", "nmba", np.ones(2, np.float32),
     r"backends\.kernels must be one of \('numba', 'numpy'\).*TINYTORCH_KERNELS.*'nmba'"),
    ("cpu_matmul", "openblas", np.ones(2, np.float32),
     r"cpu_matmul must be one of \('auto', 'numpy', 'mkl'\).*CPU_MATMUL"),
    ("cuda_matmul", "cutlass", FakeCupyArray("float32"), r"backends\.cuda_matmul must be one of \('cublas', 'numba'\)"),
    ("cuda_kernels", "triton", FakeCupyArray("float32"), r"backends\.cuda_kernels must be one of \('numba', 'cupy'\)"),
])
def test_a_bad_setting_raises_a_clear_error(setting, value, array, pattern):
    with backends.using(**{setting: value}), pytest.raises(ValueError, match=pattern):
        backends.kernel("matmul" if setting.endswith("matmul") else "softmax_forward", array)


def test_bad_names_arrays_and_settings_raise():
    with pytest.raises(ValueError, match=r"unknown kernel 'softmax'.*'softmax_forward'"):
        backends.kernel("softmax", np.ones(2))
    with pytest.raises(ValueError, match=r"expected a NumPy or CuPy array, got list"):
        backends._resolve("matmul", [1.0])
    with pytest.raises(ValueError, match=r"using: unknown setting 'kernel'"):
        with backends.using(kernel="numba"):
            pass


def run_python(code, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TINYTORCH_") and k != "OMP_NUM_THREADS"}
    result = subprocess.run([sys.executable, "-c", code], env={**environment, **env}, capture_output=True, text=True,
                            check=True)
    return result.stdout.split()


def test_defaults_are_numba_auto_and_every_core():
    assert run_python("import tinytorch as t; b = t.backends; print(b.kernels, b.cpu_matmul, t.get_num_threads())") == \
        ["numba", "auto", str(len(os.sched_getaffinity(0)))]


def test_environment_variables_set_the_defaults():
    code = "import tinytorch as t; b = t.backends; print(b.kernels, b.cpu_matmul, b.cuda_matmul, b.cuda_kernels, " \
           "t.get_num_threads())"
    assert run_python(code, TINYTORCH_KERNELS="numpy", TINYTORCH_CPU_MATMUL="mkl", TINYTORCH_CUDA_MATMUL="numba",
                      TINYTORCH_CUDA_KERNELS="cupy", OMP_NUM_THREADS="3") == ["numpy", "mkl", "numba", "cupy", "3"]


def test_cupy_arrays_get_numba_cuda_for_float32_and_the_numpy_entries_otherwise(monkeypatch):
    """Checked with stand-ins for CuPy arrays and for the CUDA kernels: there is no GPU here."""
    fake_cuda = type(sys)("tinytorch.kernels.cuda")
    for name in ORACLE_NAMES:
        setattr(fake_cuda, name, name + " on numba-cuda")
    monkeypatch.setitem(sys.modules, "tinytorch.kernels.cuda", fake_cuda)
    f32, f64 = FakeCupyArray("float32"), FakeCupyArray("float64")
    assert implementation("softmax_forward", f32, cuda_kernels="numba") == "softmax_forward on numba-cuda"
    assert module_of(implementation("softmax_forward", f64, cuda_kernels="numba")) == "numpy.softmax"
    assert module_of(implementation("softmax_forward", f32, cuda_kernels="cupy")) == "numpy.softmax"
    assert module_of(implementation("cross_entropy_forward", f32, cuda_kernels="numba")) == "numpy.cross_entropy"
    assert module_of(implementation("matmul", f32, cuda_matmul="cublas")) == "numpy.matmul"
    assert implementation("matmul", f32, cuda_matmul="numba") == "matmul on numba-cuda"


# ---- threads ---------------------------------------------------------------------------------

@pytest.fixture
def idle_machine(monkeypatch):
    """As if no other process kept a core busy: every thread free, no sampling during the test."""
    monkeypatch.setattr(backends, "_free", None)
    monkeypatch.setattr(backends, "_next_sample", float("inf"))

def blas_threads():
    import threadpoolctl
    return {info["internal_api"]: info["num_threads"] for info in threadpoolctl.threadpool_info()
            if info["user_api"] == "blas"}


def test_set_num_threads_reaches_the_numba_kernels_and_using_restores_it(idle_machine):
    threads = importlib.import_module("tinytorch.kernels.cpu.threads")
    before = tinytorch.get_num_threads()
    with backends.using(threads=1):
        assert tinytorch.get_num_threads() == 1
        assert threads.threads_for(1 << 30) == 1
    assert tinytorch.get_num_threads() == before
    assert threads.threads_for(1 << 30) == min(before, __import__("numba").config.NUMBA_NUM_THREADS)
    assert set(blas_threads().values()) == {1}                 # BLAS rests on one thread between products


def test_large_products_run_on_every_thread_and_small_ones_on_one(monkeypatch, idle_machine):
    seen = []
    monkeypatch.setattr(backends, "_set_blas_threads", seen.append)
    product = backends._with_blas_threads(lambda a, b: seen.append("product") or a @ b)
    small, large = np.ones((4, 4), np.float32), np.ones((256, 256), np.float32)   # 64 and 16.8M multiply-adds
    with backends.using(threads=3):
        seen.clear()
        product(small, small)
        product(large, large)
        assert seen == ["product", 3, "product", 1]
    with backends.using(threads=1):
        seen.clear()
        product(large, large)
        assert seen == ["product"]
    medium = np.ones((128, 128), np.float32)                                         # 2.1M multiply-adds
    on_mkl = backends._with_blas_threads(lambda a, b: seen.append("product") or a @ b, backends.MKL_PARALLEL_MIN)
    with backends.using(threads=2):
        seen.clear()
        product(medium, medium)
        on_mkl(medium, medium)
        assert seen == ["product", 2, "product", 1]                 # parallel from a smaller size on MKL's pool


def test_the_blas_setters_reach_numpys_blas():
    assert len(backends._blas_setters()) >= 1
    backends._set_blas_threads(2)
    try:
        assert 2 in blas_threads().values()
    finally:
        backends._set_blas_threads(1)
    assert set(blas_threads().values()) == {1}


@pytest.mark.parametrize("n", [0, -1, 1.5, True, "2"])
def test_set_num_threads_refuses_what_is_not_a_positive_integer(n):
    with pytest.raises(ValueError, match="set_num_threads expects a positive integer"):
        tinytorch.set_num_threads(n)


def test_a_small_kernel_runs_on_one_thread_and_a_large_one_on_all(idle_machine):
    import numba
    threads = importlib.import_module("tinytorch.kernels.cpu.threads")
    gelu = implementation("gelu_forward", np.ones(2, np.float32), kernels="numba")
    with backends.using(threads=2):
        gelu(np.ones(1000, np.float32))
        assert numba.get_num_threads() == 1
        gelu(np.ones(4 * threads.MIN_WORK_PER_THREAD, np.float32))
        assert numba.get_num_threads() == min(2, numba.config.NUMBA_NUM_THREADS)
    assert threads.threads_for(threads.MIN_WORK_PER_THREAD - 1) == 1


@pytest.mark.parametrize("cores, busy, own, wall, expected", [
    (2, 0.1, 0.05, 1.0, 2),      # an idle machine: every core
    (2, 1.9, 1.0, 1.0, 1),       # this process busy on one core, another process on the other
    (2, 2.0, 2.0, 1.0, 2),       # only this process, on both cores: its own threads never count
    (4, 3.0, 0.5, 1.0, 2),       # 2.5 cores busy elsewhere: round(1.5) = 2
    (2, 20.0, 1.0, 1.0, 1),      # heavily loaded: one thread, never fewer
])
def test_threads_left_are_the_cores_other_processes_do_not_keep_busy(cores, busy, own, wall, expected):
    assert backends.threads_left(cores, busy, own, wall) == expected


def test_only_a_window_of_the_process_working_counts(monkeypatch):
    """Others busy on every core while this process sat idle (a stale window) leave the free threads as
    they were; the same load over a fresh window takes the cores it fills."""
    import time
    own = sum(os.times()[:2])
    monkeypatch.setattr(backends, "_free", 2)
    monkeypatch.setattr(backends, "_next_sample", float("inf"))
    monkeypatch.setattr(backends, "_machine_busy_seconds", lambda: 100.0)
    cores = os.cpu_count()
    stale = time.monotonic() - 10 * backends.STALE_AFTER
    monkeypatch.setattr(backends, "_last_sample", (stale, 100.0 - 10 * cores, own))
    backends._sample_free_threads()
    assert backends._free == 2
    monkeypatch.setattr(backends, "_last_sample", (time.monotonic() - backends.SAMPLE_EVERY, 100.0 - 0.1 * cores, own))
    backends._sample_free_threads()
    assert backends._free == 1


def test_free_threads_stay_within_the_count(monkeypatch):
    monkeypatch.setattr(backends, "_next_sample", float("inf"))
    with backends.using(threads=3):
        monkeypatch.setattr(backends, "_free", 8)
        assert backends.free_threads() == 3
        monkeypatch.setattr(backends, "_free", 2)
        assert backends.free_threads() == 2
