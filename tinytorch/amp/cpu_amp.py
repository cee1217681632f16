"""`tinytorch.cpu.amp` (deprecated in torch): autocast("cpu") and GradScaler("cpu") under their old names."""
from .legacy import legacy_names

autocast, GradScaler = legacy_names("cpu")
