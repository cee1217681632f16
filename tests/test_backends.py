"""tinytorch.backends: which kernel implementation `get_kernel(name, xp)` returns."""
import os
import subprocess
import sys
import types

import numpy as np
import pytest

from tinytorch import backends
from tinytorch.kernels import NAMES, cpu, reference
from tinytorch.kernels.validate import check_outputs, make_args

FAKE_CUPY = types.ModuleType("cupy")  # get_kernel only looks at the module's name


@pytest.mark.parametrize("name", NAMES)
def test_numpy_setting_returns_the_oracle(monkeypatch, name):
    monkeypatch.setattr(backends, "kernels", "numpy")
    assert backends.get_kernel(name, np) is getattr(reference, name)


@pytest.mark.parametrize("name", NAMES)
def test_numba_setting_returns_the_cpu_kernel_with_the_same_results(monkeypatch, name):
    monkeypatch.setattr(backends, "kernels", "numba")
    kernel = backends.get_kernel(name, np)
    assert kernel is getattr(cpu, name)
    args = make_args(name, (7, 33, 13) if name == "matmul" else (3, 7, 33), np.random.default_rng(0))
    check_outputs(name, kernel(*args), args)


def test_attribute_assignment_is_read_at_call_time(monkeypatch):
    monkeypatch.setattr(backends, "kernels", "numpy")
    before = backends.get_kernel("softmax_forward", np)
    backends.kernels = "numba"
    assert (before, backends.get_kernel("softmax_forward", np)) == (reference.softmax_forward, cpu.softmax_forward)


@pytest.mark.parametrize("setting, value, pattern", [
    ("kernels", "nmba", r"backends\.kernels must be one of \('numpy', 'numba'\).*TINYTORCH_KERNELS.*'nmba'"),
    ("cuda_matmul", "cutlass", r"backends\.cuda_matmul must be one of \('cublas', 'numba'\).*'cutlass'"),
    ("cuda_kernels", "triton", r"backends\.cuda_kernels must be one of \('numba', 'cupy'\).*CUDA_KERNELS.*'triton'"),
])
def test_bad_setting_raises_a_clear_error(monkeypatch, setting, value, pattern):
    monkeypatch.setattr(backends, setting, value)
    with pytest.raises(ValueError, match=pattern):
        backends.get_kernel("matmul" if setting != "cuda_kernels" else "softmax_forward",
                            np if setting == "kernels" else FAKE_CUPY)


def test_bad_name_or_array_module_raises():
    with pytest.raises(ValueError, match=r"unknown kernel 'softmax'.*'softmax_forward'"):
        backends.get_kernel("softmax", np)
    with pytest.raises(ValueError, match=r"xp must be numpy or cupy"):
        backends.get_kernel("matmul", types)


def test_environment_variables_set_the_defaults():
    env = dict(os.environ, TINYTORCH_KERNELS="numba", TINYTORCH_CUDA_MATMUL="numba", TINYTORCH_CUDA_KERNELS="cupy")
    code = "import tinytorch.backends as b; print(b.kernels, b.cuda_matmul, b.cuda_kernels)"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["numba", "numba", "cupy"]


def test_cupy_matmul_is_cublas_unless_numba_is_asked_for(monkeypatch):
    monkeypatch.setattr(backends, "cuda_matmul", "cublas")
    assert backends.get_kernel("matmul", FAKE_CUPY) is reference.matmul
    monkeypatch.setattr(backends, "cuda_matmul", "numba")
    assert backends.get_kernel("matmul", FAKE_CUPY).__wrapped__.__name__ == "matmul_v3"


@pytest.mark.parametrize("name", [n for n in NAMES if n != "matmul"])
def test_cuda_kernels_cupy_setting_returns_the_oracle_for_every_dtype(monkeypatch, name):
    monkeypatch.setattr(backends, "cuda_kernels", "cupy")
    assert backends.get_kernel(name, FAKE_CUPY) is getattr(reference, name)


@pytest.mark.parametrize("name", [n for n in NAMES if n != "matmul"])
def test_cupy_routes_float32_to_numba_cuda_and_other_dtypes_to_the_oracle(monkeypatch, name):
    """Checked with stand-ins for the CUDA kernels: there is no GPU here."""
    import tinytorch.kernels.cuda as cuda_kernels

    monkeypatch.setattr(backends, "cuda_matmul", "cublas")
    backends._float32_or_oracle.cache_clear()
    monkeypatch.setattr(cuda_kernels, name, lambda *args: "numba-cuda")
    kernel = backends.get_kernel(name, FAKE_CUPY)
    backends._float32_or_oracle.cache_clear()
    args32 = make_args(name, (3, 7), np.random.default_rng(0))
    args64 = make_args(name, (3, 7), np.random.default_rng(0), np.float64)
    assert kernel(*args32) == "numba-cuda"
    check_outputs(name, kernel(*args64), args64)


@pytest.mark.parametrize("name", sorted(backends.CPU_ONLY))
def test_cpu_only_kernels_exist_only_for_numba_on_numpy(monkeypatch, name):
    monkeypatch.setattr(backends, "kernels", "numpy")
    assert backends.cpu_only_kernel(name, np) is None
    monkeypatch.setattr(backends, "kernels", "numba")
    assert callable(backends.cpu_only_kernel(name, np))
    assert backends.cpu_only_kernel(name, FAKE_CUPY) is None


def test_cpu_only_kernel_refuses_an_unknown_name():
    with pytest.raises(ValueError, match=r"cpu_only_kernel: unknown kernel 'adagrad'"):
        backends.cpu_only_kernel("adagrad", np)
