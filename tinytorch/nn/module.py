"""`Module`: the base class of layers and models, as in torch.nn.

A module owns three ordered registries, filled by plain attribute assignment:
`_parameters` (Parameters), `_buffers` (tensors that are state but not learned, e.g. BatchNorm's
running mean) and `_modules` (child modules). Everything else — iterating parameters,
state_dict keys like `blocks.0.ln.weight`, `train()`, `to()` — walks that tree.
"""
from collections import OrderedDict, namedtuple

import numpy as np

from .. import dtypes as _dt
from ..autograd import no_grad
from ..hooks import RemovableHandle
from ..tensor import Tensor, parse_to_args
from .parameter import Parameter


_HOOK_DICTS = ("_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_forward_hooks",
               "_forward_hooks_with_kwargs", "_forward_hooks_always_called")


class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What `load_state_dict` returns: the keys the model wanted but did not get, and the reverse."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


class Module(_dt.ConversionShortcuts):
    """Base class: subclass it, create sub-layers in `__init__`, compute in `forward`."""

    training: bool

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments {args} {kwargs}")
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        for name in _HOOK_DICTS:
            object.__setattr__(self, name, OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        d = self.__dict__
        if not (d.get("_forward_pre_hooks") or d.get("_forward_hooks")):
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    # ---- hooks ------------------------------------------------------------------------------
    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """hook(module, args) -> None or new args (a tuple, or one value), run before forward; with
        `with_kwargs`, hook(module, args, kwargs) -> None or (new args, new kwargs)."""
        handle = RemovableHandle(self._forward_pre_hooks, hook, (self._forward_pre_hooks_with_kwargs,), prepend)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        return handle

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """hook(module, args, output) -> None or a new output, run after forward (with `with_kwargs`,
        hook(module, args, kwargs, output)); with `always_call`, also when forward raises."""
        handle = RemovableHandle(self._forward_hooks, hook,
                                 (self._forward_hooks_with_kwargs, self._forward_hooks_always_called), prepend)
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        return handle

    def _call_with_hooks(self, args, kwargs):
        for key, hook in list(self._forward_pre_hooks.items()):
            if key in self._forward_pre_hooks_with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                                           f"but got {result}.")
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        called = set()
        try:
            output = self.forward(*args, **kwargs)
            for key, hook in list(self._forward_hooks.items()):
                called.add(key)
                with_kwargs = key in self._forward_hooks_with_kwargs
                result = hook(self, args, kwargs, output) if with_kwargs else hook(self, args, output)
                if result is not None:
                    output = result
        except Exception:
            for key, hook in list(self._forward_hooks.items()):
                if key in self._forward_hooks_always_called and key not in called:
                    if key in self._forward_hooks_with_kwargs:
                        hook(self, args, kwargs, None)
                    else:
                        hook(self, args, None)
            raise
        return output

    # ---- registration -----------------------------------------------------------------------
    def _check_initialized(self, name):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign '{name}' before {type(self).__name__}.__init__() "
                                 "called Module.__init__() (call super().__init__() first)")

    def register_parameter(self, name, param):
        """Register `param` (a Parameter or None) under `name`."""
        self._check_initialized(name)
        _check_name(self, name, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_type_name(param)}' object to parameter '{name}' "
                            "(tinytorch.nn.Parameter or None required)")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Register a non-learned tensor (or None); persistent buffers go into state_dict."""
        self._check_initialized(name)
        _check_name(self, name, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_type_name(tensor)}' object to buffer '{name}' (Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name, module):
        """Register a child module (or None) under `name`."""
        self._check_initialized(name)
        _check_name(self, name, self._modules)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_type_name(module)} is not a Module subclass")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        if isinstance(value, Parameter):
            self._check_initialized(name)
            _forget(self, name)
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            self._check_initialized(name)
            _forget(self, name)
            self.add_module(name, value)
        elif "_parameters" in self.__dict__ and name in self._parameters:
            self.register_parameter(name, value)
        elif "_modules" in self.__dict__ and name in self._modules:
            self.add_module(name, value)
        elif "_buffers" in self.__dict__ and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_type_name(value)}' as buffer '{name}' (Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))

    # ---- iteration over the tree --------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(qualified name, module) for this module and every descendant, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, _join(prefix, name), remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        for _, child in self.named_children():
            yield child

    def _named_members(self, registry, prefix, recurse, remove_duplicate=True):
        seen = set()
        owners = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for owner_name, owner in owners:
            for name, value in getattr(owner, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield _join(owner_name, name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(qualified name, Parameter) pairs; a parameter shared by two modules appears once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Every Parameter once (what named_parameters gives, without building the names)."""
        seen = set()
        for module in self._every_module(set()) if recurse else (self,):
            for p in module._parameters.values():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield p

    def _every_module(self, memo):
        """This module and every descendant once, depth first: named_modules' order, without names."""
        memo.add(id(self))
        yield self
        for child in self._modules.values():
            if child is not None and id(child) not in memo:
                yield from child._every_module(memo)

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target):
        """The descendant named by a dotted path like 'blocks.0.attn'."""
        module = self
        for part in target.split(".") if target else []:
            if part not in module._modules:
                raise AttributeError(f"{type(module).__name__} has no submodule '{part}' (looking up '{target}')")
            module = module._modules[part]
        return module

    # ---- state ------------------------------------------------------------------------------
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """Ordered {qualified name: tensor}: each module's parameters, then its persistent
        buffers, then its children's entries. Values are detached (they share storage)."""
        out = OrderedDict() if destination is None else destination
        for name, p in self._parameters.items():
            if p is not None:
                out[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers:
                out[prefix + name] = b if keep_vars else b.detach()
        for name, child in self._modules.items():
            if child is not None:
                child.state_dict(out, prefix + name + ".", keep_vars)
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy the tensors of `state_dict` into this module's parameters and buffers.

        Values may be Tensors or NumPy arrays; they are cast to each target's dtype and device.
        A shape mismatch is always an error; with `strict`, so are missing and unexpected keys.
        Returns IncompatibleKeys(missing_keys, unexpected_keys).
        """
        targets = self.state_dict(keep_vars=True)
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        errors = []
        if strict:
            if missing:
                errors.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". ")
            if unexpected:
                errors.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ". ")
        sources = {}
        for key, target in targets.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            if isinstance(value, np.ndarray):
                value = Tensor._wrap(value)
            elif not isinstance(value, Tensor):
                raise TypeError(f"load_state_dict: value for '{key}' must be a tinytorch Tensor or a NumPy "
                                f"array, got {_type_name(value)}")
            if tuple(value.shape) != tuple(target.shape):
                errors.append(f"size mismatch for {key}: copying a param with shape {tuple(value.shape)} from "
                              f"checkpoint, the shape in current model is {tuple(target.shape)}.")
            sources[key] = value
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        with no_grad():
            for key, value in sources.items():
                targets[key].copy_(value)
        return IncompatibleKeys(missing, unexpected)

    # ---- modes and bulk operations --------------------------------------------------------------
    def train(self, mode=True):
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.zero_()

    def apply(self, fn):
        """Call fn on every child (recursively) and then on self; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def _apply_to_tensors(self, convert):
        """Replace the storage of every parameter, gradient and buffer by convert(tensor), in
        place, so that optimizers holding the Parameters keep seeing the same objects."""
        with no_grad():
            for m in self.modules():
                for p in m._parameters.values():
                    if p is not None:
                        p._data = convert(p)._data
                        if p.grad is not None:
                            p.grad._data = convert(p.grad)._data
                for name, b in m._buffers.items():
                    if b is not None:
                        m._buffers[name] = convert(b)
        return self

    def to(self, *args, **kwargs):
        """to(device), to(dtype), to(device, dtype), to(tensor): moves parameters and buffers;
        a dtype applies to floating-point tensors only, as in torch."""
        dev, dt = parse_to_args(args, kwargs, "Module.to")
        if dt is not None and not dt.is_floating_point:
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dt}")

        def convert(t):
            t = t.to(dev) if dev is not None else t
            return t.to(dt) if dt is not None and t.is_floating_point() else t
        return self._apply_to_tensors(convert)

    # ---- printing ---------------------------------------------------------------------------
    def extra_repr(self):
        """The text inside this module's parentheses (e.g. `in_features=2, out_features=3`)."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def _child_lines(self):
        return [f"({name}): {_indent(repr(child), 2)}" for name, child in self._modules.items()]

    def __repr__(self):
        extra_repr = self.extra_repr()
        extra = extra_repr.split("\n") if extra_repr else []
        children = self._child_lines()
        lines = extra + children
        if not lines:
            body = ""
        elif len(extra) == 1 and not children:
            body = extra[0]
        else:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"


def _join(prefix, name):
    return f"{prefix}.{name}" if prefix else name


def _indent(text, spaces):
    """Indent every line of text but the first (torch's _addindent)."""
    lines = text.split("\n")
    return lines[0] if len(lines) == 1 else lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


def _type_name(value):
    return type(value).__module__ + "." + type(value).__name__


def _check_name(module, name, registry):
    """A name may be registered again in its own registry, but never shadow another attribute."""
    if not isinstance(name, str):
        raise TypeError(f"attribute name should be a string, got {type(name).__name__}")
    if "." in name or name == "":
        raise KeyError(f"attribute name can't contain \".\" or be empty, got: {name!r}")
    others = [r for r in (module._parameters, module._buffers, module._modules) if r is not registry]
    if name not in registry and (hasattr(type(module), name) or name in module.__dict__ or any(name in r for r in others)):
        raise KeyError(f"attribute '{name}' already exists")


def _forget(module, name):
    """Drop `name` from every registry and from the instance dict before re-registering it."""
    for registry in (module._parameters, module._buffers, module._modules):
        registry.pop(name, None)
    module._non_persistent_buffers.discard(name)
    module.__dict__.pop(name, None)
