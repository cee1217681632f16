"""Every Numba-CUDA kernel version against the NumPy oracle, in Numba's CUDA simulator.

`make test` runs this folder in its own process with NUMBA_ENABLE_CUDASIM=1, which runs the
real kernel code with one Python thread per CUDA thread (warp shuffles emulated by
kernels/cuda/simulator.py). Results here are "simulator-verified": correctness of indexing,
tails, barriers and reductions, never speed. Shapes are tiny and awkward: rows that leave
warps or blocks idle, columns wider than a warp but not a multiple of it, matrices that
cut every tile.
"""
import numpy as np
import pytest
from numba import config

if not config.ENABLE_CUDASIM:
    pytest.skip("run with NUMBA_ENABLE_CUDASIM=1 (make test runs tests/cudasim in its own process)",
                allow_module_level=True)

from tinytorch.kernels import cuda  # noqa: E402
from tinytorch.kernels.validate import check_outputs, make_args  # noqa: E402

ROW_SHAPES = [(1, 1), (7, 65), (2, 3, 33)]  # (..., C)
MATMUL_SHAPES = [(1, 1, 1), (13, 33, 70), (66, 9, 7)]  # (M, K, N): 70 columns and 66 rows cross a 64-wide tile
BLOCK_SIZES = {"matmul_v2": (64,), "matmul_v3": (64,)}  # square tiles of 8; 64 x 64 register tiles

VERSIONS = [(name, kernel) for name, kernels in cuda.VERSIONS.items() for kernel in kernels]


@pytest.mark.parametrize("case", range(3))
@pytest.mark.parametrize("name,kernel", VERSIONS, ids=[k.__name__ for _, k in VERSIONS])
def test_version_matches_oracle(name, kernel, case):
    shape = (MATMUL_SHAPES if name == "matmul" else ROW_SHAPES)[case]
    args = make_args(name, shape, np.random.default_rng(case))
    for block_size in BLOCK_SIZES.get(kernel.__name__, (32, 64)):
        check_outputs(name, kernel(*args, block_size=block_size), args)


@pytest.mark.parametrize("forward", cuda.VERSIONS["softmax_forward"], ids=lambda f: f.__name__)
def test_softmax_masked_entries_are_exact_zeros(forward):
    """Causal mask: whole lanes of v3's warp see only -inf and must merge as empty."""
    x = np.random.default_rng(3).standard_normal((3, 37)).astype(np.float32)
    mask = np.triu(np.ones((3, 37), bool), k=1)
    x[mask] = -np.inf
    out = forward(x, block_size=32)
    assert (out[mask] == 0).all()
    check_outputs("softmax_forward", out, (x,))


@pytest.mark.parametrize("call, message", [
    (lambda x: cuda.softmax_forward_v2(x, block_size=96), r"softmax_forward.*power of two.*96"),
    (lambda x: cuda.softmax_forward_v3(x, block_size=48), r"softmax_forward.*multiple of 32.*48"),
    (lambda x: cuda.matmul_v2(x, x.T, block_size=128), r"matmul_v2.*64, 256 or 1024.*128"),
    (lambda x: cuda.matmul_v3(x, x.T, block_size=1024), r"matmul_v3.*\[64, 256\].*1024"),
    (lambda x: cuda.layernorm_backward_v2(x, x, x[0], x[:, 0], x[:, 0], block_size=1024),
     r"layernorm_backward.*\[32, 512\].*1024"),
    (lambda x: cuda.matmul(x, x), r"matmul.*\(2, 3\).*\(2, 3\)"),
])
def test_bad_launch_arguments_raise_a_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call(np.ones((2, 3), np.float32))
