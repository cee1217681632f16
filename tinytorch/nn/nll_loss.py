"""`NLLLoss`: the negative log-likelihood of class-index targets, for inputs that already are
log-probabilities (a log_softmax output); the module form of F.nll_loss."""
from . import functional as F
from .loss import _Loss


class NLLLoss(_Loss):
    """-input[i, target_i] per element (weighted by `weight[target_i]` when given, skipped where
    target_i == ignore_index), then mean (over the weights), sum, or none."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)
