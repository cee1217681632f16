"""`Dropout`: zero each element with probability p while training, scaling survivors by 1/(1-p);
`Dropout1d/2d/3d`: the same for whole channels (F.dropout1d/2d/3d). Identity in eval mode."""
from . import functional as F
from .module import Module


class _DropoutNd(Module):
    """p, the probability of zeroing, in [0, 1]; inplace writes into the input."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return self.function(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    function = staticmethod(F.dropout)


class Dropout1d(_DropoutNd):
    """Over (N, C, L) or unbatched (C, L) input."""
    function = staticmethod(F.dropout1d)


class Dropout2d(_DropoutNd):
    """Over (N, C, H, W) input (a 3D one is taken as (N, C, L), with torch's warning)."""
    function = staticmethod(F.dropout2d)


class Dropout3d(_DropoutNd):
    """Over (N, C, D, H, W) or unbatched (C, D, H, W) input."""
    function = staticmethod(F.dropout3d)
