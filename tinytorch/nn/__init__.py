"""tinytorch.nn: layers as Modules, the fused functional ops, initialisers and gradient utilities."""
from . import functional
from . import init, utils
from .activation import GELU, ReLU, Sigmoid, Softmax, Tanh
from .container import ModuleDict, ModuleList, Sequential
from .dropout import Dropout
from .embedding import Embedding
from .flatten import Flatten
from .linear import Identity, Linear
from .loss import CrossEntropyLoss, MSELoss
from .module import Module
from .normalization import BatchNorm1d, LayerNorm
from .parameter import Parameter

__all__ = ["functional", "init", "utils", "Module", "Parameter", "Linear", "Identity", "Embedding", "LayerNorm",
           "BatchNorm1d", "Tanh", "ReLU", "GELU", "Sigmoid", "Softmax", "Dropout", "Flatten", "Sequential",
           "ModuleList", "ModuleDict", "CrossEntropyLoss", "MSELoss"]


def __getattr__(name):
    raise AttributeError(f"tinytorch does not support 'torch.nn.{name}' yet")
