"""tinytorch: a deep-learning framework written from scratch on NumPy (CPU) and CuPy (GPU).

`import tinytorch as torch` and write PyTorch: tensors with autograd, `nn`, `optim`,
`nn.functional` with hand-derived fused backward passes, and safe safetensors checkpoints.
"""
import importlib

from . import dtypes as _dtypes
from .autocast_mode import (autocast, get_autocast_dtype, is_autocast_enabled, set_autocast_dtype,
                            set_autocast_enabled)
from .autograd import Function, enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .backends import get_num_threads, set_num_threads
from .creation import (arange, as_tensor, bernoulli, empty, empty_like, eye, from_numpy, full, full_like, linspace,
                       normal, ones, ones_like, rand, rand_like, randint, randint_like, randn, randn_like, randperm,
                       tensor, zeros, zeros_like)
from .device import device
from .dtypes import get_default_dtype, set_default_dtype
from .functions import *  # noqa: F401,F403  (torch-namespace functions)
from .ops.errors import DeviceError, ShapeError
from .precision import get_float32_matmul_precision, set_float32_matmul_precision
from .printing import set_printoptions
from .random import Generator, default_generator, initial_seed, manual_seed, seed
from .random_state import get_rng_state, set_rng_state
from .serialization import load, save
from .tensor import Size, Tensor

from . import autograd, backends, cuda, data, functions, nn, testing  # noqa: E402  (nn installs Tensor.softmax, ...)

dtype = _dtypes.dtype
float16 = half = _dtypes.float16
bfloat16 = _dtypes.bfloat16
float32 = _dtypes.float32
float64 = double = _dtypes.float64
uint8 = _dtypes.uint8
int16 = short = _dtypes.int16
int32 = _dtypes.int32
int64 = long = _dtypes.int64
bool = _dtypes.bool_
float = _dtypes.float32
int = _dtypes.int32

__version__ = "0.1.0"

_LAZY = {"amp", "cpu", "distributed", "optim", "utils", "kernels", "models", "tokenizers", "engine", "profiler", "distributions"}


def __getattr__(name):
    if name in _LAZY:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"tinytorch does not support 'torch.{name}' yet")
