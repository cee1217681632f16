"""tinytorch.cpu_matmul: MKL's gemm (backends.cpu_matmul = "mkl") gives NumPy's products for
every operand layout it takes, falls back to NumPy for the rest, and the linear layers run
through it match torch; asking for MKL where it is missing is a clear error."""
import numpy as np
import pytest
import torch.nn.functional as TF

import tinytorch
import tinytorch.backends as backends
import tinytorch.nn.functional as F
from harness import check_op
from tinytorch import cpu_matmul

needs_mkl = pytest.mark.skipif(not cpu_matmul.mkl_available(), reason="the optional mkl extra is not installed "
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


@needs_mkl
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m,k,n", [(7, 5, 3), (1, 4, 6), (6, 1, 2), (3, 4, 1), (64, 33, 17)])
def test_mkl_products_match_numpy_in_every_layout(m, k, n, dtype, monkeypatch):
    monkeypatch.setattr(backends, "cpu_matmul", "mkl")
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    for a_name, a in layouts(rng, (m, k), dtype).items():
        for b_name, b in layouts(rng, (k, n), dtype).items():
            got = cpu_matmul.matmul(a, b)
            assert got.shape == (m, n) and got.dtype == dtype and got.flags.c_contiguous, (a_name, b_name)
            np.testing.assert_allclose(got, a @ b, **tol, err_msg=f"{a_name} @ {b_name}")


@needs_mkl
def test_mkl_is_called_for_gemm_layouts_and_numpy_takes_the_rest(monkeypatch):
    monkeypatch.setattr(backends, "cpu_matmul", "mkl")
    calls = []
    real = cpu_matmul._gemms()
    monkeypatch.setattr(cpu_matmul, "_gemms", lambda: tuple((lambda *a, f=f: calls.append(1) or f(*a)) for f in real))
    a = np.ones((4, 3), np.float32)
    cpu_matmul.matmul(a, a.T)
    assert len(calls) == 1
    for x, y in ((a, a.T.astype(np.float64)), (a.astype(np.int64), a.T.astype(np.int64)), (a[:, ::2], a[:2]),
                 (np.ones((0, 3), np.float32), a.T)):
        np.testing.assert_array_equal(cpu_matmul.matmul(x, y), x @ y)
    assert len(calls) == 1


@needs_mkl
@pytest.mark.parametrize("bias", [True, False])
def test_linear_and_gelu_linear_through_mkl_match_torch(bias, monkeypatch):
    monkeypatch.setattr(backends, "cpu_matmul", "mkl")
    rng = np.random.default_rng(3)
    x, w, h, w2 = (rng.standard_normal(s).astype(np.float32) for s in ((2, 5, 8), (6, 8), (2, 5, 6), (4, 6)))
    b, b2 = ([rng.standard_normal(n).astype(np.float32)] if bias else [] for n in (6, 4))
    tol = dict(atol=1e-5, rtol=1e-4)
    check_op(F.linear, TF.linear, x, w, *b, naive=F.linear_naive, **tol)
    check_op(lambda h, w, *b: F.gelu_linear(h, w, *b, approximate="tanh"),
             lambda h, w, *b: TF.linear(TF.gelu(h, approximate="tanh"), w, *b), h, w2, *b2,
             naive=lambda h, w, *b: F.gelu_linear_naive(h, w, *b, approximate="tanh"), **tol)


def test_asking_for_mkl_without_it_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(backends, "cpu_matmul", "mkl")
    monkeypatch.setattr(cpu_matmul, "_MKL_FILES", ("libmkl_rt_missing.so",))
    monkeypatch.setattr(cpu_matmul.ctypes.util, "find_library", lambda name: None)
    cpu_matmul._gemms.cache_clear()
    try:
        with pytest.raises(RuntimeError, match=r"cpu_matmul='mkl' needs Intel MKL.*pip install 'tinytorch\[mkl\]'"):
            F.linear(tinytorch.ones(2, 3), tinytorch.ones(4, 3))
        assert not cpu_matmul.mkl_available()
    finally:
        cpu_matmul._gemms.cache_clear()


def test_an_unknown_cpu_matmul_setting_is_refused(monkeypatch):
    monkeypatch.setattr(backends, "cpu_matmul", "openblas")
    with pytest.raises(ValueError, match=r"cpu_matmul must be one of \('numpy', 'mkl'\).*TINYTORCH_CPU_MATMUL"):
        F.linear(tinytorch.ones(2, 3), tinytorch.ones(4, 3))

