"""Compile-only check of every Numba-CUDA kernel to PTX, on a machine without a GPU.

The simulator runs kernels as Python, so it accepts code the CUDA compiler rejects (an
untyped variable, a float64 constant, an unsupported call). This compiles each kernel with
NVVM for sm_90 and checks the PTX: no float64 arithmetic (a stray Python float promotes a
float32 kernel to slow doubles) and, for the register-tiled matmul, no local memory (its
accumulator tile must live in registers). Runs where NVVM is installed (the optional
`numba-cuda[cu12]` extra) and no GPU is; skipped otherwise.
"""
import importlib
import importlib.util
import types

import pytest
from numba import config

if config.ENABLE_CUDASIM:
    pytest.skip("compiles real CUDA kernels: run without NUMBA_ENABLE_CUDASIM", allow_module_level=True)

if importlib.util.find_spec("numba_cuda") is None:
    pytest.skip("needs the numba-cuda package with NVVM (pip install 'numba-cuda[cu12]'); numba's own "
                "deprecated numba.cuda types device-function calls differently", allow_module_level=True)

from numba import cuda, float32  # noqa: E402
from numba.cuda.cudadrv import nvvm  # noqa: E402

if not nvvm.is_available():
    pytest.skip("NVVM is not installed (pip install 'numba-cuda[cu12]')", allow_module_level=True)
if cuda.is_available():
    pytest.skip("a real GPU is present: test_kernels_gpu.py compiles and runs the kernels for it "
                "(the stand-in sm_90 device below would leak into its compiled device functions)",
                allow_module_level=True)

softmax, layernorm, matmul, gelu = (importlib.import_module(f"tinytorch.kernels.cuda.{name}")
                                    for name in ("softmax", "layernorm", "matmul", "gelu"))
MATRIX, VECTOR = float32[:, ::1], float32[::1]
ROWS_OUT = (MATRIX, MATRIX)
LAYERNORM_FORWARD = (MATRIX, VECTOR, VECTOR, float32, MATRIX, VECTOR, VECTOR)
KERNELS = [
    (softmax._forward_v1, ROWS_OUT), (softmax._forward_v2, ROWS_OUT), (softmax._forward_v3, ROWS_OUT),
    (softmax._backward_v1, (MATRIX,) * 3), (softmax._backward_v2, (MATRIX,) * 3),
    (layernorm._forward_v1, LAYERNORM_FORWARD), (layernorm._forward_v2, LAYERNORM_FORWARD),
    (layernorm._backward_dx_v1, (MATRIX, MATRIX, VECTOR, VECTOR, VECTOR, MATRIX)),
    (layernorm._backward_dwdb_v1, (MATRIX, MATRIX, VECTOR, VECTOR, VECTOR, VECTOR)),
    (layernorm._backward_v2, (MATRIX, MATRIX, VECTOR, VECTOR, VECTOR, MATRIX, MATRIX, MATRIX)),
    (layernorm._sum_partials, (MATRIX, MATRIX, VECTOR, VECTOR)),
    (matmul._matmul_v1, (MATRIX,) * 3), (matmul._matmul_v2, (MATRIX,) * 3),
    (gelu._forward_v1, (VECTOR,) * 2), (gelu._backward_v1, (VECTOR,) * 3),
] + [(matmul._register_tiled_kernel(*tiling), (MATRIX,) * 3) for tiling in matmul.REGISTER_TILINGS.values()]


@pytest.fixture
def no_device(monkeypatch):
    """Numba asks the current GPU for its compute capability when it types a call to a device
    function; with no GPU, answer sm_90 (the H100)."""
    dispatcher = importlib.import_module("numba.cuda.dispatcher")
    monkeypatch.setattr(dispatcher, "get_current_device", lambda: types.SimpleNamespace(compute_capability=(9, 0)))


@pytest.mark.parametrize("kernel,signature", KERNELS,
                         ids=[f"{k.py_func.__module__.rsplit('.', 1)[-1]}.{k.py_func.__name__}" for k, _ in KERNELS])
def test_kernel_compiles_to_float32_ptx(no_device, kernel, signature):
    ptx, _ = cuda.compile_ptx(kernel.py_func, signature, cc=(9, 0), fastmath=True)
    assert ".entry" in ptx
    assert ".f64" not in ptx
    if kernel.py_func.__name__ == "matmul_register_tiled":
        assert ".local" not in ptx
