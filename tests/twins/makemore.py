"""PyTorch twins of the makemore models, with tinytorch's parameter names: lecture 3's MLP
(models/mlp.py) and lecture 6's WaveNet (models/wavenet.py)."""
import torch
import torch.nn as tnn
import torch.nn.functional as TF


class TorchMLP(tnn.Module):
    """Lecture 3's MLP in PyTorch, with tinytorch.models.mlp.MLP's parameter names."""

    def __init__(self, vocab_size, block_size=3, n_embd=10, n_hidden=200):
        super().__init__()
        self.C = tnn.Parameter(torch.empty(vocab_size, n_embd))
        self.W1 = tnn.Parameter(torch.empty(block_size * n_embd, n_hidden))
        self.b1 = tnn.Parameter(torch.empty(n_hidden))
        self.W2 = tnn.Parameter(torch.empty(n_hidden, vocab_size))
        self.b2 = tnn.Parameter(torch.empty(vocab_size))

    def forward(self, idx, targets):
        emb = self.C[idx]
        h = torch.tanh(emb.view(emb.shape[0], -1) @ self.W1 + self.b1)
        logits = h @ self.W2 + self.b2
        return logits, TF.cross_entropy(logits, targets)


class FlattenConsecutive(tnn.Module):
    def __init__(self, n):
        super().__init__()
        self.n = n

    def forward(self, x):
        B, T, C = x.shape
        x = x.reshape(B, T // self.n, C * self.n)
        return x.squeeze(1) if x.shape[1] == 1 else x


class ChannelsLastBatchNorm1d(tnn.BatchNorm1d):
    def forward(self, x):
        return super().forward(x.transpose(1, 2)).transpose(1, 2) if x.dim() == 3 else super().forward(x)


class TorchWaveNet(tnn.Module):
    """Lecture 6's WaveNet in PyTorch, with tinytorch.models.wavenet.WaveNet's layer order and names."""

    def __init__(self, vocab_size, block_size=8, n_embd=24, n_hidden=128):
        super().__init__()
        layers, width = [tnn.Embedding(vocab_size, n_embd)], n_embd
        for _ in range(block_size.bit_length() - 1):
            layers += [FlattenConsecutive(2), tnn.Linear(2 * width, n_hidden, bias=False),
                       ChannelsLastBatchNorm1d(n_hidden), tnn.Tanh()]
            width = n_hidden
        layers.append(tnn.Linear(n_hidden, vocab_size))
        self.layers = tnn.Sequential(*layers)

    def forward(self, idx, targets):
        logits = self.layers(idx)
        return logits, TF.cross_entropy(logits, targets)
