"""tinytorch.kernels: every implementation of the framework's hot kernels, forward and backward.

Laid out like llm.c's dev/cuda:
  reference.py  the oracles of the kernels with numbered versions (matmul, softmax, layernorm, GELU,
                attention):
                plain NumPy, for tests and benchmarks only
  numpy/        one NumPy (or CuPy) entry for every kernel name below: what runs when the Numba
                kernels are off (TINYTORCH_KERNELS=numpy), for other dtypes, and on the GPU where
                there is no CUDA kernel
  cpu/          Numba CPU kernels (numbered versions from naive to fast, one file per kernel) and
                MKL's gemm
  cuda/         Numba-CUDA kernels
Each version is validated against its oracle (reference.py, or the NumPy entry) before it is timed
(benchmarks/bench_kernels.py). Every entry point of a name takes the same arguments and returns the
same results within float32 tolerance (bit for bit for box_muller_blocks). Nothing here imports the
framework; tinytorch.backends.kernel(name, array) picks the implementation. Import `cpu` and `cuda`
explicitly (`from tinytorch.kernels import cpu`); they load Numba.
"""
from . import reference

ORACLE_NAMES = ("matmul", "softmax_forward", "softmax_backward", "layernorm_forward", "layernorm_backward",
                "gelu_forward", "gelu_backward")
NAMES = ORACLE_NAMES + ("gelu_backward_and_forward_", "cross_entropy_forward", "cross_entropy_backward",
                        "attention_softmax_forward_", "attention_softmax_backward_", "adam_update_",
                        "embedding_backward", "box_muller_blocks", "power", "power_backward",
                        "attention_heads_forward_", "attention_heads_backward_", "lstm_cell_forward_",
                        "lstm_cell_backward_", "lstm_forward_", "lstm_backward_", "sgd_update_",
                        "mt19937_words", "mt19937_bernoulli", "masked_scale",
                        "im2col", "col2im", "max_pool_forward", "max_pool_backward")
# an oracle (reference.py), a NumPy entry and Numba-CUDA versions, but no Numba CPU twin: on the CPU the
# NumPy entry (the fused attention Function runs its own CPU path and calls these on the GPU only)
GPU_ONLY_NAMES = ("attention_forward", "attention_backward")
NAMES += GPU_ONLY_NAMES
