"""`tinytorch.amp`, as torch.amp: automatic mixed precision (`autocast`, its policy in autocast_mode.py)
and loss scaling (`GradScaler`)."""
from ..autocast_mode import autocast, is_autocast_available
from .grad_scaler import GradScaler

__all__ = ["autocast", "GradScaler", "is_autocast_available"]
