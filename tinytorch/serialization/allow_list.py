"""The names a weights-only load answers: torch's default allow-list, as tinytorch objects, and the
user's safe globals.

A pickle names each class or function it uses by module and qualified name (`GLOBAL
torch._utils _rebuild_tensor_v2`). torch.load(weights_only=True) answers only the names on its
allow-list; tinytorch answers the same names with its own objects: `torch.Size` is
tinytorch.Size, `torch.FloatStorage` a float32 storage type, `torch._utils._rebuild_tensor_v2`
a function that builds a tinytorch tensor. A name is looked up in these tables and nowhere else:
nothing is ever imported.

Users add their own classes (a config dataclass) with `add_safe_globals`. As in torch, an added
object answers the name `{__module__}.{__qualname__}` (a class defined in the script that saved
the checkpoint is `__main__.GPTConfig`), or the name given with it as a pair
`(GPTConfig, "__main__.GPTConfig")`. Names in the modules sys, os, posix and nt are refused even
when added.
"""
from collections import Counter, OrderedDict

from .. import dtypes
from ..device import device
from ..nn.parameter import Parameter
from ..tensor import Size, Tensor
from .storages import (STORAGE_TYPES, rebuild_from_type_v2, rebuild_parameter, rebuild_parameter_with_state,
                       rebuild_tensor, rebuild_tensor_v2)

BLOCKED_MODULES = frozenset({"sys", "os", "posix", "nt"})


def latin1_bytes(text, encoding):
    """`_codecs.encode` as protocol-2 pickles use it to spell bytes: encode(text, 'latin1'). Only
    Latin-1 is accepted: looking up any other codec may import a module."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise ValueError(f"_codecs.encode is allowed only as encode(str, 'latin1'), got encoding {encoding!r}")
    return text.encode("latin-1")


def bytearray_of(data=b""):
    """`builtins.bytearray` as pickles use it: bytearray(bytes)."""
    if not isinstance(data, (bytes, bytearray)):
        raise ValueError(f"bytearray is allowed only from bytes, got {type(data).__name__}")
    return bytearray(data)


TORCH_GLOBALS = {
    "collections.OrderedDict": OrderedDict,
    "collections.Counter": Counter,
    "_codecs.encode": latin1_bytes,
    "builtins.bytearray": bytearray_of,
    "builtins.set": set,
    "builtins.complex": complex,
    "torch.Size": Size,
    "torch.device": device,
    "torch.Tensor": Tensor,
    "torch.nn.parameter.Parameter": Parameter,
    "torch._utils._rebuild_tensor": rebuild_tensor,
    "torch._utils._rebuild_tensor_v2": rebuild_tensor_v2,
    "torch._utils._rebuild_parameter": rebuild_parameter,
    "torch._utils._rebuild_parameter_with_state": rebuild_parameter_with_state,
    "torch._tensor._rebuild_from_type_v2": rebuild_from_type_v2,
    **{f"torch.{d.name}": d for d in (*dtypes.ALL, dtypes.bfloat16)},
    **{f"{module}.{t.name}": t for t in STORAGE_TYPES.values() for module in ("torch", "torch.cuda")},
}

_safe_globals = []  # what add_safe_globals was given, in order


def add_safe_globals(safe_globals):
    """Allow a weights-only load to use these classes or functions (torch.serialization.add_safe_globals).

    Each item is an object, answering the name `{obj.__module__}.{obj.__qualname__}`, or a pair
    `(obj, "module.qualname")` naming it as the checkpoint does. Allowed classes may be
    instantiated and have their state set while loading, and allowed functions called: add only
    what you trust.
    """
    for item in safe_globals:
        _check_entry(item)
        if item not in _safe_globals:
            _safe_globals.append(item)


def get_safe_globals():
    """The objects (and pairs) added with `add_safe_globals`."""
    return list(_safe_globals)


def clear_safe_globals():
    """Forget everything added with `add_safe_globals`."""
    _safe_globals.clear()


class safe_globals:
    """Context manager: `with safe_globals([GPTConfig]): tinytorch.load(path)` allows the items
    inside the block only."""

    def __init__(self, safe_globals):
        self.safe_globals = list(safe_globals)
        self._added = []

    def __enter__(self):
        self._added = [item for item in self.safe_globals if item not in _safe_globals]
        add_safe_globals(self._added)

    def __exit__(self, *exc):
        _safe_globals[:] = [item for item in _safe_globals if item not in self._added]


def user_globals():
    """{"module.qualname": object} for everything added with `add_safe_globals`."""
    named = {}
    for item in _safe_globals:
        obj, name = item if isinstance(item, tuple) else (item, f"{item.__module__}.{item.__qualname__}")
        named[name] = obj
    return named


def _check_entry(item):
    if isinstance(item, tuple):
        if len(item) != 2 or not isinstance(item[1], str):
            raise TypeError(f"add_safe_globals: expected an object or a pair (object, 'module.qualname'), got {item!r}")
    elif not (isinstance(getattr(item, "__module__", None), str) and hasattr(item, "__qualname__")):
        raise TypeError(f"add_safe_globals: {item!r} has no __module__ and __qualname__; "
                        "give it as a pair (object, 'module.qualname')")
