"""PyTorch twins of the makemore models, with tinytorch's parameter names: lecture 3's MLP
(models/mlp.py), lecture 6's WaveNet (models/wavenet.py) and its dilated-convolution form
(models/wavenet_conv.py), and makemore's transformer (models/transformer.py)."""
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


class TorchWaveNetConv(tnn.Module):
    """models/wavenet_conv.py's WaveNetConv in PyTorch, with its names: the token sequence left-padded
    with block_size - 1 tokens '.', kernel-2 convolutions of dilation 1, 2, 4, ... keeping their valid
    outputs, BatchNorm1d over (N, C, L), tanh, a Linear head on channels-last."""

    def __init__(self, vocab_size, block_size=8, n_embd=24, n_hidden=128):
        super().__init__()
        self.block_size = block_size
        self.wte = tnn.Embedding(vocab_size, n_embd)
        levels = block_size.bit_length() - 1
        self.convs = tnn.ModuleList(tnn.Conv1d(n_embd if level == 0 else n_hidden, n_hidden, 2, dilation=2 ** level,
                                               bias=False) for level in range(levels))
        self.norms = tnn.ModuleList(tnn.BatchNorm1d(n_hidden) for _ in range(levels))
        self.head = tnn.Linear(n_hidden, vocab_size)

    def forward(self, idx, targets):
        x = self.wte(TF.pad(idx, (self.block_size - 1, 0))).transpose(1, 2)
        for conv, norm in zip(self.convs, self.norms):
            x = torch.tanh(norm(conv(x)))
        logits = self.head(x.transpose(1, 2))
        return logits, TF.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-1)


class CausalSelfAttention(tnn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.n_head = n_head
        self.c_attn = tnn.Linear(n_embd, 3 * n_embd)
        self.c_proj = tnn.Linear(n_embd, n_embd)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = TF.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).reshape(B, T, C))


class Block(tnn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.ln_1 = tnn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head)
        self.ln_2 = tnn.LayerNorm(n_embd)
        self.mlp = tnn.Sequential(tnn.Linear(n_embd, 4 * n_embd), tnn.GELU(approximate="tanh"),
                                  tnn.Linear(4 * n_embd, n_embd))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class TorchTransformer(tnn.Module):
    """makemore's transformer in PyTorch, with tinytorch.models.transformer.Transformer's names."""

    def __init__(self, vocab_size, block_size, n_layer=4, n_head=4, n_embd=64):
        super().__init__()
        self.wte = tnn.Embedding(vocab_size, n_embd)
        self.wpe = tnn.Embedding(block_size, n_embd)
        self.blocks = tnn.ModuleList([Block(n_embd, n_head) for _ in range(n_layer)])
        self.ln_f = tnn.LayerNorm(n_embd)
        self.lm_head = tnn.Linear(n_embd, vocab_size, bias=False)

    def forward(self, idx, targets):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1], device=idx.device))
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        return logits, TF.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1), ignore_index=-1)
