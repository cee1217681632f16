"""Sampling shared by the makemore models: fixed contexts, `generate`, and whole words."""
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


@torch.no_grad()
def generate(model, idx, max_new_tokens, temperature=1.0, top_k=None, generator=None):
    """Extend idx (B, T) by `max_new_tokens` tokens, each drawn from the model's next-token
    distribution softmax(logits / temperature), optionally restricted to the top_k logits.

    The model sees at most its last `block_size` tokens; its logits are (B, V) or, for
    sequence models, (B, T, V), whose last position is used.
    """
    for _ in range(max_new_tokens):
        logits, _ = model(idx[:, -model.block_size:])
        if logits.ndim == 3:
            logits = logits[:, -1, :]
        logits = logits / temperature
        if top_k is not None:
            kth = torch.topk(logits, min(top_k, logits.shape[-1])).values[:, -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        probs = F.softmax(logits, dim=-1)
        idx = torch.cat((idx, torch.multinomial(probs, 1, generator=generator)), 1)
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
