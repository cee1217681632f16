"""Kernel dispatch: the one place where the framework picks an implementation of its hot kernels.

The fused ops call `get_kernel(name, xp)` for `matmul`, `softmax_forward`, `softmax_backward`,
`layernorm_forward`, `layernorm_backward`, `gelu_forward` and `gelu_backward`; every implementation takes the arguments of the
NumPy oracle in `tinytorch.kernels.reference` and returns the same results within float32
tolerance.

    tinytorch.backends.kernels = "numba"       # CPU: "numpy" (the oracles, default) or "numba"
                                               # (also Adam's update, the embedding scatter-add,
                                               # attention's softmax and cross-entropy: cpu_only_kernel)
    tinytorch.backends.cuda_kernels = "cupy"   # GPU softmax/layernorm/gelu: "numba" (Numba-CUDA, default)
                                               # or "cupy" (the oracles run by CuPy)
    tinytorch.backends.cuda_matmul = "numba"   # GPU matmul: "cublas" (CuPy, default) or "numba"
    tinytorch.backends.cpu_matmul = "mkl"      # CPU linear-layer products: "numpy" (NumPy's BLAS,
                                               # default) or "mkl" (Intel MKL's gemm, see cpu_matmul.py)

All are plain attributes read at every call; their defaults come from the environment
variables TINYTORCH_KERNELS, TINYTORCH_CUDA_KERNELS, TINYTORCH_CUDA_MATMUL and
TINYTORCH_CPU_MATMUL. `with tinytorch.backends.using(kernels="numba"):` switches them for a block. The Numba-CUDA kernels are float32: other dtypes run the oracle in CuPy.
"""
import contextlib
import functools
import importlib
import os

from .kernels import NAMES, reference

CPU_KERNELS = ("numpy", "numba")
CUDA_KERNELS = ("numba", "cupy")
CUDA_MATMULS = ("cublas", "numba")
CPU_MATMULS = ("numpy", "mkl")

kernels = os.environ.get("TINYTORCH_KERNELS", "numpy")
cuda_kernels = os.environ.get("TINYTORCH_CUDA_KERNELS", "numba")
cuda_matmul = os.environ.get("TINYTORCH_CUDA_MATMUL", "cublas")
cpu_matmul = os.environ.get("TINYTORCH_CPU_MATMUL", "numpy")


SETTINGS = ("kernels", "cuda_kernels", "cuda_matmul", "cpu_matmul")


@contextlib.contextmanager
def using(**settings):
    """Switch settings for the block and restore them after it: `with using(kernels="numba"):`.
    A setting given as None keeps its current value."""
    unknown = sorted(settings.keys() - set(SETTINGS))
    if unknown:
        raise ValueError(f"tinytorch.backends.using: unknown setting {unknown[0]!r}, expected one of {SETTINGS}")
    before = {name: globals()[name] for name in settings}
    globals().update({name: value for name, value in settings.items() if value is not None})
    try:
        yield
    finally:
        globals().update(before)


def _checked(setting, value, choices, env):
    if value not in choices:
        raise ValueError(f"tinytorch.backends.{setting} must be one of {choices} "
                         f"(set it or the environment variable {env}), got {value!r}")
    return value


def cpu_matmul_choice():
    """`cpu_matmul`, checked: "numpy" or "mkl"."""
    return _checked("cpu_matmul", cpu_matmul, CPU_MATMULS, "TINYTORCH_CPU_MATMUL")


def get_kernel(name, xp):
    """The implementation of kernel `name` for arrays of module `xp` (numpy or cupy).

    numpy: the oracle (kernels="numpy") or the Numba CPU kernel (kernels="numba").
    cupy: the Numba-CUDA kernel for float32 (cuda_kernels="numba"; the oracle on CuPy for other
    dtypes or cuda_kernels="cupy"); matmul is the oracle, i.e. cuBLAS through CuPy
    (cuda_matmul="cublas"), or the Numba-CUDA kernel.
    """
    if name not in NAMES:
        raise ValueError(f"tinytorch.backends.get_kernel: unknown kernel {name!r}, expected one of {NAMES}")
    module = getattr(xp, "__name__", None)
    if module == "numpy":
        if _checked("kernels", kernels, CPU_KERNELS, "TINYTORCH_KERNELS") == "numpy":
            return getattr(reference, name)
        return getattr(_kernel_module(".kernels.cpu"), name)
    if module == "cupy":
        matmul_choice = _checked("cuda_matmul", cuda_matmul, CUDA_MATMULS, "TINYTORCH_CUDA_MATMUL")
        if name == "matmul":
            return reference.matmul if matmul_choice == "cublas" else _float32_or_oracle(name)
        if _checked("cuda_kernels", cuda_kernels, CUDA_KERNELS, "TINYTORCH_CUDA_KERNELS") == "cupy":
            return getattr(reference, name)
        return _float32_or_oracle(name)
    raise ValueError(f"tinytorch.backends.get_kernel: xp must be numpy or cupy, got {xp!r}")


@functools.cache
def _kernel_module(path):
    """kernels.cpu or kernels.cuda, imported on first use (they load Numba) and then kept."""
    return importlib.import_module(path, __package__)


@functools.cache
def _float32_or_oracle(name):
    cuda_kernel = getattr(_kernel_module(".kernels.cuda"), name)
    oracle = getattr(reference, name)

    @functools.wraps(cuda_kernel)
    def kernel(*args, **kwargs):
        return (cuda_kernel if args[0].dtype == "float32" else oracle)(*args, **kwargs)
    return kernel


CPU_ONLY = {"adam_update_": ".kernels.cpu.adam", "embedding_backward": ".kernels.cpu.embedding",
            "attention_softmax_forward_": ".kernels.cpu.attention_softmax",
            "attention_softmax_backward_": ".kernels.cpu.attention_softmax",
            "cross_entropy_forward": ".kernels.cpu.cross_entropy",
            "cross_entropy_backward": ".kernels.cpu.cross_entropy",
            "gelu_backward_and_forward_": ".kernels.cpu.gelu"}


def cpu_only_kernel(name, xp):
    """A Numba CPU kernel with no oracle or CUDA twin in `get_kernel`'s set (CPU_ONLY: Adam's
    one-pass in-place update, the embedding scatter-add, attention's in-place softmax, plain
    cross-entropy, GELU's backward that also gives the GELU) when kernels="numba" and the
    arrays are NumPy's; None otherwise, and the caller runs its own NumPy or CuPy code."""
    if name not in CPU_ONLY:
        raise ValueError(f"tinytorch.backends.cpu_only_kernel: unknown kernel {name!r}, expected one of {tuple(CPU_ONLY)}")
    if getattr(xp, "__name__", None) != "numpy" or _checked("kernels", kernels, CPU_KERNELS,
                                                             "TINYTORCH_KERNELS") == "numpy":
        return None
    return getattr(_kernel_module(CPU_ONLY[name]), name)
