"""Datasets for GPT training: Tiny Shakespeare by characters, any text with GPT-2 BPE, or token shards.

`open_dataset(spec)` returns an object with `tokenizer` (encode/decode, `vocab_size`) and
`batches(split, batch_size, block_size, seed, ...)`, a sampler whose `next_batch()` gives
(x, y) NumPy int64 arrays (B, T), y = x shifted by one token, and whose `state_dict()` /
`load_state_dict()` capture its position so training resumes on the same batches.
- In-memory datasets (characters, BPE text) are split 90 % train / 10 % val, and sampled as
  nanoGPT does: B windows at uniformly random offsets (`RandomWindows`).
With `rank` and `world_size`, a sampler gives process `rank` its part of each global batch of
world_size * B sequences, and its state is the global stream's (the same on every rank).
- A folder of shards (see shards.py) is streamed in order (`ShardStream`).
"""
import functools
from pathlib import Path

import numpy as np

import tinytorch

from .shards import ShardStream, shard_paths

TRAIN_FRACTION = 0.9


class CharTokenizer:
    """One token per character of a fixed alphabet (nanoGPT's shakespeare_char)."""

    kind = "char"

    def __init__(self, chars):
        self.chars = "".join(chars)
        self.stoi = {c: i for i, c in enumerate(self.chars)}
        self.vocab_size = len(self.chars)

    def encode(self, text):
        unknown = set(text) - self.stoi.keys()
        if unknown:
            raise ValueError(f"CharTokenizer: characters {sorted(unknown)[:10]} are not in the vocabulary")
        return [self.stoi[c] for c in text]

    def decode(self, ids):
        return "".join(self.chars[i] for i in ids)

    def to_meta(self):
        return {"kind": self.kind, "chars": self.chars}


class GPT2BPE:
    """GPT-2's byte-level BPE (tinytorch.tokenizers.GPT2Tokenizer) with `<|endoftext|>` as eot."""

    kind = "gpt2"

    def __init__(self):
        self.tokenizer = tinytorch.tokenizers.GPT2Tokenizer()
        self.eot = self.tokenizer.special_tokens["<|endoftext|>"]
        self.vocab_size = self.tokenizer.n_vocab

    def encode(self, text):
        return self.tokenizer.encode_ordinary(text)

    def decode(self, ids):
        return self.tokenizer.decode(list(ids))

    def to_meta(self):
        return {"kind": self.kind}


@functools.cache
def gpt2_bpe():
    """The process's one GPT2BPE (building it reads and checks 50,000 merges)."""
    return GPT2BPE()


def tokenizer_from_meta(meta):
    if meta["kind"] == "char":
        return CharTokenizer(meta["chars"])
    if meta["kind"] == "gpt2":
        return gpt2_bpe()
    raise ValueError(f"unknown tokenizer kind {meta['kind']!r}")


class RandomWindows:
    """(x, y) from B windows of T+1 tokens at uniformly random offsets (nanoGPT's get_batch).

    Every rank draws the offsets of the whole global batch, world_size * B of them, from the same
    stream and keeps its own B: the ranks together read what one process would read in world_size
    consecutive batches (NumPy's streams give the same numbers drawn in one call or in several)."""

    def __init__(self, tokens, batch_size, block_size, seed, rank=0, world_size=1):
        if len(tokens) < block_size + 1:
            raise ValueError(f"RandomWindows: {len(tokens)} tokens are too few for block_size {block_size}")
        self.tokens, self.B, self.T = tokens, batch_size, block_size
        self.rank, self.world_size = rank, world_size
        self.rng = np.random.default_rng(seed)
        self.offsets = np.arange(block_size + 1)

    def next_batch(self):
        starts = self.rng.integers(0, len(self.tokens) - self.T, size=self.B * self.world_size)
        starts = starts[self.rank * self.B:(self.rank + 1) * self.B]
        window = self.tokens[starts[:, None] + self.offsets].astype(np.int64)
        return np.ascontiguousarray(window[:, :-1]), np.ascontiguousarray(window[:, 1:])

    def state_dict(self):
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state):
        self.rng.bit_generator.state = state["rng"]


class TokenArrays:
    """A dataset held in memory as one token array, split 90/10 into train and val."""

    def __init__(self, tokens, tokenizer, name):
        n = int(TRAIN_FRACTION * len(tokens))
        self.splits = {"train": tokens[:n], "val": tokens[n:]}
        self.tokenizer = tokenizer
        self.name = name

    def batches(self, split, batch_size, block_size, seed, rank=0, world_size=1, shuffle=False):
        return RandomWindows(self.splits[split], batch_size, block_size, seed, rank, world_size)

    def describe(self):
        return f"{self.name}: {len(self.splits['train']):,} train / {len(self.splits['val']):,} val tokens"


class ShardFolder:
    """A folder of token shards written by `prepare` (GPT-2 BPE)."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.paths = {"train": shard_paths(folder, "train"), "val": shard_paths(folder, "val")}
        self.tokenizer = gpt2_bpe()
        self.name = str(folder)

    def batches(self, split, batch_size, block_size, seed, rank=0, world_size=1, shuffle=False):
        return ShardStream(self.paths[split], batch_size, block_size, rank, world_size,
                           shuffle=shuffle and split == "train", seed=seed)

    def describe(self):
        return f"{self.name}: {len(self.paths['train'])} train shards, {len(self.paths['val'])} val shards"


def text_documents(path):
    """The documents under path: a text file is one document; a folder gives each *.txt file under it."""
    path = Path(path)
    files = [path] if path.is_file() else sorted(path.rglob("*.txt"))
    if not files:
        raise FileNotFoundError(f"no .txt files under {path}")
    return [read_utf8(f) for f in files]


def read_utf8(path):
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{path} is not UTF-8 text (byte {e.start}: {e.reason})") from None


def open_dataset(spec):
    """'tinyshakespeare' (characters), a folder of *.npy shards, or a text file/folder (GPT-2 BPE)."""
    if spec == "tinyshakespeare":
        text = tinytorch.data.read_text("tinyshakespeare")
        tokenizer = CharTokenizer(sorted(set(text)))
        return TokenArrays(np.array(tokenizer.encode(text), dtype=np.uint16), tokenizer, spec)
    path = Path(spec).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"dataset {spec!r} not found: it is neither 'tinyshakespeare' nor an existing "
                                "file or folder")
    if path.is_dir() and any(path.glob("*.npy")):
        return ShardFolder(path)
    tokenizer = gpt2_bpe()
    ids = []
    for doc in text_documents(path):
        ids.append(tokenizer.eot)
        ids.extend(tokenizer.encode(doc))
    return TokenArrays(np.array(ids, dtype=np.uint16), tokenizer, str(path))
