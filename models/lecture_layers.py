"""Layers as lectures 4 and 6 write them: their Linear init, FlattenConsecutive, and the
BatchNorm1d that normalises (N, L, C) inputs over N and L."""
import tinytorch as torch
from tinytorch import nn


def lecture_linear(fan_in, fan_out, bias=True, gain=1.0, std=None, draw_bias=False):
    """nn.Linear holding a lecture's layer, drawn as the lecture draws it: W = randn((fan_in, fan_out))
    * gain / sqrt(fan_in), or * std if given (lecture 4's output layer: 0.01), kept transposed as
    nn.Linear keeps it; b = 0, or with `draw_bias` lecture 4's b2 = randn(fan_out) * 0 (zeros that
    still take their draws). nn.Linear's own init draws are undone, so with torch's random streams
    the layers take the lecture's numbers from the lecture's seed."""
    state = torch.get_rng_state()
    layer = nn.Linear(fan_in, fan_out, bias=bias)
    torch.set_rng_state(state)
    with torch.no_grad():
        w = torch.randn(fan_in, fan_out)
        layer.weight.copy_((w * gain / fan_in ** 0.5 if std is None else w * std).T)
        if bias:
            layer.bias.copy_(torch.randn(fan_out) * 0 if draw_bias else torch.zeros(fan_out))
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
