"""Devices and array modules: `cpu` is NumPy, `cuda` is CuPy (imported lazily, an optional extra).

Every op is written once against `xp`, the array module of its inputs (chainer's
`get_array_module`): `xp = array_module(x)` gives `numpy` or `cupy`.
"""
import numpy as np

_cupy = None


def _import_cupy():
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
        return _import_cupy()
    raise RuntimeError(f"tinytorch: unknown device '{dev}' (expected 'cpu' or 'cuda')")


def array_module(a):
    """numpy for NumPy arrays and scalars, cupy for CuPy arrays."""
    return np if isinstance(a, (np.ndarray, np.generic)) or _cupy is None else _cupy.get_array_module(a)


def device_of(a):
    return CPU if isinstance(a, (np.ndarray, np.generic)) else CUDA


class cuda:
    """`tinytorch.cuda.is_available()` and `synchronize()`, as in torch.cuda."""

    @staticmethod
    def is_available():
        try:
            _import_cupy()
        except RuntimeError:
            return False
        return True

    @staticmethod
    def synchronize():
        if _cupy is not None:
            _cupy.cuda.Device().synchronize()

    @staticmethod
    def device_count():
        return _cupy.cuda.runtime.getDeviceCount() if cuda.is_available() else 0

    @staticmethod
    def manual_seed(seed):
        if _cupy is not None:
            _cupy.random.seed(seed)

    manual_seed_all = manual_seed
