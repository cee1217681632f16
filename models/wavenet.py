"""Lecture 6: a WaveNet-like hierarchical MLP.

Instead of squashing the whole context into one layer, fuse it two characters at a time:
block 8 -> 4 -> 2 -> 1 through three levels of

    FlattenConsecutive(2) -> Linear (no bias) -> BatchNorm over (N, L, C) -> Tanh

then a Linear to the vocabulary (its weight scaled by 0.1, so that the first loss is about
ln V). Block 8, embedding 24, hidden 128: 76,579 parameters for V = 27.
"""
from tinytorch import nn
from tinytorch.nn import functional as F

from .lecture_layers import ChannelsLastBatchNorm1d, FlattenConsecutive, lecture_linear
from .sampling import Generates, fixed_context


def pair_levels(block_size, model="WaveNet"):
    """How many times pairs are fused to bring block_size characters down to one: log2 block_size."""
    levels = block_size.bit_length() - 1
    if block_size < 2 or 2 ** levels != block_size:
        raise ValueError(f"{model}: block_size must be a power of 2 (>= 2), got {block_size}")
    return levels


class WaveNet(Generates, nn.Module):
    def __init__(self, vocab_size, block_size=8, n_embd=24, n_hidden=128):
        super().__init__()
        levels = pair_levels(block_size)
        self.block_size = block_size
        layers = [nn.Embedding(vocab_size, n_embd)]
        width = n_embd
        for _ in range(levels):
            layers += [FlattenConsecutive(2), lecture_linear(2 * width, n_hidden, bias=False),
                       ChannelsLastBatchNorm1d(n_hidden), nn.Tanh()]
            width = n_hidden
        layers.append(lecture_linear(n_hidden, vocab_size, gain=0.1))
        self.layers = nn.Sequential(*layers)

    def forward(self, idx, targets=None):
        logits = self.layers(fixed_context(idx, self.block_size))
        return logits, None if targets is None else F.cross_entropy(logits, targets)
