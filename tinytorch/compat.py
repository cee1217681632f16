"""Run PyTorch scripts on tinytorch: after `install()`, `import torch` gives tinytorch.

    from tinytorch import compat
    compat.install()
    import torch, torch.nn as nn, torch.nn.functional as F      # all tinytorch now
    from torch.utils.data import DataLoader                      # tinytorch.utils.data.DataLoader

A meta-path finder answers every `torch` and `torch.<sub>` import with an alias module: a
thin module object named `torch.<sub>` that reads each attribute from tinytorch's module of
the same path (`torch.nn.functional` -> `tinytorch.nn.functional`, `torch.cuda` ->
`tinytorch.cuda`). Classes and functions come back unwrapped, so `torch.Tensor is
tinytorch.Tensor` and subclassing `torch.nn.Module` subclasses tinytorch's.

A name tinytorch lacks raises `NotSupportedError` ("tinytorch does not support 'torch.fft'
yet"): as an attribute it is also an AttributeError (so `hasattr(torch, "compile")`-style
feature checks still work), as an import also a ModuleNotFoundError. Names that scripts
touch only for GPU speed or multi-GPU runs have harmless stand-ins (`_FALLBACKS`, used only
where tinytorch itself lacks the name): `torch.compile`, `torch.jit.script` and `torch.jit.trace`
return the model unchanged with a warning, and `torch.jit.save`/`load` and `torch.onnx.export`
import but refuse to run. Mixed precision (`torch.autocast`, `torch.amp`, `torch.cuda.amp`) and the
TF32 flags (`torch.backends.cuda`, `torch.backends.cudnn`) are tinytorch's own. `torch.distributed` and `torch.nn.parallel` are
tinytorch's own (MPI and NCCL engines, DistributedDataParallel).

`python -m tinytorch.run_as_torch script.py [args]` installs this and runs the script.
"""
import importlib
import importlib.abc
import importlib.util
import sys
import types
import typing
import warnings

import tinytorch
from tinytorch import namespace


class NotSupportedError(NotImplementedError):
    """A torch feature that tinytorch does not have yet."""


class NotSupportedAttributeError(AttributeError, NotSupportedError):
    """`torch.X` for an X tinytorch lacks."""


class NotSupportedModuleError(ModuleNotFoundError, NotSupportedError):
    """`import torch.X` for a module tinytorch lacks."""


def _not_supported_message(torch_name):
    return f"tinytorch does not support '{torch_name}' yet"


# ---- stand-ins for names that only tune GPU speed or scale out ----------------------------------
# Training scripts touch these even on a CPU: they wrap the model in torch.compile or check
# for Apple's GPU. Here they run harmlessly; what cannot (saving TorchScript) raises NotSupportedError when called, not when imported.
def compile(model=None, **options):
    """torch.compile: tinytorch has no graph compiler, so the model (or function) runs as it is.
    Works as `compile(model)`, `@compile` and `@compile(mode=...)`."""
    warnings.warn("tinytorch does not support torch.compile; running the model uncompiled", stacklevel=2)
    return model if model is not None else (lambda fn: fn)


def _unchanged(torch_name, what):
    """A stand-in for torch.jit's compilers and markers: returns the function or module it is given
    as it is (so it runs as ordinary Python), warning when `what` names what was skipped. Works
    bare (`@torch.jit.script`), called (`torch.jit.trace(model, example)`) and with options
    only (`@torch.jit.ignore(drop=True)`)."""
    def stand_in(obj=None, *args, **kwargs):
        if not callable(obj):
            return lambda fn: stand_in(fn)
        if what:
            warnings.warn(f"tinytorch does not support {torch_name}; {what}", stacklevel=2)
        return obj
    stand_in.__name__ = stand_in.__qualname__ = torch_name.rpartition(".")[2]
    return stand_in


def _annotate(the_type, value):
    """torch.jit.annotate: the value itself (the type only matters to TorchScript)."""
    return value


class ScriptModule:
    """torch.jit.ScriptModule, for isinstance checks: nothing is one here (no TorchScript)."""


class ScriptFunction:
    """torch.jit.ScriptFunction, for isinstance checks: nothing is one here (no TorchScript)."""


def _unavailable():
    return False


def _refused(torch_name):
    """A callable that can be imported but raises NotSupportedError when called."""
    def refused(*args, **kwargs):
        raise NotSupportedError(_not_supported_message(torch_name))
    refused.__name__ = refused.__qualname__ = torch_name.rpartition(".")[2]
    return refused


def _stand_ins():
    ns = types.SimpleNamespace
    return {
        "torch.compile": compile,
        "torch.cuda.is_bf16_supported": _unavailable,
        "torch.backends.mps": ns(is_available=_unavailable, is_built=_unavailable),
        "torch.jit": _jit(),
        "torch.onnx": ns(export=_refused("torch.onnx.export"), dynamo_export=_refused("torch.onnx.dynamo_export"),
                         is_in_onnx_export=_unavailable),
        "torch.compiler": ns(is_compiling=_unavailable, is_dynamo_compiling=_unavailable, reset=lambda: None,
                             disable=_unchanged("torch.compiler.disable", "")),
    }


def _jit():
    """torch.jit without TorchScript: script and trace hand back what they are given (with a
    warning), the markers (ignore, unused, export) do the same silently, is_scripting and
    is_tracing are False, and save and load refuse."""
    skipped = "the function or module runs unchanged as Python"
    return types.SimpleNamespace(
        script=_unchanged("torch.jit.script", skipped), trace=_unchanged("torch.jit.trace", skipped),
        trace_module=_unchanged("torch.jit.trace_module", skipped), freeze=_unchanged("torch.jit.freeze", skipped),
        ignore=_unchanged("torch.jit.ignore", ""), unused=_unchanged("torch.jit.unused", ""),
        export=_unchanged("torch.jit.export", ""), annotate=_annotate, Final=typing.Final,
        is_scripting=_unavailable, is_tracing=_unavailable, ScriptModule=ScriptModule, ScriptFunction=ScriptFunction,
        save=_refused("torch.jit.save"), load=_refused("torch.jit.load"))


_FALLBACKS = _stand_ins()


# ---- alias modules ---------------------------------------------------------------------------
def _tinytorch_name(torch_name):
    return "tinytorch" + torch_name[len("torch"):]


def _is_namespace(value):
    """Values reached through torch.<path> that get an alias of their own: tinytorch's modules,
    the `tinytorch.cuda` namespace class and the stand-in flag namespaces."""
    if isinstance(value, types.ModuleType):
        return value.__name__.partition(".")[0] == "tinytorch"
    return isinstance(value, types.SimpleNamespace) or value is tinytorch.cuda


class TorchAlias(types.ModuleType):
    """The module `torch.<path>`: attributes come from its tinytorch twin (`__tinytorch__`) on
    first use and are then kept on the alias, so later reads cost a plain module lookup.
    Assignments (`torch.backends.cudnn.benchmark = True`) stay on the alias too."""

    def __init__(self, torch_name, target):
        super().__init__(torch_name, getattr(target, "__doc__", None))
        self.__tinytorch__ = target
        self.__path__ = []

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):  # __version__, __file__, ... of the twin
            try:
                return getattr(self.__tinytorch__, name)
            except AttributeError:
                raise AttributeError(f"module '{self.__name__}' has no attribute '{name}'") from None
        torch_name = f"{self.__name__}.{name}"
        value = _lookup(self.__tinytorch__, name, torch_name)
        if _is_namespace(value):
            value = _alias(torch_name, value)
        setattr(self, name, value)
        return value

    def __dir__(self):
        return sorted(set(dir(self.__tinytorch__)) | set(self.__dict__))

    def __repr__(self):
        return f"<module '{self.__name__}' (tinytorch alias of {getattr(self.__tinytorch__, '__name__', '?')})>"


_MISSING = object()


def _lookup(target, name, torch_name):
    """target.name, else tinytorch's submodule of that name, else a stand-in, else NotSupported."""
    value = _getattr_or_missing(target, name, torch_name)
    if value is _MISSING and isinstance(target, types.ModuleType) and hasattr(target, "__path__"):
        value = _import_or_missing(_tinytorch_name(torch_name))
    if value is _MISSING:
        value = _FALLBACKS.get(torch_name, _MISSING)
    if value is _MISSING:
        raise NotSupportedAttributeError(_not_supported_message(torch_name), name=name, obj=target)
    return value


def _getattr_or_missing(target, name, torch_name):
    try:
        return getattr(target, name)
    except AttributeError:
        return _MISSING
    except ModuleNotFoundError as e:  # a lazily imported tinytorch submodule that does not exist
        if e.name != _tinytorch_name(torch_name):
            raise
        return _MISSING


def _import_or_missing(module_name):
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name != module_name:
            raise
        return _MISSING


def _alias(torch_name, target):
    """The one alias module for torch_name, registered in sys.modules so imports find it too."""
    existing = sys.modules.get(torch_name)
    if isinstance(existing, TorchAlias) and existing.__tinytorch__ is target:
        return existing
    alias = TorchAlias(torch_name, target)
    sys.modules[torch_name] = alias
    return alias


def resolve(torch_name):
    """The alias module for a dotted torch module name ('torch', 'torch.nn.functional', ...)."""
    if torch_name == "torch":
        return _alias("torch", tinytorch)
    parent, _, leaf = torch_name.rpartition(".")
    try:
        value = getattr(resolve(parent), leaf)
    except NotSupportedAttributeError:
        # No `name=`: Python would then swallow the error inside `from torch.nn import Conv2d` and
        # report its generic "cannot import name" instead of this message.
        raise NotSupportedModuleError(_not_supported_message(torch_name)) from None
    if not isinstance(value, TorchAlias):
        raise ModuleNotFoundError(f"No module named '{torch_name}' ('{leaf}' is not a module in tinytorch either)",
                                  name=torch_name)
    return value


class _TorchFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answers `import torch` and `import torch.<sub>` with alias modules."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == "torch" or fullname.startswith("torch."):
            return importlib.util.spec_from_loader(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        return resolve(spec.name)

    def exec_module(self, module):
        pass


def installed():
    """Whether install() has made `import torch` give tinytorch in this process."""
    return any(isinstance(f, _TorchFinder) for f in sys.meta_path)


def install():
    """From now on in this process, `import torch` (and any `torch.<sub>` import) gives
    tinytorch. Returns the `torch` alias. Calling it again does nothing more."""
    if not installed():
        real = sorted(n for n, m in sys.modules.items()
                      if (n == "torch" or n.startswith("torch.")) and not isinstance(m, TorchAlias))
        if real:
            raise RuntimeError("tinytorch.compat.install(): the real torch is already imported in this process "
                               f"({real[0]}); install the compat layer before anything imports torch")
        sys.meta_path.insert(0, _TorchFinder())
    namespace.print_as("torch")
    return importlib.import_module("torch")
