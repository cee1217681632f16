"""`tinytorch.amp.GradScaler`: dynamic loss scaling, with torch's rules.

    scaler = tinytorch.amp.GradScaler("cpu")          # "cuda" by default
    scaler.scale(loss).backward()                     # gradients of loss * scale
    scaler.step(optimizer)                            # unscale, then step unless a gradient is inf/nan
    scaler.update()                                   # grow or back off the scale

The rules:

- The scale is a 0-dim float32 tensor on the device of the first output scaled, `init_scale` until
  then; `scale(outputs)` multiplies a tensor, or each tensor in nested lists and tuples, by it.
- `unscale_(optimizer)` multiplies every gradient of the optimizer's parameters by 1/scale (the
  reciprocal taken in float64 and rounded to float32; the product in float32, float64 for float64
  gradients) and records whether any gradient held an inf or nan. Once per optimizer between updates.
- `step(optimizer)` unscales if that has not been done, then calls `optimizer.step()` only when no
  inf or nan was found (it returns what step returned, else None). Once per optimizer between updates.
- `update()` after a step with an inf/nan multiplies the scale by `backoff_factor` and restarts the
  count of good steps; otherwise it counts the step, and on the `growth_interval`-th good step in a
  row multiplies the scale by `growth_factor` (kept only if finite in float32) and restarts the count.
  `update(new_scale)` sets the scale instead. Either way the per-optimizer records are cleared.
- `GradScaler("cuda")` without CUDA warns and is disabled, as torch's: `scale` returns its input,
  `step` just steps, `get_scale()` is 1.0 and `state_dict()` is {}.
"""
import enum
import math
import warnings

import numpy as np

from .. import dtypes as _dt
from ..autocast_mode import cuda_available
from ..autograd import TensorBase, no_grad
from ..creation import full
from ..namespace import package_name


class _Stage(enum.Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _fresh_record():
    return {"stage": _Stage.READY, "found_inf": None}


class GradScaler:
    """torch.amp.GradScaler(device="cuda", init_scale=2.**16, growth_factor=2.0, backoff_factor=0.5,
    growth_interval=2000, enabled=True); see the module's docstring for the rules."""

    def __init__(self, device="cuda", init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        self._device = device
        self._enabled = enabled
        if device == "cuda" and enabled and not cuda_available():
            warnings.warn(f"{package_name()}.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                          stacklevel=2)
            self._enabled = False
        if not self._enabled:
            return
        if growth_factor <= 1.0:
            raise AssertionError("The growth factor must be > 1.0.")
        if backoff_factor >= 1.0:
            raise AssertionError("The backoff factor must be < 1.0.")
        self._init_scale = init_scale
        self._scale = None  # the 0-dim float32 tensor, made by the first scale()
        self._growth_factor = growth_factor
        self._backoff_factor = backoff_factor
        self._growth_interval = growth_interval
        self._init_growth_tracker = 0
        self._growth_tracker = None  # good steps in a row, counted from the first scale()
        self._per_optimizer_states = {}

    # ---- the iteration -------------------------------------------------------------------------
    def scale(self, outputs):
        """outputs * scale: a tensor, or nested lists and tuples of tensors (other iterables map lazily)."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, TensorBase):
            if self._scale is None:
                self._scale = full((), self._init_scale, dtype=_dt.float32, device=outputs.device)
                self._growth_tracker = self._init_growth_tracker
            return outputs * self._scale.to(outputs.device)
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        try:
            return map(self.scale, iter(outputs))
        except TypeError:
            raise ValueError("outputs must be a Tensor or an iterable of Tensors") from None

    def unscale_(self, optimizer):
        """Divide the optimizer's gradients by the scale, in place, and note whether any is inf or nan."""
        if not self._enabled:
            return
        self._check_scale_growth_tracker("unscale_")
        record = self._record(optimizer)
        if record["stage"] is _Stage.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if record["stage"] is _Stage.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv_scale = float(np.float32(1.0 / self._scale.item()))
        record["found_inf"] = self._unscale_grads(optimizer, inv_scale)
        record["stage"] = _Stage.UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """unscale_ (unless done), then optimizer.step(*args, **kwargs) unless a gradient was inf or nan."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale_growth_tracker("step")
        record = self._record(optimizer)
        if record["stage"] is _Stage.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if record["stage"] is _Stage.READY:
            self.unscale_(optimizer)
        result = None if record["found_inf"] else optimizer.step(*args, **kwargs)
        record["stage"] = _Stage.STEPPED
        return result

    def update(self, new_scale=None):
        """Back off or grow the scale from this iteration's inf checks, or set it to `new_scale`."""
        if not self._enabled:
            return
        self._check_scale_growth_tracker("update")
        if new_scale is not None:
            self._set_scale(new_scale)
        else:
            found = [r["found_inf"] for r in self._per_optimizer_states.values() if r["found_inf"] is not None]
            if not found:
                raise AssertionError("No inf checks were recorded prior to update.")
            self._grow_or_back_off(any(found))
        self._per_optimizer_states = {}

    # ---- the parts -----------------------------------------------------------------------------
    def _record(self, optimizer):
        return self._per_optimizer_states.setdefault(id(optimizer), _fresh_record())

    def _check_scale_growth_tracker(self, funcname):
        if self._scale is None:
            raise AssertionError(f"Attempted {funcname} but _scale is None.  This may indicate your script did "
                                 "not use scaler.scale(loss or outputs) earlier in the iteration.")

    @staticmethod
    def _unscale_grads(optimizer, inv_scale):
        """Multiply every gradient by inv_scale in place; whether any held an inf or nan."""
        found_inf = False
        with no_grad():
            for group in optimizer.param_groups:
                for param in group["params"]:
                    grad = param.grad
                    if grad is None:
                        continue
                    if grad.dtype is _dt.float16:
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    found_inf = found_inf or not bool(grad.isfinite().all())
                    if grad.dtype in (_dt.float32, _dt.float64):
                        grad.mul_(inv_scale)
                    else:  # narrower floats: the product in float32, rounded once
                        grad.copy_(grad.float() * inv_scale)
        return found_inf

    def _grow_or_back_off(self, found_inf):
        scale = self._scale.item()
        if found_inf:
            self._scale.fill_(scale * self._backoff_factor)
            self._growth_tracker = 0
            return
        self._growth_tracker += 1
        if self._growth_tracker == self._growth_interval:
            grown = np.float32(scale * self._growth_factor)
            if math.isfinite(grown):
                self._scale.fill_(float(grown))
            self._growth_tracker = 0

    def _set_scale(self, new_scale):
        if isinstance(new_scale, float):
            self._scale.fill_(new_scale)
            return
        if (new_scale.device.type != self._scale.device.type or new_scale.numel() != 1
                or new_scale.requires_grad):
            raise AssertionError("new_scale should be a float or a 1-element tensor with requires_grad=False.")
        self._scale.copy_(new_scale.reshape(()))

    # ---- the settings and the state ------------------------------------------------------------
    def get_scale(self):
        """The scale as a Python float (init_scale before the first scale(); 1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale.item()

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = new_interval

    def _get_growth_tracker(self):
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None else self._growth_tracker

    def is_enabled(self):
        return self._enabled

    def state_dict(self):
        """scale, growth_factor, backoff_factor, growth_interval and _growth_tracker ({} when disabled)."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled "
                               "instance of GradScaler.")
        self._init_scale = float(state_dict["scale"])
        if self._scale is not None:
            self._scale.fill_(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._init_growth_tracker = int(state_dict["_growth_tracker"])
        if self._growth_tracker is not None:
            self._growth_tracker = self._init_growth_tracker

