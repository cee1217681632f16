"""Lecture 6's WaveNet as dilated causal convolutions: the tree's output at every position at once.

The tree (models/wavenet.py) reads one window of 8 characters x_0..x_7 and fuses neighbours in pairs,
8 -> 4 -> 2 -> 1. Level l (l = 1, 2, 3) computes, from two vectors of the level below,

    h = tanh(BN(W [a ; b])),    W: (H, 2C), [a ; b]: the older vector a stacked on the newer b,

and the pairs it fuses lie d = 2^(l-1) positions apart in the sequence. Writing W = [W_a | W_b]
(W_a, W_b: (H, C)), W [a ; b] = W_a a + W_b b, which is a Conv1d with kernel 2 and dilation d whose
output at t reads its input at t - d (tap 0) and t (tap 1):

    conv(x)[:, t] = w[:, :, 0] x[:, t - d] + w[:, :, 1] x[:, t],    w = W.view(H, 2, C).transpose(1, 2)

(w: (H, C, 2), the layout of nn.Conv1d's weight). Dilations 1, 2, 4 make position t depend on exactly
x_{t-7}..x_t, paired as the tree pairs them, so on a sequence the convolutions give the tree's
output for the window ending at every position t in one pass, sharing the level-1 and level-2
results that neighbouring windows have in common (the tree recomputes them per window).

Causality and padding: the tree's windows are padded on the left with '.' (index 0, see
models/sampling.fixed_context and makemore_data.context_examples), and '.' has an embedding that
is not zero. So the token sequence (B, T) is left-padded with block_size - 1 tokens '.' before
the embedding, and every convolution keeps only its valid outputs (no zero padding, which would
stand for a zero vector, not '.'): lengths T + 7 -> T + 6 -> T + 4 -> T for block 8. Position t
then sees the previous block_size characters exactly as the tree's window for t does.

Same weights, same numbers (`tree_to_conv_state_dict`, `WaveNetConv.from_tree`): in eval mode,
where BatchNorm uses its running statistics, the logits at every position equal the tree's on that
position's window. In training mode they differ, legitimately: BatchNorm's batch statistics are
over the positions each model computes, the tree's 4 / 2 / 1 pairs per window against every
position of every sequence here (padding positions included).

Shapes: idx (B, T) -> embedding (B, C, T + block_size - 1) -> per level (B, H, shorter) -> logits
(B, T, V); targets (B, T), -1 ignored (makemore_data.sequence_examples). The same weights count
as the tree's: 76,579 parameters for V = 27, block 8, embedding 24, hidden 128. From the same seed
the model draws the tree's initial weights (the lecture's init, the last layer scaled by 0.1).
"""
import tinytorch as torch
from tinytorch import nn
from tinytorch.nn import functional as F

from .lecture_layers import lecture_linear
from .makemore_data import IGNORE
from .sampling import Generates
from .wavenet import pair_levels


def pair_weight_to_conv(weight):
    """A pair Linear's weight (H, 2C) acting on [older ; newer] -> a kernel-2 Conv1d weight (H, C, 2),
    tap 0 the older input, tap 1 the newer."""
    H, two_c = weight.shape
    return weight.reshape(H, 2, two_c // 2).transpose(1, 2).contiguous()


def lecture_conv(width, n_hidden, dilation):
    """Conv1d(width, n_hidden, 2, dilation, no bias) holding the tree level's Linear(2 * width,
    n_hidden) drawn as the lecture draws it (lecture_linear), so both models take the same numbers
    from one seed; Conv1d's own init draws are undone."""
    weight = lecture_linear(2 * width, n_hidden, bias=False).weight
    state = torch.get_rng_state()
    conv = nn.Conv1d(width, n_hidden, 2, dilation=dilation, bias=False)
    torch.set_rng_state(state)
    with torch.no_grad():
        conv.weight.copy_(pair_weight_to_conv(weight))
    return conv


class WaveNetConv(Generates, nn.Module):
    def __init__(self, vocab_size, block_size=8, n_embd=24, n_hidden=128):
        super().__init__()
        levels = pair_levels(block_size, "WaveNetConv")
        self.block_size = block_size
        self.wte = nn.Embedding(vocab_size, n_embd)
        convs, norms, width = [], [], n_embd
        for level in range(levels):
            convs.append(lecture_conv(width, n_hidden, 2 ** level))
            norms.append(nn.BatchNorm1d(n_hidden))
            width = n_hidden
        self.convs, self.norms = nn.ModuleList(convs), nn.ModuleList(norms)
        self.head = lecture_linear(n_hidden, vocab_size, gain=0.1)

    def forward(self, idx, targets=None):
        B = idx.shape[0]
        pad = torch.zeros(B, self.block_size - 1, dtype=idx.dtype, device=idx.device)
        x = self.wte(torch.cat((pad, idx), 1)).transpose(1, 2)  # (B, C, T + block_size - 1)
        for conv, norm in zip(self.convs, self.norms):
            x = torch.tanh(norm(conv(x)))                          # length - dilation
        logits = self.head(x.transpose(1, 2))                      # (B, T, V)
        if targets is None:
            return logits, None
        return logits, F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                       ignore_index=IGNORE)

    @classmethod
    def from_tree(cls, tree):
        """A WaveNetConv holding models.wavenet.WaveNet `tree`'s weights and running statistics, on its
        device and in its dtype."""
        embedding, head = tree.layers[0], tree.layers[-1]
        model = cls(embedding.num_embeddings, tree.block_size, embedding.embedding_dim, head.in_features)
        model.to(embedding.weight.device, embedding.weight.dtype)
        model.load_state_dict(tree_to_conv_state_dict(tree.state_dict()))
        return model


def tree_to_conv_state_dict(state_dict):
    """The tree WaveNet's state dict -> WaveNetConv's.

    The tree's layers are [Embedding, then per level FlattenConsecutive, Linear, BatchNorm, Tanh,
    then Linear]: level l's Linear is layers.{2 + 4l}, its BatchNorm layers.{3 + 4l}, the head
    layers.{1 + 4 levels}. Linear weights become Conv1d weights by `pair_weight_to_conv`; the rest
    is copied.
    """
    levels = sum(1 for key in state_dict if key.endswith(".running_mean"))
    out = {"wte.weight": state_dict["layers.0.weight"]}
    for level in range(levels):
        out[f"convs.{level}.weight"] = pair_weight_to_conv(state_dict[f"layers.{2 + 4 * level}.weight"])
        prefix = f"layers.{3 + 4 * level}."
        for key, value in state_dict.items():
            if key.startswith(prefix):
                out[f"norms.{level}.{key[len(prefix):]}"] = value
    for name in ("weight", "bias"):
        out[f"head.{name}"] = state_dict[f"layers.{1 + 4 * levels}.{name}"]
    return out
