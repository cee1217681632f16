"""The inference engine: batched sampling with a KV cache and the calculator tool (nanochat's Engine).

`Engine.generate(tokens, num_samples, ...)` completes one prompt num_samples times at once:

1. Prefill once: the prompt runs through the model with a batch-1 KV cache.
2. Clone per sample: a batch-num_samples cache gets a copy of the prompt's keys and values in every row,
   and the prompt's last logits are repeated; each later step runs one token per row.
3. Sample each row's next token from softmax(logits / temperature), restricted to the top_k most likely
   tokens and to the smallest set whose probability reaches top_p; temperature 0 is argmax.
4. The tool state machine, per row: tokens after <|python_start|> are collected; on <|python_end|> their
   text goes to the calculator (calculator.py, arithmetic only), and if it answers, the tokens
   <|output_start|> result <|output_end|> are queued as forced tokens. A forced token replaces the
   sampled one, and its mask is 0 (sampled tokens have mask 1), so training never treats the tool's
   output as the model's choice. A row ends at <|assistant_end|> (or <|bos|>).

Each step yields (token per row, mask per row). With use_cache=False every step reruns the whole
sequences instead (the reference the cached path is tested against).
"""
from collections import deque

import tinytorch
from tinytorch.models.gpt.kv_cache import KVCache
from tinytorch.nn import functional as F

from .calculator import calculate


def sample_next_token(logits, temperature=1.0, top_k=None, top_p=None, generator=None):
    """Next token ids (B, 1) from logits (B, V)."""
    if temperature == 0:
        return logits.argmax(dim=-1, keepdim=True)
    logits = logits / temperature
    if top_k:
        kth = logits.topk(min(top_k, logits.shape[-1]), dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = F.softmax(logits, dim=-1)
    if top_p is not None and top_p < 1.0:
        # keep the most likely tokens while the probability before them is below top_p (at least one)
        ranked = probs.sort(dim=-1, descending=True).values
        kept = ((ranked.cumsum(dim=-1) - ranked) < top_p).sum(dim=-1, keepdim=True)
        smallest_kept = ranked.gather(1, kept - 1)
        probs = probs.masked_fill(probs < smallest_kept, 0.0)
    return probs.multinomial(1, generator=generator)


class RowState:
    """One sample's tool state: the expression being written and the tokens waiting to be forced."""

    def __init__(self):
        self.forced = deque()
        self.expression = None  # token ids after <|python_start|>, None outside a tool call
        self.done = False


class Engine:
    def __init__(self, model, tokenizer):
        self.model = model
        self.tokenizer = tokenizer

    @tinytorch.no_grad()
    def generate(self, tokens, num_samples=1, max_tokens=64, temperature=1.0, top_k=None, top_p=None, seed=0,
                 use_cache=True):
        """Yield (tokens, masks), one entry per sample, for each new position (see the module docstring)."""
        model = self.model
        device = next(model.parameters()).device
        max_tokens = min(max_tokens, model.config.block_size - len(tokens))
        if max_tokens < 1:
            raise ValueError(f"Engine.generate: a prompt of {len(tokens)} tokens leaves no room in the "
                             f"model's {model.config.block_size} positions")
        generator = tinytorch.Generator(device.type).manual_seed(seed)
        was_training = model.training
        model.eval()
        prompt = tinytorch.tensor([tokens], dtype=tinytorch.long, device=device)
        if use_cache:
            prefill = KVCache.for_model(model, 1, device)
            logits = model.decode_step(prompt, prefill)
            cache = KVCache.for_model(model, num_samples, device)
            for one, many in zip(prefill.layers, cache.layers):  # the prompt's keys/values in every row
                many.k[:, :, :len(tokens)] = one.k[:, :, :len(tokens)]
                many.v[:, :, :len(tokens)] = one.v[:, :, :len(tokens)]
            cache.advance(len(tokens))
        else:
            logits = model(prompt)[0][:, -1, :]
            sequences = [list(tokens) for _ in range(num_samples)]
        logits = logits.expand(num_samples, -1)
        rows = [RowState() for _ in range(num_samples)]
        try:
            for _ in range(max_tokens):
                sampled = sample_next_token(logits, temperature, top_k, top_p, generator)[:, 0].tolist()
                column, masks = [], []
                for row, token in zip(rows, sampled):
                    forced = bool(row.forced)
                    token = row.forced.popleft() if forced else token
                    column.append(token)
                    masks.append(0 if forced else 1)
                    self._advance(row, token)
                yield column, masks
                if all(row.done for row in rows):
                    return
                step = tinytorch.tensor(column, dtype=tinytorch.long, device=device)[:, None]
                if use_cache:
                    logits = model.decode_step(step, cache)
                else:
                    for sequence, token in zip(sequences, column):
                        sequence.append(token)
                    logits = model(tinytorch.tensor(sequences, dtype=tinytorch.long, device=device))[0][:, -1, :]
        finally:
            model.train(was_training)

    def _advance(self, row, token):
        """The tool state machine: one more token in this row."""
        tok = self.tokenizer
        if token in (tok.assistant_end, tok.bos):
            row.done = True
        elif token == tok.python_start:
            row.expression = []
        elif token == tok.python_end and row.expression is not None:
            result = calculate(tok.decode(row.expression))
            if result is not None:
                row.forced.extend([tok.output_start, *tok.encode(result), tok.output_end])
            row.expression = None
        elif row.expression is not None:
            row.expression.append(token)

    def generate_batch(self, tokens, num_samples=1, **kwargs):
        """(sequences, masks): each sample's prompt plus completion, up to and including the token that
        ended it, and its mask (0 on the prompt and on forced tokens)."""
        sequences = [list(tokens) for _ in range(num_samples)]
        masks = [[0] * len(tokens) for _ in range(num_samples)]
        done = [False] * num_samples
        ends = (self.tokenizer.assistant_end, self.tokenizer.bos)
        for column, mask_column in self.generate(tokens, num_samples, **kwargs):
            for i, (token, mask) in enumerate(zip(column, mask_column)):
                if not done[i]:
                    sequences[i].append(token)
                    masks[i].append(mask)
                    done[i] = token in ends
        return sequences, masks

    def reply_text(self, sequence, prompt_length):
        """The text of a completion: the tokens after the prompt, without the token that ended it."""
        completion = sequence[prompt_length:]
        if completion and completion[-1] in (self.tokenizer.assistant_end, self.tokenizer.bos):
            completion = completion[:-1]
        return self.tokenizer.decode(completion)
