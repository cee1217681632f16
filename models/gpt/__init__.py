"""GPT from scratch (lecture 7) and GPT-2 124M (lecture 10) on tinytorch.

    model.py       GPTConfig, GPT (nanoGPT semantics, Hugging Face GPT-2 names), generate, from_pretrained
    kv_cache.py    keys/values of past positions for incremental decoding
    presets.py     TrainConfig (build-nanogpt's recipe) and the presets
    data.py        Tiny Shakespeare by characters, text with GPT-2 BPE, samplers
    shards.py      uint16 token shards: writing and streaming (rank / world_size)
    checkpoint.py  resumable training checkpoints (safetensors), the config check on resume
    memory.py      the memory a training config needs, checked against the machine's
    train.py       the training loop, evaluation, metrics.json, loss.png
    cli.py         python -m tinytorch.models.gpt {train,sample,prepare,demo}
"""
from .model import GPT, GPTConfig
from .presets import PRESETS, TrainConfig

__all__ = ["GPT", "GPTConfig", "PRESETS", "TrainConfig"]
