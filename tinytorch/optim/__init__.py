"""tinytorch.optim: SGD, Adam, AdamW and learning-rate schedulers, with torch's update rules."""
from . import lr_scheduler
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "lr_scheduler"]


def __getattr__(name):
    raise AttributeError(f"tinytorch does not support 'torch.optim.{name}' yet")
