"""`tinytorch.cpu`, as torch.cpu: the CPU is always there; `amp` holds the deprecated
`torch.cpu.amp.autocast` and `GradScaler`."""
from .amp import cpu_amp as amp  # noqa: F401


def is_available():
    return True


def device_count():
    return 1
