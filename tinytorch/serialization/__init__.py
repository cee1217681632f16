"""`tinytorch.save` / `tinytorch.load`: PyTorch's checkpoint formats and safetensors, loaded without
ever running code from the file.

The formats, one module each:

    torch_zip           PyTorch's zip format (torch.save since 1.6): what `save` writes, unless the
                        name ends in `.safetensors`; torch.load(f, weights_only=True) reads it
    torch_legacy        PyTorch's format before 1.6: read only
    safetensors_format  tinytorch's native checkpoints (models/ write these): written for names
                        ending in `.safetensors`

`load` tells them apart by their first bytes, never by the name. The pickles inside torch's
formats are read by `weights_only_unpickler` with torch's weights_only rules: names resolve only
through `allow_list` (tensors, parameters, containers, torch.Size, devices, dtypes), nothing is
imported, and only allow-listed things are called. Classes of your own (a config dataclass)
need `add_safe_globals([...])` or the `safe_globals([...])` context manager, as in torch.
`weights_only=False` is refused: there is no way to run code from a file.

Saving to a path is atomic (atomic.py): a temporary file in the same folder, fsync, rename.
"""
import contextlib
import os

from . import safetensors_format, torch_legacy, torch_zip
from .allow_list import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals
from .atomic import replacing
from .storages import restorer
from .weights_only_unpickler import UnpicklingError

__all__ = ["save", "load", "add_safe_globals", "clear_safe_globals", "get_safe_globals", "safe_globals",
           "UnpicklingError"]

NO_CODE = ("tinytorch.load: {} is not supported: tinytorch never runs code from a file, and an unrestricted "
           "unpickler runs whatever code the file holds. Load with weights_only=True (the default); if the file "
           "holds objects of your own classes, allow them first with "
           "tinytorch.serialization.add_safe_globals([YourClass])")


def save(obj, f):
    """Write `obj` to `f`, a path or a binary file object, in PyTorch's zip format (what torch.save
    writes), or in safetensors when `f` is a path ending in `.safetensors`."""
    if isinstance(f, (str, bytes, os.PathLike)):
        path = os.fsdecode(f)
        if path.endswith(".safetensors"):
            safetensors_format.save(obj, path)
            return
        with replacing(path) as tmp, open(tmp, "wb") as file:
            torch_zip.save(obj, file, torch_zip.archive_name(path))
    elif callable(getattr(f, "write", None)):
        torch_zip.save(obj, f, "archive")
        f.flush()
    else:
        raise TypeError(f"tinytorch.save: expected a file path or a binary file object, got {type(f).__name__}")


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None):
    """Read a checkpoint from `f` (a path, or a binary file object that can seek): PyTorch's zip
    or legacy format, or safetensors, told apart by their first bytes.

    `map_location` is torch.load's: None keeps tensors where they were saved; 'cpu', 'cuda' or a
    device sends them all there; a dict maps saved locations ({'cuda:0': 'cpu'}); a callable
    gets (storage, location) and returns a storage (or None for the saved location).
    `weights_only` must stay True (None means True, as in torch), `pickle_module` None.
    """
    if weights_only is False:
        raise ValueError(NO_CODE.format("weights_only=False"))
    if pickle_module is not None:
        raise ValueError(NO_CODE.format("a pickle_module"))
    if mmap:
        raise ValueError("tinytorch.load: mmap=True is not supported; tensors are read into memory")
    restore = restorer(map_location)
    with _opened(f) as (file, path, source):
        start = file.tell()
        head = file.read(16)
        file.seek(start)
        if not head:
            raise RuntimeError(f"tinytorch.load: '{source}' is empty")
        if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            return torch_zip.load(file, source, restore)
        if safetensors_format.is_safetensors(head):
            return safetensors_format.load(file, path, source, restore)
        return torch_legacy.load(file, source, restore)


@contextlib.contextmanager
def _opened(f):
    """(binary file, path or None, name for messages) for a path or a file object."""
    if isinstance(f, (str, bytes, os.PathLike)):
        path = os.fsdecode(f)
        with open(path, "rb") as file:
            yield file, path, path
        return
    if not all(callable(getattr(f, name, None)) for name in ("read", "seek", "tell")):
        raise TypeError(f"tinytorch.load: expected a file path or a binary file object with read and seek, "
                        f"got {type(f).__name__}")
    yield f, None, getattr(f, "name", None) or f"<{type(f).__name__}>"
