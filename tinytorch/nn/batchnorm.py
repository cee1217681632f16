"""`BatchNorm1d/2d/3d`: normalise each channel over the batch (and positions), then scale by
`weight` and shift by `bias`; and `_NormBase`, the per-channel state they share with InstanceNorm."""
from ..creation import empty, ones, tensor, zeros
from .. import dtypes as _dt
from . import functional as F, init
from .module import Module
from .parameter import Parameter


class _NormBase(Module):
    """num_features channels: weight (ones) and bias (zeros) when affine; running_mean (zeros),
    running_var (ones) and num_batches_tracked (0) buffers when track_running_stats, else None."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        def per_channel():
            return Parameter(empty(num_features, device=device, dtype=dtype))
        self.register_parameter("weight", per_channel() if affine else None)
        self.register_parameter("bias", per_channel() if affine and bias else None)
        track = track_running_stats
        self.register_buffer("running_mean", zeros(num_features, device=device, dtype=dtype) if track else None)
        self.register_buffer("running_var", ones(num_features, device=device, dtype=dtype) if track else None)
        self.register_buffer("num_batches_tracked", tensor(0, dtype=_dt.int64, device=device) if track else None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0

    def reset_parameters(self):
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _check_input_dim(self, input):
        """Raise torch's ValueError unless input has one of the class's `dims` ({ndim: layout})."""
        if input.dim() not in self.dims:
            expected = " or ".join(f"{d}D {layout}" for d, layout in self.dims.items())
            raise ValueError(f"{type(self).__name__}: expected {expected} input (got {input.dim()}D input of shape "
                             f"{tuple(input.shape)})")

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    """Training: normalise with the batch's mean and biased variance (over N and the positions),
    and update running_mean / running_var (unbiased) by `running = (1 - momentum) * running +
    momentum * batch`, counting num_batches_tracked (momentum=None: a cumulative average, the
    factor 1 / num_batches_tracked). Eval: use the running stats (the batch's when not tracked)."""

    def forward(self, input):
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.item())
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if track else None, self.running_var if track else None,
                            self.weight, self.bias, use_batch_stats, factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Over (N, C) or (N, C, L) input."""
    dims = {2: "(N, C)", 3: "(N, C, L)"}


class BatchNorm2d(_BatchNorm):
    """Over (N, C, H, W) input."""
    dims = {4: "(N, C, H, W)"}


class BatchNorm3d(_BatchNorm):
    """Over (N, C, D, H, W) input."""
    dims = {5: "(N, C, D, H, W)"}
