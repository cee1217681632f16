"""tinytorch.kernels: hand-written matmul, softmax, layernorm and GELU kernels, forward and backward.

Laid out like llm.c's dev/cuda: `reference` holds the NumPy oracles; `cpu` (Numba) and
`cuda` (Numba-CUDA) hold numbered versions from naive to fast, one file per kernel, each
validated against the oracle before it is timed (benchmarks/bench_kernels.py). Every entry
point takes the oracle's arguments: `matmul(a, b)`, `softmax_forward(x)`,
`softmax_backward(dout, out)`, `layernorm_forward(x, w, b, eps)`,
`layernorm_backward(dout, x, w, mean, rstd)`, `gelu_forward(x)`, `gelu_backward(dout, x)`. They are plain array functions: nothing here
imports the framework, which dispatches to them from `tinytorch.backends`.
Import `cpu` and `cuda` explicitly (`from tinytorch.kernels import cpu`); they load Numba.
"""
from . import reference

NAMES = ("matmul", "softmax_forward", "softmax_backward", "layernorm_forward", "layernorm_backward",
         "gelu_forward", "gelu_backward")
