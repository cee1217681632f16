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
import functools
import numbers
import os
import re
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


_DEVICE_STRING = re.compile(r"([a-zA-Z_]+)(?::(0|[1-9][0-9]*))?")  # torch's: a type, then maybe ":" and an index


class device:
    """A device name like torch.device: `device("cpu")`, `device("cuda")`, `device("cuda:0")`,
    `device("cuda", 0)`, or `device(0)` (the accelerator's index 0), parsed and refused as torch does."""

    __slots__ = ("type", "index")

    def __init__(self, spec="cpu", index=None):
        if isinstance(spec, device):
            if index is not None:
                raise TypeError(f"device(): argument 'type' must be str, not device (an index was given: {index!r})")
            self.type, self.index = spec.type, spec.index
            return
        if isinstance(spec, numbers.Integral) and not isinstance(spec, bool):
            spec, index = "cuda", _checked_index(spec)
            _accelerator(index)
        elif not isinstance(spec, str):
            raise TypeError(f"device(): expected a device string such as 'cuda:0', a device or an int index, "
                            f"got {type(spec).__name__} {spec!r}")
        kind, idx = _parse(spec)
        if idx is not None and index is not None:
            raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: {spec}")
        self.type = kind
        self.index = idx if idx is not None else None if index is None or index == -1 else _checked_index(index)

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


@functools.lru_cache(maxsize=64)
def _parse(spec):
    """(type, index or None) of a device string, refused as torch refuses it (remembered: the same
    few strings come back all the time)."""
    if not spec:
        raise RuntimeError("Device string must not be empty")
    match = _DEVICE_STRING.fullmatch(spec)
    if match is None:
        raise RuntimeError(f"Invalid device string: {spec!r} (expected a type, then maybe ':' and an index, "
                           "as in 'cpu' or 'cuda:0')")
    kind, idx = match.groups()
    if kind not in ("cpu", "cuda"):
        raise RuntimeError(f"tinytorch: unknown device '{spec}'. Expected one of cpu, cuda device type at start of "
                           f"device string: {spec}")
    return kind, None if idx is None else int(idx)


def _checked_index(index):
    if not isinstance(index, numbers.Integral) or isinstance(index, bool):
        raise TypeError(f"device(): argument 'index' must be int, not {type(index).__name__}")
    if index < 0:
        raise RuntimeError(f"Device index must not be negative (got {index})")
    return int(index)


def _accelerator(index):
    """Refuse device(index) without a GPU, as torch does without an accelerator."""
    try:
        import_cupy()
    except RuntimeError as e:
        raise RuntimeError(f"device({index}): Cannot access accelerator device when none is available. {e}") from None


CPU = device("cpu")
CUDA = device("cuda")


def xp_for(dev):
    """The array module that stores tensors on `dev` (a device, a string, or None for cpu)."""
    if dev is None:
        return np
    kind = _parse(dev)[0] if isinstance(dev, str) else (dev if isinstance(dev, device) else device(dev)).type
    return np if kind == "cpu" else import_cupy()


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
