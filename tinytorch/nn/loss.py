"""Loss modules: thin wrappers that hold the options of `F.cross_entropy` and `F.mse_loss`."""
from . import functional as F
from .fused_common import check_reduction, legacy_reduction
from .module import Module


class _Loss(Module):
    """Stores `reduction` ('mean' | 'sum' | 'none'; torch's deprecated size_average/reduce
    flags are translated as torch translates them)."""

    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        self.reduction = legacy_reduction(size_average, reduce, reduction)
        check_reduction(type(self).__name__, self.reduction)


class CrossEntropyLoss(_Loss):
    """Mean (or sum, or per-element) negative log-likelihood of class-index targets under
    softmax(input), with optional class `weight`; see F.cross_entropy."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class MSELoss(_Loss):
    """Mean (or sum, or per-element) squared error (input - target)^2."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)
