"""The old per-device names `torch.cuda.amp.autocast`, `torch.cuda.amp.GradScaler` and their CPU twins:
the same objects as `tinytorch.amp`'s for one device type, each warning on construction (a
FutureWarning, as torch's) that it is deprecated."""
import warnings

from .. import autocast_mode
from ..namespace import package_name
from .grad_scaler import GradScaler as _GradScaler


def legacy_names(device_type):
    """(autocast, GradScaler) of `tinytorch.<device_type>.amp`."""
    def deprecated(name):
        torch = package_name()
        warnings.warn(f"`{torch}.{device_type}.amp.{name}(args...)` is deprecated. Please use "
                      f"`{torch}.amp.{name}('{device_type}', args...)` instead.", FutureWarning, stacklevel=3)

    class autocast(autocast_mode.autocast):
        def __init__(self, enabled=True, dtype=autocast_mode.DEFAULT_DTYPES[device_type], cache_enabled=True):
            deprecated("autocast")
            super().__init__(device_type, dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)

    class GradScaler(_GradScaler):
        def __init__(self, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                     enabled=True):
            deprecated("GradScaler")
            super().__init__(device_type, init_scale, growth_factor, backoff_factor, growth_interval, enabled)

    return autocast, GradScaler
