"""MKL's gemm (kernels/cpu/mkl_matmul.py) gives NumPy's products for every operand layout it takes,
falls back to NumPy for the rest, and the linear layers run through it match torch; asking for MKL
where it is missing is a clear error. The "auto" rule (tinytorch/cpu_matmul.py) measures once per
machine and thread count, keeps the answer in the cache, and takes MKL only when clearly faster."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch.nn.functional as TF

import tinytorch
import tinytorch.backends as backends
import tinytorch.nn.functional as F
from harness import check_op
from tinytorch import cpu_matmul
from tinytorch.kernels.cpu import mkl_matmul

needs_mkl = pytest.mark.skipif(not mkl_matmul.available(), reason="the optional mkl extra is not installed "
                                                                  "(pip install -e '.[mkl]', x86-64)")


def layouts(rng, shape, dtype):
    """The same matrix C-ordered, Fortran-ordered (a transpose), as a column slice of a wider
    array and as every other row of a taller one (leading dimension > width), and as every
    other column (no gemm layout: NumPy takes it)."""
    values = rng.standard_normal(shape).astype(dtype)
    wide = np.zeros((shape[0], shape[1] + 3), dtype)
    wide[:, :shape[1]] = values
    tall = np.zeros((2 * shape[0], shape[1]), dtype)
    tall[::2] = values
    double_wide = np.zeros((shape[0], 2 * shape[1]), dtype)
    double_wide[:, ::2] = values
    return {"c": values, "f": np.asfortranarray(values), "slice": wide[:, :shape[1]], "every_other_row": tall[::2],
            "every_other_column": double_wide[:, ::2]}


@pytest.fixture
def every_size_to_mkl(monkeypatch):
    """MKL takes products of every size (small ones go to NumPy by default)."""
    monkeypatch.setattr(mkl_matmul, "SMALL", 0)


@needs_mkl
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m,k,n", [(7, 5, 3), (1, 4, 6), (6, 1, 2), (3, 4, 1), (64, 33, 17)])
def test_mkl_products_match_numpy_in_every_layout(m, k, n, dtype, every_size_to_mkl):
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    for a_name, a in layouts(rng, (m, k), dtype).items():
        for b_name, b in layouts(rng, (k, n), dtype).items():
            got = mkl_matmul.matmul(a, b)
            assert got.shape == (m, n) and got.dtype == dtype and got.flags.c_contiguous, (a_name, b_name)
            np.testing.assert_allclose(got, a @ b, **tol, err_msg=f"{a_name} @ {b_name}")


@needs_mkl
def test_mkl_is_called_for_gemm_layouts_and_numpy_takes_the_rest(monkeypatch, every_size_to_mkl):
    calls = []
    real = mkl_matmul._gemms()
    monkeypatch.setattr(mkl_matmul, "_gemms", lambda: tuple((lambda *a, f=f: calls.append(1) or f(*a)) for f in real))
    a = np.ones((4, 3), np.float32)
    mkl_matmul.matmul(a, a.T)
    assert len(calls) == 1
    for x, y in ((a.astype(np.float16), a.T.astype(np.float16)), (a[:, ::2], a[:2]),
                 (np.ones((0, 3), np.float32), a.T)):
        np.testing.assert_array_equal(mkl_matmul.matmul(x, y), x @ y)
    assert len(calls) == 1


@needs_mkl
def test_products_under_small_go_to_numpy(monkeypatch):
    calls = []
    real = mkl_matmul._gemms()
    monkeypatch.setattr(mkl_matmul, "_gemms", lambda: tuple((lambda *a, f=f: calls.append(1) or f(*a)) for f in real))
    side = round(mkl_matmul.SMALL ** (1 / 3))
    small, large = np.ones((side - 1,) * 2, np.float32), np.ones((side + 1,) * 2, np.float32)
    np.testing.assert_array_equal(mkl_matmul.matmul(small, small), small @ small)
    assert calls == []
    mkl_matmul.matmul(large, large)
    assert calls == [1]


@needs_mkl
@pytest.mark.parametrize("bias", [True, False])
def test_linear_and_gelu_linear_through_mkl_match_torch(bias, kernels_used, every_size_to_mkl):
    rng = np.random.default_rng(3)
    x, w, h, w2 = (rng.standard_normal(s).astype(np.float32) for s in ((2, 5, 8), (6, 8), (2, 5, 6), (4, 6)))
    b, b2 = ([rng.standard_normal(n).astype(np.float32)] if bias else [] for n in (6, 4))
    tol = dict(atol=1e-5, rtol=1e-4)
    with backends.using(cpu_matmul="mkl"):
        check_op(F.linear, TF.linear, x, w, *b, naive=F.linear_naive, **tol)
        check_op(lambda h, w, *b: F.gelu_linear(h, w, *b, approximate="tanh"),
                 lambda h, w, *b: TF.linear(TF.gelu(h, approximate="tanh"), w, *b), h, w2, *b2,
                 naive=lambda h, w, *b: F.gelu_linear_naive(h, w, *b, approximate="tanh"), **tol)
    assert "tinytorch.kernels.cpu.mkl_matmul" in kernels_used["matmul"]


def test_asking_for_mkl_without_it_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(mkl_matmul, "_MKL_FILES", ("libmkl_rt_missing.so",))
    monkeypatch.setattr(mkl_matmul.ctypes.util, "find_library", lambda name: None)
    mkl_matmul._gemms.cache_clear()
    backends._chosen.clear()
    try:
        with backends.using(cpu_matmul="mkl"), \
                pytest.raises(RuntimeError, match=r"cpu_matmul='mkl' needs Intel MKL.*pip install 'tinytorch\[mkl\]'"):
            F.linear(tinytorch.ones(2, 3), tinytorch.ones(4, 3))
        assert not mkl_matmul.available()
        with backends.using(cpu_matmul="auto"):
            assert backends.matmul_library() == "numpy"                     # auto: NumPy's, without measuring
    finally:
        mkl_matmul._gemms.cache_clear()
        backends._chosen.clear()


def test_the_auto_rule_measures_once_per_machine_and_thread_count_then_reads_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYTORCH_CACHE", str(tmp_path))
    timings = iter([(1.0, 0.9), (1.0, 0.97)])               # MKL 10% faster, then only 3% faster
    measured = []
    monkeypatch.setattr(cpu_matmul, "measure", lambda mkl, numpy, between: measured.append(1) or next(timings))
    assert cpu_matmul.faster_library(1, None) == "mkl"
    assert cpu_matmul.faster_library(1, None) == "mkl"      # from the cache
    assert cpu_matmul.faster_library(2, None) == "numpy"    # another thread count: measured; within the margin
    assert len(measured) == 2
    saved = json.loads((tmp_path / "cpu_matmul.json").read_text())
    assert sorted(entry["library"] for entry in saved.values()) == ["mkl", "numpy"]
    assert all(cpu_matmul.cpu_model() in key for key in saved)


def test_the_measurement_runs_the_kernel_between_after_every_product(monkeypatch):
    monkeypatch.setattr(cpu_matmul, "SETTLE_S", 0.0)
    calls = []
    products = lambda name: lambda a, b: calls.append(name) or a @ b  # noqa: E731
    cpu_matmul.measure(products("mkl"), products("numpy"), lambda c: calls.append(("after", c.shape)))
    per_library = len(cpu_matmul.SHAPES) * (cpu_matmul.REPEATS + 1)
    assert calls[:2 * per_library:2] == ["numpy"] * per_library             # one library's block, then the other's
    assert calls[2 * per_library::2] == ["mkl"] * per_library
    assert [c[1] for c in calls[1::2]] == [(m, n) for _ in range(2) for m, _, n in cpu_matmul.SHAPES
                                           for _ in range(cpu_matmul.REPEATS + 1)]


@needs_mkl
def test_mkl_runs_on_the_openmp_runtime_of_the_numba_kernels():
    """One pool of threads: MKL's GNU threading layer (libgomp), not Intel's OpenMP or its sequential layer."""
    script = ("import numpy as np, tinytorch\n"
              "from tinytorch import backends\n"
              "with backends.using(cpu_matmul='mkl'):\n"
              "    tinytorch.nn.functional.linear(tinytorch.ones(128, 128), tinytorch.ones(128, 128)).sum().item()\n"
              "print(sorted({line.split('/')[-1] for line in open('/proc/self/maps')\n"
              "              if 'mkl_' in line or 'omp' in line}))")
    env = {k: v for k, v in os.environ.items() if k != "MKL_THREADING_LAYER"}
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True).stdout
    assert "libmkl_gnu_thread" in loaded and "libgomp" in loaded
    assert "libiomp5" not in loaded and "libmkl_sequential" not in loaded


@needs_mkl
def test_the_measurement_times_both_libraries_at_every_shape():
    numpy_s, mkl_s = cpu_matmul.measure(mkl_matmul.matmul)
    assert 0 < numpy_s < 1 and 0 < mkl_s < 1


def test_numba_threads_spin_only_when_they_share_their_pool_with_mkl(monkeypatch):
    from tinytorch.kernels.cpu import threads
    monkeypatch.setenv("TINYTORCH_CPU_MATMUL", "numpy")
    assert not threads.shares_pool_with_blas()                  # OpenBLAS's own pool: Numba's waits passively
    for setting in ("auto", "mkl"):
        monkeypatch.setenv("TINYTORCH_CPU_MATMUL", setting)
        assert threads.shares_pool_with_blas() == mkl_matmul.installed()
