"""`Optimizer`: parameter groups, per-parameter state, zero_grad, and torch-format state dicts.

Subclasses implement `_update(group, param, state)`, which changes `param._data` in place
from `param.grad._data` (raw NumPy/CuPy arrays, no graph); `step` then bumps the parameter's
version, as torch's in-place update does (a graph that kept the old values refuses backward).
Temporaries come from one scratch buffer per (array module, dtype), reused for every parameter
and step.
"""
import copy
from collections import defaultdict

import numpy as np

from ..autograd import enable_grad
from ..device import array_module
from ..tensor import Tensor
from ..versions import bump


class Optimizer:
    """Base class. `params` is an iterable of tensors, or of dicts {'params': [...], **options}
    (parameter groups) whose options override `defaults`."""

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        self._scratch = {}
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got a Tensor")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add a group {'params': tensors, **options}; missing options come from `defaults`."""
        if not isinstance(param_group, dict):
            raise TypeError(f"add_param_group: param_group must be a dict, got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("add_param_group: optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs; use a list instead")
        params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__} can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{type(self).__name__}: can't optimize a non-leaf Tensor")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("add_param_group: a parameter group contains duplicate parameters")
        group = {**param_group, "params": params}
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.zero_()

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure() if given."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self._update(group, p, self.state[p])
                    bump(p._data)
        return loss

    def _update(self, group, param, state):
        raise NotImplementedError(f"{type(self).__name__} must define _update(group, param, state)")

    def _scratch_like(self, a):
        """A temporary array shaped like `a`: a view of one buffer per (array module, dtype),
        grown to the largest parameter and reused for all of them, step after step."""
        key = (array_module(a).__name__, a.dtype)
        buf = self._scratch.get(key)
        if buf is None or buf.size < a.size:
            buf = array_module(a).empty(a.size, dtype=a.dtype)
            self._scratch[key] = buf
        return buf[:a.size].reshape(a.shape)

    # ---- checkpoints ------------------------------------------------------------------------
    def state_dict(self):
        """The torch format: {'state': {index: {name: value}}, 'param_groups': [{..., 'params': [indices]}]}.

        Parameters are numbered in group order; state tensors are returned as is (not copied)."""
        index = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {index[id(p)]: s for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore groups' options and per-parameter state saved by `state_dict`.

        State tensors are copied, and floating ones cast to their parameter's dtype and device
        (except 'step'), so later in-place updates never write into `state_dict`."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"load_state_dict: loaded state dict has {len(saved_groups)} parameter groups, the "
                             f"optimizer has {len(self.param_groups)}")
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"load_state_dict: loaded state dict contains a parameter group (index {i}) of "
                                 f"{len(saved['params'])} parameters, but the optimizer's group has "
                                 f"{len(group['params'])}")
        by_index = {int(i): p for saved, group in zip(saved_groups, self.param_groups)
                    for i, p in zip(saved["params"], group["params"])}
        self.state = defaultdict(dict)
        for i, values in state_dict["state"].items():
            p = by_index.get(int(i))
            if p is None:
                raise KeyError(f"load_state_dict: state for parameter index {i} matches no parameter")
            self.state[p] = {name: _restore(name, value, p) for name, value in values.items()}
        for saved, group in zip(saved_groups, self.param_groups):
            group.update({k: copy.deepcopy(v) for k, v in saved.items() if k != "params"})

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"


def _restore(name, value, param):
    """A private copy of one saved state value: tensors other than the (CPU) step counter go to
    param's device, and floating ones to param's dtype."""
    if isinstance(value, np.ndarray):
        value = Tensor._wrap(value)
    elif not isinstance(value, Tensor):
        return copy.deepcopy(value)
    value = value.detach()
    if name != "step":
        value = value.to(param.device)
        if value.is_floating_point():
            value = value.to(param.dtype)
    return Tensor._wrap(value._data.copy())


def check_nonnegative(what, value):
    if not value >= 0.0:
        raise ValueError(f"Invalid {what}: {value}")


def check_betas(betas):
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")


def refuse_unsupported(optimizer, **options):
    """Raise, naming them, for the torch options that have no tinytorch counterpart (capturable: CUDA-graph
    capture; differentiable: autograd through the update itself) when a caller turns one on, rather than
    run the plain update in their place."""
    asked = [name for name, value in options.items() if value]
    if asked:
        raise NotImplementedError(f"{optimizer}: {' and '.join(f'{name}=True' for name in asked)} "
                                  f"{'is' if len(asked) == 1 else 'are'} not supported by tinytorch")
