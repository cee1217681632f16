"""Helpers of the distributions, as torch.distributions.utils: parameters broadcast together,
probabilities <-> logits, and properties computed once on first use."""
import functools
import numbers

import numpy as np

from ..autograd import enable_grad
from ..creation import tensor
from ..dtypes import get_default_dtype, to_numpy
from ..functions import broadcast_tensors
from ..nn import functional as F
from ..tensor import Tensor


def broadcast_all(*values):
    """The values (tensors or numbers) as tensors broadcast to one shape; numbers take the first
    tensor's dtype and device (the default dtype when all are numbers)."""
    if not all(isinstance(v, (Tensor, numbers.Number)) for v in values):
        raise ValueError("Input arguments must all be instances of Number, torch.Tensor or objects implementing "
                         "__torch_function__.")
    like = next((v for v in values if isinstance(v, Tensor)), None)
    options = {"dtype": get_default_dtype()} if like is None else {"dtype": like.dtype, "device": like.device}
    return broadcast_tensors(*[v if isinstance(v, Tensor) else tensor(v, **options) for v in values])


def finfo(dtype):
    """NumPy's finfo of a tinytorch floating dtype (eps, min, ...)."""
    return np.finfo(to_numpy(dtype))


def clamp_probs(probs):
    eps = float(finfo(probs.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits, is_binary=False):
    """sigmoid (binary) or softmax over the last dim."""
    return logits.sigmoid() if is_binary else F.softmax(logits, dim=-1)


def probs_to_logits(probs, is_binary=False):
    """log p (categorical), or log p - log(1 - p) (binary), of probabilities clamped into (0, 1)."""
    p = clamp_probs(probs)
    return p.log() - (-p).log1p() if is_binary else p.log()


class lazy_property:
    """A property computed on first use (with gradients on) and then stored on the instance."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        functools.update_wrapper(self, wrapped)

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value
