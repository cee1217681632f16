"""Lecture 3: the MLP of Bengio et al. 2003 on characters.

    emb = C[context] (B, block_size, n_embd) -> (B, block_size * n_embd)
    h = tanh(emb @ W1 + b1) (B, n_hidden);  logits = h @ W2 + b2 (B, V)

Every weight starts N(0, 1), unscaled, as in the lecture: the first loss is far above ln V
(lecture 4 starts by fixing exactly that). Block 3, embedding 10, hidden 200: 11,897
parameters for V = 27.
"""
import tinytorch as torch
from tinytorch import nn
from tinytorch.nn import functional as F

from .sampling import Generates, fixed_context


class MLP(Generates, nn.Module):
    def __init__(self, vocab_size, block_size=3, n_embd=10, n_hidden=200):
        super().__init__()
        self.block_size = block_size
        self.C = nn.Parameter(torch.randn(vocab_size, n_embd))
        self.W1 = nn.Parameter(torch.randn(block_size * n_embd, n_hidden))
        self.b1 = nn.Parameter(torch.randn(n_hidden))
        self.W2 = nn.Parameter(torch.randn(n_hidden, vocab_size))
        self.b2 = nn.Parameter(torch.randn(vocab_size))

    def forward(self, idx, targets=None):
        emb = self.C[fixed_context(idx, self.block_size)]
        h = torch.tanh(emb.view(emb.shape[0], -1) @ self.W1 + self.b1)
        logits = h @ self.W2 + self.b2
        return logits, None if targets is None else F.cross_entropy(logits, targets)
