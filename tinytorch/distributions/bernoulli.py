"""`Bernoulli(probs=None, logits=None)`: 1 with probability p, else 0."""
import numbers

from ..autograd import no_grad
from ..creation import arange, bernoulli
from ..tensor import Size
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, lazy_property, logits_to_probs, probs_to_logits


def binary_cross_entropy_with_logits(logits, target):
    """-[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))] elementwise, as torch computes it:
    (1 - t) x + m + log(e^{-m} + e^{-x - m}), m = max(-x, 0) (no overflow either way)."""
    m = (-logits).clamp(min=0)
    return (1 - target) * logits + m + ((-m).exp() + (-logits - m).exp()).log()


class Bernoulli(Distribution):
    """Given probs p or logits l = log p - log(1 - p) (the other computed on first use).
    log p(x) = -bce_with_logits(l, x); entropy = bce_with_logits(l, p); sample() is
    torch.bernoulli(p) of the sample's shape, as torch draws it."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        given = probs if probs is not None else logits
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
        else:
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(Size() if isinstance(given, numbers.Number) else self._param.size(),
                         validate_args=validate_args)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.size()

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        return mode.masked_fill(self.probs == 0.5, float("nan"))

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return bernoulli(self.probs.expand(shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -binary_cross_entropy_with_logits(logits, value)

    def entropy(self):
        return binary_cross_entropy_with_logits(self.logits, self.probs)

    def enumerate_support(self, expand=True):
        values = arange(2, dtype=self._param.dtype, device=self._param.device)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + tuple(self._batch_shape)) if expand else values
