"""Layers as lectures 4 and 6 write them: their Linear init, FlattenConsecutive, and the
BatchNorm1d that normalises (N, L, C) inputs over N and L."""
import tinytorch as torch
from tinytorch import nn


def lecture_linear(fan_in, fan_out, bias=True, gain=1.0, std=None):
    """nn.Linear initialised as in the lectures: W ~ N(0, 1) * std with std = gain / sqrt(fan_in)
    unless given (lecture 4 sets the output layer's to 0.01), and b = 0."""
    layer = nn.Linear(fan_in, fan_out, bias=bias)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(fan_out, fan_in) * (gain / fan_in ** 0.5 if std is None else std))
        if bias:
            layer.bias.zero_()
    return layer


class FlattenConsecutive(nn.Module):
    """(B, T, C) -> (B, T // n, C * n): concatenate each n consecutive vectors.

    A length that becomes 1 is squeezed, (B, 1, C * n) -> (B, C * n), as in lecture 6.
    """

    def __init__(self, n):
        super().__init__()
        self.n = n

    def forward(self, x):
        B, T, C = x.shape
        if T % self.n:
            raise ValueError(f"FlattenConsecutive({self.n}): sequence length {T} of input {tuple(x.shape)} "
                             f"is not a multiple of {self.n}")
        x = x.reshape(B, T // self.n, C * self.n)
        return x.squeeze(1) if x.shape[1] == 1 else x

    def extra_repr(self):
        return f"n={self.n}"


class ChannelsLastBatchNorm1d(nn.BatchNorm1d):
    """BatchNorm1d on (N, C) or channels-last (N, L, C): statistics per channel over N and L.

    torch's BatchNorm1d wants (N, C, L); lecture 6's fix ("stats over dims (0, 1)") is the
    same normalisation with the channels last, i.e. on the transposed input.
    """

    def forward(self, x):
        if x.dim() == 3:
            return super().forward(x.transpose(1, 2)).transpose(1, 2)
        return super().forward(x)
