"""Lecture 2: the bigram models, one by counting and one trained by gradient descent.

Both predict the next character from the previous one alone (block size 1) and reach the same
place: the counts give the maximum-likelihood table P[a, b] = N[a, b] / sum_b N[a, b]
directly, the neural net learns W (V, V) with softmax(onehot(a) @ W) -> P[a] by descending
the mean negative log-likelihood.
"""
import tinytorch as torch
from tinytorch import nn
from tinytorch.nn import functional as F

from .sampling import Generates


class CountBigram(Generates, nn.Module):
    """P[a, b] = (N[a, b] + smoothing) / sum_b (N[a, b] + smoothing), N counted by `fit`.

    Before `fit` the counts are zero and, with smoothing > 0, P is uniform: loss = ln V.
    The logits returned are log P, so cross-entropy on them is the plain NLL.
    """

    block_size = 1

    def __init__(self, vocab_size, smoothing=1.0):
        super().__init__()
        self.vocab_size, self.smoothing = vocab_size, smoothing
        self.register_buffer("counts", torch.zeros(vocab_size, vocab_size))

    @torch.no_grad()
    def fit(self, idx, targets):
        """Add every bigram (last context character, target) of the examples to the counts."""
        self.counts += F.one_hot(idx[:, -1], self.vocab_size).float().T @ F.one_hot(targets, self.vocab_size).float()

    def log_probs(self):
        """log P (V, V); without smoothing, a character never seen as context gets a uniform row
        and a pair never seen gets log 0 = -inf."""
        smoothed = self.counts + self.smoothing
        smoothed = smoothed + (smoothed.sum(1, keepdim=True) == 0).float()
        return (smoothed / smoothed.sum(1, keepdim=True)).log()

    def forward(self, idx, targets=None):
        logits = self.log_probs()[idx[:, -1]]
        return logits, None if targets is None else F.cross_entropy(logits, targets)


class NeuralBigram(Generates, nn.Module):
    """logits = onehot(a) @ W with W ~ N(0, 1); in training the loss adds reg * mean(W**2).

    Written as in the lecture: the softmax and the NLL are spelled out with exp, sum and log.
    Evaluation (eval mode) reports the NLL alone.
    """

    block_size = 1

    def __init__(self, vocab_size, reg=0.01):
        super().__init__()
        self.vocab_size, self.reg = vocab_size, reg
        self.W = nn.Parameter(torch.randn(vocab_size, vocab_size))

    def forward(self, idx, targets=None):
        logits = F.one_hot(idx[:, -1], self.vocab_size).float() @ self.W
        if targets is None:
            return logits, None
        counts = logits.exp()
        probs = counts / counts.sum(1, keepdim=True)
        loss = -probs[torch.arange(targets.shape[0], device=targets.device), targets].log().mean()
        if self.training:
            loss = loss + self.reg * (self.W ** 2).mean()
        return logits, loss
