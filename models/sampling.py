"""Sampling shared by the makemore models and GPT: the next token, fixed contexts, `generate`, whole words.

Temperature 0 means greedy (the most likely token) everywhere; otherwise the next token is drawn
from softmax(logits / temperature), restricted to the top_k most likely tokens when top_k is given.
"""
import tinytorch as torch
from tinytorch.nn import functional as F


def fixed_context(idx, block_size):
    """The last `block_size` tokens of each row of idx (B, T), left-padded with '.' (index 0).

    The lectures' models read exactly `block_size` characters; a word's first characters are
    predicted from a context padded with '.', so a short prompt is padded the same way.
    """
    length = idx.shape[1]
    if length >= block_size:
        return idx[:, length - block_size:]
    pad = torch.zeros(idx.shape[0], block_size - length, dtype=idx.dtype, device=idx.device)
    return torch.cat((pad, idx), 1)


def pick_next_token(logits, temperature=1.0, top_k=None, generator=None):
    """Next token ids (B, 1) from logits (B, V): argmax if temperature == 0, else a sample from
    softmax(logits / temperature) restricted to the top_k most likely tokens."""
    if temperature < 0 or (top_k is not None and top_k < 1):
        raise ValueError(f"sampling: temperature must be >= 0 (0: greedy) and top_k >= 1, "
                         f"got temperature={temperature} and top_k={top_k}")
    if temperature == 0:
        return logits.argmax(dim=-1, keepdim=True)
    logits = logits / temperature
    if top_k is not None:
        kth = torch.topk(logits, min(top_k, logits.shape[-1])).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    return torch.multinomial(F.softmax(logits, dim=-1), 1, generator=generator)


@torch.no_grad()
def generate(model, idx, max_new_tokens, temperature=1.0, top_k=None, generator=None):
    """Extend idx (B, T) by `max_new_tokens` tokens, each picked by `pick_next_token`.

    The model sees at most its last `block_size` tokens; its logits are (B, V) or, for
    sequence models, (B, T, V), whose last position is used.
    """
    for _ in range(max_new_tokens):
        logits, _ = model(idx[:, -model.block_size:])
        if logits.ndim == 3:
            logits = logits[:, -1, :]
        idx = torch.cat((idx, pick_next_token(logits, temperature, top_k, generator)), 1)
    return idx


class Generates:
    """Gives a model makemore's `generate(idx, max_new_tokens, temperature, top_k)`."""

    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None, generator=None):
        return generate(self, idx, max_new_tokens, temperature, top_k, generator)


def sample_words(model, vocab, num, max_len, seed, temperature=1.0, top_k=None, device="cpu"):
    """`num` words, each sampled from '.' until the next '.' (at most max_len characters).

    The draws come from their own generator seeded with `seed`: the same model and seed give
    the same words.
    """
    model.eval()
    generator = torch.Generator(device).manual_seed(seed)
    start = torch.zeros(num, 1, dtype=torch.long, device=device)
    rows = model.generate(start, max_len, temperature=temperature, top_k=top_k, generator=generator)
    return [vocab.decode(row[1:]) for row in rows.tolist()]
