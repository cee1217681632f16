"""tinytorch.nn: layers as Modules, the fused functional ops, initialisers and gradient utilities."""
from . import functional
from . import init, parallel, utils
from .activation import GELU, ReLU, Sigmoid, Softmax, Tanh
from .container import ModuleDict, ModuleList, Sequential
from .dropout import Dropout
from .embedding import Embedding
from .flatten import Flatten
from .linear import Identity, Linear
from .loss import CrossEntropyLoss, MSELoss
from .module import Module
from .multihead_attention import MultiheadAttention
from .nll_loss import NLLLoss
from .normalization import BatchNorm1d, LayerNorm
from .parameter import Parameter
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,
                          TransformerEncoderLayer)

__all__ = ["functional", "init", "utils", "Module", "Parameter", "Linear", "Identity", "Embedding", "LayerNorm",
           "BatchNorm1d", "Tanh", "ReLU", "GELU", "Sigmoid", "Softmax", "Dropout", "Flatten", "Sequential",
           "ModuleList", "ModuleDict", "CrossEntropyLoss", "MSELoss", "NLLLoss", "MultiheadAttention",
           "Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer", "TransformerDecoderLayer",
           "RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


def __getattr__(name):
    raise AttributeError(f"tinytorch does not support 'torch.nn.{name}' yet")
