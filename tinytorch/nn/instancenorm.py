"""`InstanceNorm1d/2d/3d`: normalise each channel of each sample on its own (F.instance_norm).

torch's defaults: affine=False and track_running_stats=False. When tracking, training updates
the running statistics with `momentum` (momentum=None: no update, as torch passes 0) without
counting num_batches_tracked, and eval uses them. An input without the batch dim is run as a
batch of one.
"""

from .. import caller_warnings
from . import functional as F
from .batchnorm import _NormBase


class _InstanceNorm(_NormBase):

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False,
                 device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, input):
        self._check_input_dim(input)
        unbatched = input.dim() == min(self.dims)
        channel_dim = 0 if unbatched else 1
        if input.shape[channel_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={channel_dim} to match num_features "
                                 f"({self.num_features}), but got: {input.shape[channel_dim]}.")
            caller_warnings.warn(f"input's size at dim={channel_dim} does not match num_features. You can silence this "
                                 "warning by not passing in num_features, which is not used because affine=False")
        batch = input.unsqueeze(0) if unbatched else input
        y = F.instance_norm(batch, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            0.0 if self.momentum is None else self.momentum, self.eps)
        return y.squeeze(0) if unbatched else y


class InstanceNorm1d(_InstanceNorm):
    """Over (N, C, L) or unbatched (C, L) input."""
    dims = {2: "(C, L)", 3: "(N, C, L)"}


class InstanceNorm2d(_InstanceNorm):
    """Over (N, C, H, W) or unbatched (C, H, W) input."""
    dims = {3: "(C, H, W)", 4: "(N, C, H, W)"}


class InstanceNorm3d(_InstanceNorm):
    """Over (N, C, D, H, W) or unbatched (C, D, H, W) input."""
    dims = {4: "(C, D, H, W)", 5: "(N, C, D, H, W)"}
