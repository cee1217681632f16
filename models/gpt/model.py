"""GPT (nanoGPT's model) with Hugging Face GPT-2 parameter names, on the public tinytorch API.

    idx (B, T) -> wte(idx) + wpe(0..T-1) -> n_layer x Block -> ln_f -> lm_head -> logits (B, T, V)
    Block:  x = x + attn(ln_1(x));  x = x + mlp(ln_2(x))          (pre-norm, residual stream)
    attn:   causal multi-head self-attention through F.scaled_dot_product_attention
    mlp:    c_fc (C -> 4C), GELU (tanh form, as GPT-2), c_proj (4C -> C)

`lm_head.weight` is `transformer.wte.weight` (tied). `GPT.from_pretrained` reads Hugging Face
GPT-2 weights (`model.safetensors`, or `pytorch_model.bin` through tinytorch.load's weights-only
reader, which never runs code from the file), as nanoGPT's does. Init as GPT-2: N(0, 0.02) for weights and
embeddings, zeros for biases, and N(0, 0.02 / sqrt(2 n_layer)) for the two residual projections
(`attn.c_proj`, `mlp.c_proj`), so the residual stream's variance does not grow with depth.
"""
import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import tinytorch
from tinytorch import nn
from tinytorch.nn import functional as F

from ..sampling import pick_next_token
from .kv_cache import KVCache

TIED = ("transformer.wte.weight", "lm_head.weight")  # one matrix under two names
HF_CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")
HF_BUFFERS = (".attn.bias", ".attn.masked_bias")  # Hugging Face's causal-mask buffers (not c_attn.bias)
HF_WEIGHTS = ("model.safetensors", "pytorch_model.bin")  # what a Hugging Face model folder holds


@dataclass
class GPTConfig:
    block_size: int = 1024   # longest sequence (number of learned positions)
    vocab_size: int = 50257
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768
    dropout: float = 0.0
    bias: bool = True        # biases in Linear layers and LayerNorms (GPT-2: True)

    def __post_init__(self):
        for name in ("block_size", "vocab_size", "n_layer", "n_head", "n_embd"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"GPTConfig: {name} must be a positive int, got {value!r}")
        if self.n_embd % self.n_head:
            raise ValueError(f"GPTConfig: n_embd={self.n_embd} is not divisible by n_head={self.n_head}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"GPTConfig: dropout must be in [0, 1), got {self.dropout!r}")

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, d):
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"GPTConfig: unknown keys {sorted(unknown)}; known: {sorted(known)}")
        return cls(**d)


class CausalSelfAttention(nn.Module):
    """x (B, T, C) -> (B, T, C): n_head heads of size C / n_head, each position sees itself and the past."""

    def __init__(self, config):
        super().__init__()
        self.n_head = config.n_head
        self.dropout = config.dropout
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(self, x, cache=None):
        B, T, C = x.shape
        hs = C // self.n_head
        qkv = self.c_attn(x).view(B, T, 3, self.n_head, hs).permute(2, 0, 3, 1, 4)  # (3, B, nh, T, hs)
        q, k, v = qkv.unbind(0)
        if cache is not None:
            k, v = cache.append(k, v)
        # A single new token after cached keys is the last position: it may see every key.
        causal = k.shape[2] == T and T > 1
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0,
                                           is_causal=causal)
        y = y.transpose(1, 2).reshape(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        # c_proj(gelu(h)) as one op that recomputes the GELU in the backward instead of keeping
        # it (F.gelu_linear; the same numbers as the two ops, a (B, T, 4C) array less memory)
        h = self.c_fc(x)
        return self.dropout(F.gelu_linear(h, self.c_proj.weight, self.c_proj.bias, approximate="tanh"))


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x, cache=None):
        x = x + self.attn(self.ln_1(x), cache)
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """`forward(idx, targets=None) -> (logits, loss)`; loss is the mean cross-entropy over targets != -1."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight
        self._init_weights()

    def _init_weights(self):
        """GPT-2's init, drawn once per parameter (the tied matrix once); LayerNorm weights stay 1."""
        residual_std = 0.02 / math.sqrt(2 * self.config.n_layer)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=residual_std)
            elif p.dim() == 2:
                nn.init.normal_(p, mean=0.0, std=0.02)
            elif name.endswith(".bias"):
                nn.init.zeros_(p)

    def num_params(self, non_embedding=False):
        """Number of parameters (the tied wte/lm_head matrix counted once); optionally without wpe."""
        n = sum(p.numel() for p in self.parameters())
        return n - self.transformer.wpe.weight.numel() if non_embedding else n

    def forward(self, idx, targets=None):
        B, T = self._check_idx(idx)
        x = self._hidden(idx, start=0)
        logits = self.lm_head(x)
        if targets is None:
            return logits, None
        if tuple(targets.shape) != (B, T):
            raise ValueError(f"GPT.forward: targets shape {tuple(targets.shape)} must equal idx shape {(B, T)}")
        loss = F.cross_entropy(logits.view(B * T, -1), targets.reshape(B * T), ignore_index=-1)
        return logits, loss

    def _check_idx(self, idx, start=0):
        if idx.ndim != 2:
            raise ValueError(f"GPT.forward: idx must be (B, T) token ids, got shape {tuple(idx.shape)}")
        B, T = idx.shape
        if start + T > self.config.block_size:
            raise ValueError(f"GPT.forward: cannot run a sequence of length {start + T}, "
                             f"block_size is only {self.config.block_size}")
        return B, T

    def _hidden(self, idx, start, caches=None):
        """Final-LayerNorm output (B, T, C) for tokens at positions start .. start+T-1."""
        T = idx.shape[1]
        pos = tinytorch.arange(start, start + T, dtype=tinytorch.long, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for i, block in enumerate(self.transformer.h):
            x = block(x, None if caches is None else caches[i])
        return self.transformer.ln_f(x)

    def configure_optimizers(self, weight_decay, learning_rate, betas, eps=1e-8):
        """AdamW with weight decay on the 2-D parameters (matmul weights, embeddings) only."""
        params = list(self.parameters())
        decay = [p for p in params if p.dim() >= 2]
        no_decay = [p for p in params if p.dim() < 2]
        groups = [{"params": decay, "weight_decay": weight_decay},
                  {"params": no_decay, "weight_decay": 0.0}]
        return tinytorch.optim.AdamW(groups, lr=learning_rate, betas=betas, eps=eps)

    # ---- generation ---------------------------------------------------------------------------
    @tinytorch.no_grad()
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None, use_cache=True, generator=None,
                 window_shift=1):
        """Append max_new_tokens sampled tokens to idx (B, T); temperature 0 means greedy (argmax).

        The model sees at most block_size tokens. Once the sequence outgrows that window, the
        window moves on by `window_shift` tokens at a time: 1 is nanoGPT's crop to the last
        block_size tokens; a larger shift (e.g. block_size // 2) keeps the window in place for
        longer. With `use_cache`, keys and values of the window's positions are kept (KVCache), so
        each new token runs one position through the model; a window move shifts every position,
        so the cache is then rebuilt from the window. Cached and uncached paths give the same tokens.
        """
        block = self.config.block_size
        if not 1 <= window_shift <= block:
            raise ValueError(f"GPT.generate: window_shift must be in 1..block_size={block}, got {window_shift}")
        self._check_idx(idx[:, :1])
        start = max(0, idx.shape[1] - block)  # the window is idx[:, start:]
        cache = KVCache.for_model(self, idx.shape[0], idx.device) if use_cache else None
        cached_from = None
        for _ in range(max_new_tokens):
            if idx.shape[1] - start > block:
                start = max(start + window_shift, idx.shape[1] - block)
            if not use_cache:
                logits = self._last_logits(idx[:, start:])
            elif cached_from != start:
                cache.clear()
                logits = self._last_logits(idx[:, start:], cache)
                cached_from = start
            else:
                logits = self._last_logits(idx[:, -1:], cache)
            idx = tinytorch.cat([idx, pick_next_token(logits, temperature, top_k, generator)], dim=1)
        return idx

    def hidden_states(self, idx):
        """The trunk's output (B, T, n_embd), after ln_f: features for a head other than lm_head."""
        self._check_idx(idx)
        return self._hidden(idx, start=0)

    def decode_step(self, idx, cache):
        """Logits (B, V) for the position after idx (B, T), whose tokens follow the `cache`'s positions;
        their keys and values are added to the cache (a prompt's prefill, or one token per row)."""
        return self._last_logits(idx, cache)

    def _last_logits(self, idx, cache=None):
        """Logits (B, V) for the position after idx, running idx through the blocks (and the cache)."""
        start = 0 if cache is None else cache.length
        self._check_idx(idx, start)
        x = self._hidden(idx, start, None if cache is None else cache.layers)
        if cache is not None:
            cache.advance(idx.shape[1])
        return self.lm_head(x[:, -1, :])

    def load_state_dict(self, state_dict, strict=True):
        """Module.load_state_dict, with the tied matrix under either of its names or both (training
        checkpoints and Hugging Face files keep it once)."""
        state = dict(state_dict)
        for name, other in (TIED, TIED[::-1]):
            if name in state and other not in state:
                state[other] = state[name]
        return super().load_state_dict(state, strict)

    @classmethod
    def from_pretrained(cls, path, n_head=None):
        """A GPT with the weights of a Hugging Face GPT-2 checkpoint: `model.safetensors` or
        `pytorch_model.bin` (torch's format, read by tinytorch.load without running code), the file
        or its folder (which is searched in that order).

        Hugging Face names match ours (`h.0.attn.c_attn.weight`, ...), with or without the
        `transformer.` prefix (GPT2Model vs GPT2LMHeadModel files). `attn.c_attn`, `attn.c_proj`,
        `mlp.c_fc` and `mlp.c_proj` are Conv1D layers storing the weight as (in, out), so those four
        are transposed; the causal-mask buffers `attn.bias` / `attn.masked_bias` are skipped. The
        config comes from the shapes; n_head from `config.json` beside the file when there is one,
        else n_embd / 64 (GPT-2's head size at every size)."""
        path = Path(path)
        candidates = [path / name for name in HF_WEIGHTS] if path.is_dir() else [path]
        file = next((f for f in candidates if f.is_file()), None)
        if file is None:
            raise FileNotFoundError(f"GPT.from_pretrained: no {' or '.join(HF_WEIGHTS)} at {path}")
        config_json = file.parent / "config.json"
        if n_head is None and config_json.is_file():
            n_head = hugging_face_n_head(config_json)
        raw = tinytorch.load(file, map_location="cpu")
        if not isinstance(raw, dict) or not all(isinstance(v, tinytorch.Tensor) for v in raw.values()):
            raise ValueError(f"GPT.from_pretrained: {file} is not a Hugging Face checkpoint of tensors")
        state = {}
        for name, tensor in raw.items():
            short = name.removeprefix("transformer.")
            if not short.endswith(HF_BUFFERS):
                state[short if short == "lm_head.weight" else f"transformer.{short}"] = (
                    tensor.t() if short.endswith(HF_CONV1D) else tensor)
        missing = {"transformer.wte.weight", "transformer.wpe.weight"} - state.keys()
        if missing:
            raise ValueError(f"GPT.from_pretrained: {file} is not a GPT-2 checkpoint (missing {sorted(missing)})")
        vocab_size, n_embd = state["transformer.wte.weight"].shape
        config = GPTConfig(block_size=state["transformer.wpe.weight"].shape[0], vocab_size=vocab_size,
                           n_layer=len({k.split(".")[2] for k in state if k.startswith("transformer.h.")}),
                           n_head=n_head or n_embd // 64, n_embd=n_embd, dropout=0.0,
                           bias="transformer.h.0.attn.c_attn.bias" in state)
        model = cls(config)
        model.load_state_dict(state)
        return model


def hugging_face_n_head(config_json):
    """n_head from a Hugging Face config.json (None when it has none); ValueError naming the file if it is
    not a JSON object or its n_head is not a positive integer."""
    try:
        config = json.loads(config_json.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as e:  # not JSON, not UTF-8, nested too deeply
        raise ValueError(f"GPT.from_pretrained: {config_json} is not a JSON config ({e})") from None
    if not isinstance(config, dict):
        raise ValueError(f"GPT.from_pretrained: {config_json} is not a JSON object")
    n_head = config.get("n_head")
    if n_head is not None and (not isinstance(n_head, int) or isinstance(n_head, bool) or n_head < 1):
        raise ValueError(f"GPT.from_pretrained: {config_json} has n_head={n_head!r}, not a positive integer")
    return n_head
