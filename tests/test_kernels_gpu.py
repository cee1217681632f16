"""Every Numba-CUDA kernel version against the NumPy oracle on a real GPU, with CuPy arrays.

Marked `gpu`: skipped cleanly without CuPy and a CUDA device, and under the simulator
(where numba.cuda.is_available() is True but nothing runs on a GPU). Larger awkward shapes
than the simulator can afford, every block size, and the framework's dispatch to them.
"""
import numpy as np
import pytest
from numba import config

pytestmark = pytest.mark.gpu

if config.ENABLE_CUDASIM:
    pytest.skip("the CUDA simulator is on: these tests need a real GPU", allow_module_level=True)
cupy = pytest.importorskip("cupy", reason="CuPy is not installed (pip install 'tinytorch[gpu]')")
from numba import cuda as numba_cuda  # noqa: E402

if not numba_cuda.is_available():
    pytest.skip("no CUDA GPU is available", allow_module_level=True)

from tinytorch import backends  # noqa: E402
from tinytorch.kernels import ORACLE_NAMES, cuda  # noqa: E402
from tinytorch.kernels.validate import check_outputs, make_args  # noqa: E402

ROW_SHAPES = [(1, 1), (7, 65), (33, 1025), (4, 300, 769), (13, 50257)]  # (..., C)
MATMUL_SHAPES = [(1, 1, 1), (65, 33, 129), (300, 777, 1025), (1031, 1024, 513)]  # (M, K, N)
BLOCK_SIZES = {"matmul_v2": (64, 256, 1024), "matmul_v3": (64, 256), "layernorm_backward_v2": (32, 64, 128, 256, 512)}
ROW_BLOCK_SIZES = (32, 64, 128, 256, 512, 1024)

VERSIONS = [(name, kernel) for name, kernels in cuda.VERSIONS.items() for kernel in kernels]


def on_gpu(args):
    return tuple(cupy.asarray(a) if isinstance(a, np.ndarray) else a for a in args)


@pytest.mark.parametrize("name,kernel", VERSIONS, ids=[k.__name__ for _, k in VERSIONS])
def test_version_matches_oracle_at_every_block_size(name, kernel):
    for case, shape in enumerate(MATMUL_SHAPES if name == "matmul" else ROW_SHAPES):
        args = make_args(name, shape, np.random.default_rng(case))
        for block_size in BLOCK_SIZES.get(kernel.__name__, ROW_BLOCK_SIZES):
            check_outputs(name, kernel(*on_gpu(args), block_size=block_size), args)


@pytest.mark.parametrize("cuda_kernels", backends.CUDA_KERNELS)
@pytest.mark.parametrize("cuda_matmul", backends.CUDA_MATMULS)
@pytest.mark.parametrize("name", ORACLE_NAMES)
def test_dispatch_on_cupy_arrays(name, cuda_matmul, cuda_kernels):
    for dtype in (np.float32, np.float64):
        args = make_args(name, (65, 33, 129) if name == "matmul" else (7, 769), np.random.default_rng(0), dtype)
        gpu_args = on_gpu(args)
        with backends.using(cuda_matmul=cuda_matmul, cuda_kernels=cuda_kernels):
            check_outputs(name, backends.kernel(name, gpu_args[0])(*gpu_args), args)
