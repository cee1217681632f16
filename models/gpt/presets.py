"""Training recipe (`TrainConfig`), the named presets, and `--key=value` overrides.

Recipe defaults are build-nanogpt's: AdamW betas (0.9, 0.95), eps 1e-8, weight decay 0.1 on 2-D
parameters, linear warmup then cosine decay to min_lr, gradient clipping at 1.0, gradient
accumulation up to `total_batch_tokens` per step. A preset overrides them, and `--key=value`
overrides the preset. The shakespeare-char presets are nanoGPT's config/train_shakespeare_char.py
(lr 1e-3 -> 1e-4, warmup 100, beta2 0.99), the -cpu one with its README's CPU flags.

Every setting is checked when the config is made (`RULES`): a bad one is a ValueError naming the
flag, its allowed range and the value given.
"""
import math
import numbers
from dataclasses import asdict, dataclass, fields

from .model import GPTConfig


def _integer(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _number(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)


_COUNT = ("an integer >= 1", lambda v: _integer(v) and v >= 1)
_COUNT_OR_ZERO = ("an integer >= 0", lambda v: _integer(v) and v >= 0)
_RATE = ("a number > 0", lambda v: _number(v) and v > 0)
_NON_NEGATIVE = ("a number >= 0", lambda v: _number(v) and v >= 0)
_BETA = ("a number in [0, 1)", lambda v: _number(v) and 0 <= v < 1)
RULES = {  # TrainConfig field: (allowed values, test)
    "batch_size": _COUNT, "total_batch_tokens": _COUNT_OR_ZERO, "max_iters": _COUNT, "learning_rate": _RATE,
    "min_lr": _NON_NEGATIVE, "warmup_iters": _COUNT_OR_ZERO, "lr_decay_iters": _COUNT_OR_ZERO,
    "weight_decay": _NON_NEGATIVE, "beta1": _BETA, "beta2": _BETA, "eps": _RATE, "grad_clip": _NON_NEGATIVE,
    "eval_interval": _COUNT, "eval_iters": _COUNT, "sample_tokens": _COUNT_OR_ZERO,
    "checkpoint_interval": _COUNT_OR_ZERO, "seed": _COUNT_OR_ZERO,
}


@dataclass
class TrainConfig:
    dataset: str = "tinyshakespeare"   # "tinyshakespeare", a text file/folder (GPT-2 BPE), or a shard folder
    batch_size: int = 12               # sequences per micro-batch
    total_batch_tokens: int = 0        # tokens per optimizer step; 0 = one micro-batch
    max_iters: int = 2000
    learning_rate: float = 6e-4
    min_lr: float = 6e-5
    warmup_iters: int = 100
    lr_decay_iters: int = 0            # cosine ends here (0 = max_iters); min_lr afterwards
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-8
    grad_clip: float = 1.0             # 0 = no clipping
    eval_interval: int = 250
    eval_iters: int = 20
    sample_tokens: int = 200           # sampled at every evaluation (0 = never)
    checkpoint_interval: int = 0       # also checkpoint every N steps (always at the end)
    shuffle_shards: bool = False       # shard datasets: reshuffle the train shard order every epoch
    seed: int = 1337
    device: str = "cpu"

    def __post_init__(self):
        for name, (allowed, ok) in RULES.items():
            value = getattr(self, name)
            if not ok(value):
                raise ValueError(f"--{name} must be {allowed}, got {value!r}")

    def lr_at(self, step):
        """Learning rate for optimizer step `step` (0-based): warmup, cosine decay, then floor."""
        decay_end = self.lr_decay_iters or self.max_iters
        if step < self.warmup_iters:
            return self.learning_rate * (step + 1) / self.warmup_iters
        if step >= decay_end:
            return self.min_lr
        ratio = (step - self.warmup_iters) / max(1, decay_end - self.warmup_iters)
        return self.min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (self.learning_rate - self.min_lr)

    def to_dict(self):
        return asdict(self)


PRESETS = {
    "shakespeare-char-cpu": dict(
        model=dict(n_layer=4, n_head=4, n_embd=128, block_size=64, dropout=0.0, bias=False),
        train=dict(dataset="tinyshakespeare", batch_size=12, max_iters=2000, learning_rate=1e-3, min_lr=1e-4,
                   warmup_iters=100, lr_decay_iters=2000, beta2=0.99, eval_interval=250, eval_iters=20)),
    "shakespeare-char": dict(
        model=dict(n_layer=6, n_head=6, n_embd=384, block_size=256, dropout=0.2, bias=False),
        train=dict(dataset="tinyshakespeare", batch_size=64, max_iters=5000, learning_rate=1e-3, min_lr=1e-4,
                   warmup_iters=100, lr_decay_iters=5000, beta2=0.99, eval_interval=250, eval_iters=200)),
    "gpt2-124m": dict(
        model=dict(n_layer=12, n_head=12, n_embd=768, block_size=1024, vocab_size=50257, dropout=0.0, bias=True),
        train=dict(dataset="", batch_size=64, total_batch_tokens=524288, max_iters=19073, learning_rate=6e-4, min_lr=6e-5,
                   warmup_iters=715, eval_interval=250, eval_iters=20)),
}


def model_config(model_settings, vocab_size):
    """GPTConfig from a preset's "model" dict; vocab_size (the dataset's) fills in a missing one."""
    return GPTConfig(**{"vocab_size": vocab_size, **model_settings})


def resolve(name, overrides=()):
    """The preset `name` with `key=value` overrides applied: {"model": {...}, "train": TrainConfig}."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    model = dict(PRESETS[name]["model"])
    train = dict(PRESETS[name]["train"])
    model_types = {f.name: f.type for f in fields(GPTConfig)}
    train_types = {f.name: f.type for f in fields(TrainConfig)}
    for item in overrides:
        key, value = parse_override(item)
        if key in model_types:
            model[key] = convert(key, value, model_types[key])
        elif key in train_types:
            train[key] = convert(key, value, train_types[key])
        else:
            raise ValueError(f"unknown override key {key!r}; known keys: "
                             f"{', '.join(sorted(model_types) + sorted(train_types))}")
    model_config(model, vocab_size=1)  # checks the model settings now; the dataset gives the vocabulary later
    return {"model": model, "train": TrainConfig(**train)}


def parse_override(item):
    if not item.startswith("--") or "=" not in item:
        raise ValueError(f"cannot read argument {item!r}: overrides are written --key=value")
    key, value = item[2:].split("=", 1)
    return key.replace("-", "_"), value


def convert(key, text, kind):
    kind = {"int": int, "float": float, "bool": bool, "str": str}.get(kind, kind)
    if kind is bool:
        if text.lower() in ("1", "true", "yes"):
            return True
        if text.lower() in ("0", "false", "no"):
            return False
        raise ValueError(f"override --{key}={text}: expected true or false")
    try:
        return kind(text)
    except ValueError:
        raise ValueError(f"override --{key}={text}: expected a value of type {kind.__name__}") from None
