"""Devices and array modules: `cpu` is NumPy, `cuda` is CuPy (imported lazily, an optional extra).

Every op is written once against `xp`, the array module of its inputs (chainer's
`get_array_module`): `xp = array_module(x)` gives `numpy` or `cupy`.

CPU memory: a forward+backward step allocates and frees many large temporaries. By default
glibc serves each one from a fresh mmap and unmaps it on free, so every step page-faults its
memory back in (measured: 2x slower than the arithmetic on 1024x1024 float32). Like PyTorch's
caching allocators, tinytorch asks glibc to keep freed blocks for reuse (`keep_freed_memory`,
called on import; set TINYTORCH_KEEP_FREED_MEMORY=0 to leave malloc alone). The cost: the
process's resident memory does not shrink after a peak.
"""
import ctypes
import os
import sys

import numpy as np

_cupy = None
ARRAY_TYPES = (np.ndarray,)  # the raw array types of tensors; cupy.ndarray joins when CuPy loads


def keep_freed_memory(limit=1 << 30):
    """Serve allocations up to `limit` bytes from the heap and never trim it below `limit` free
    bytes (glibc's mallopt M_MMAP_THRESHOLD and M_TRIM_THRESHOLD). Returns whether it applied."""
    if not sys.platform.startswith("linux") or os.environ.get("TINYTORCH_KEEP_FREED_MEMORY") == "0":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (e.g. musl)
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(libc.mallopt(m_mmap_threshold, limit)) and bool(libc.mallopt(m_trim_threshold, limit))


keep_freed_memory()


def import_cupy():
    global _cupy
    if _cupy is None:
        try:
            import cupy
        except ImportError as e:
            raise RuntimeError(
                "tinytorch: device 'cuda' needs CuPy, which is not installed "
                "(pip install 'tinytorch[gpu]' on a machine with an NVIDIA GPU)") from e
        try:
            cupy.cuda.runtime.getDeviceCount()
        except Exception as e:  # CUDA driver missing or no device
            raise RuntimeError(f"tinytorch: device 'cuda' requested but no CUDA GPU is available ({e})") from e
        _cupy = cupy
        global ARRAY_TYPES
        ARRAY_TYPES = (np.ndarray, cupy.ndarray)
    return _cupy


class device:
    """A device name like torch.device: `device("cpu")`, `device("cuda")`, `device("cuda:0")`."""

    __slots__ = ("type", "index")

    def __init__(self, spec="cpu", index=None):
        if isinstance(spec, device):
            spec, index = spec.type, spec.index
        spec = str(spec)
        kind, _, idx = spec.partition(":")
        if kind not in ("cpu", "cuda"):
            raise RuntimeError(f"tinytorch: unknown device '{spec}' (expected 'cpu' or 'cuda')")
        self.type = kind
        self.index = int(idx) if idx else index

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type

    def __hash__(self):
        return hash(self.type)

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        idx = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{idx})"


CPU = device("cpu")
CUDA = device("cuda")


def xp_for(dev):
    """The array module that stores tensors on `dev` (a device, a string, or None for cpu)."""
    if dev is None:
        return np
    kind = dev.type if isinstance(dev, device) else str(dev).partition(":")[0]
    if kind == "cpu":
        return np
    if kind == "cuda":
        return import_cupy()
    raise RuntimeError(f"tinytorch: unknown device '{dev}' (expected 'cpu' or 'cuda')")


def array_module(a):
    """numpy for NumPy arrays and scalars, cupy for CuPy arrays."""
    if _cupy is None or isinstance(a, (np.ndarray, np.generic)):
        return np
    return _cupy.get_array_module(a)


def device_of(a):
    return CPU if isinstance(a, (np.ndarray, np.generic)) else CUDA



def loaded_cupy():
    """CuPy if a tensor has already been put on the GPU (so CuPy is imported), else None."""
    return _cupy
