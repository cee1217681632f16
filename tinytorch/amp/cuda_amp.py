"""`tinytorch.cuda.amp` (deprecated in torch): autocast("cuda") and GradScaler("cuda") under their old names."""
from .legacy import legacy_names

autocast, GradScaler = legacy_names("cuda")
