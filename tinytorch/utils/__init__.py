"""torch.utils for tinytorch: `utils.data` (Dataset, DataLoader, samplers) and
`utils.tensorboard` (a SummaryWriter that logs scalars to CSV; import it explicitly, as in torch)."""
from . import data

__all__ = ["data"]
