"""Lecture 4: the MLP with its initialisation fixed and a BatchNorm layer.

    emb = C[context] -> x (B, block_size * n_embd)
    h = tanh(BatchNorm1d(x @ W1));  logits = h @ W2 + b2

The lecture's fixes, each visible in `__init__`:
- the softmax is confidently wrong at init: W2 * 0.01 and b2 = 0, so the first loss is ln V;
- the tanh layer saturates at init: W1 ~ N(0, 1) * (5/3) / sqrt(fan_in) (Kaiming for tanh);
- BatchNorm1d normalises the pre-activations (W1 needs no bias: BatchNorm's bias replaces it).
Its running statistics move slowly (momentum 0.001) and are used in eval mode. Block 3,
embedding 10, hidden 200: 12,097 parameters for V = 27.
"""
from tinytorch import nn
from tinytorch.nn import functional as F

from .lecture_layers import lecture_linear
from .sampling import Generates, fixed_context


class BatchNormMLP(Generates, nn.Module):
    def __init__(self, vocab_size, block_size=3, n_embd=10, n_hidden=200):
        super().__init__()
        self.block_size = block_size
        self.C = nn.Embedding(vocab_size, n_embd)
        self.W1 = lecture_linear(block_size * n_embd, n_hidden, bias=False, gain=5 / 3)
        self.bn = nn.BatchNorm1d(n_hidden, momentum=0.001)
        self.W2 = lecture_linear(n_hidden, vocab_size, std=0.01, draw_bias=True)

    def forward(self, idx, targets=None):
        emb = self.C(fixed_context(idx, self.block_size))
        h = self.bn(self.W1(emb.view(emb.shape[0], -1))).tanh()
        logits = self.W2(h)
        return logits, None if targets is None else F.cross_entropy(logits, targets)
