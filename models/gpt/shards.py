"""Token shards on disk (build-nanogpt's fineweb.py pattern): writing them, and streaming batches.

A shard is a 1-D uint16 `.npy` array of GPT-2 token ids. Documents are concatenated, each
preceded by `<|endoftext|>`; a document that does not fit is continued in the next shard. The
first shard written is the validation split (`val_000000.npy`), the others train
(`train_000001.npy`, ...).
"""
from pathlib import Path

import numpy as np

from tinytorch.serialization import atomic


def write_shards(documents, out_dir, shard_tokens, encode, eot, progress=None):
    """Tokenize `documents` (an iterable of str) into shards of `shard_tokens` tokens in out_dir.

    encode: str -> list of ids; eot: the `<|endoftext|>` id; progress: a tqdm-like bar (update(n)).
    Returns the written paths. The last shard holds whatever is left (may be shorter).
    """
    if shard_tokens < 2:
        raise ValueError(f"prepare: --shard-tokens must be at least 2, got {shard_tokens}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    buffer = np.empty(shard_tokens, dtype=np.uint16)
    filled, paths = 0, []
    for text in documents:
        ids = np.asarray([eot] + list(encode(text)), dtype=np.int64)
        if ids.max() >= 2 ** 16:
            raise ValueError(f"prepare: token id {ids.max()} does not fit in uint16")
        while len(ids):
            take = min(len(ids), shard_tokens - filled)
            buffer[filled:filled + take] = ids[:take]
            filled += take
            ids = ids[take:]
            if progress is not None:
                progress.update(take)
            if filled == shard_tokens:
                paths.append(_save_shard(out_dir, len(paths), buffer))
                filled = 0
    if filled:
        paths.append(_save_shard(out_dir, len(paths), buffer[:filled]))
    return paths


def _save_shard(out_dir, index, tokens):
    split = "val" if index == 0 else "train"
    path = out_dir / f"{split}_{index:06d}.npy"
    with atomic.replacing(path) as tmp, open(tmp, "wb") as f:
        np.save(f, tokens)
    return path


def open_shard(path):
    """The tokens of the shard at `path`, memory-mapped; ValueError naming the file if it is not a 1-D
    array of integer token ids."""
    try:
        tokens = np.load(path, mmap_mode="r")
    except (OSError, ValueError, EOFError) as e:
        raise ValueError(f"shard {path} is not a readable .npy file ({e}); write the shards again with "
                         "prepare") from None
    if not isinstance(tokens, np.ndarray):
        tokens.close()
        raise ValueError(f"shard {path} is an .npz archive, not 1-D token ids; write the shards again with prepare")
    if tokens.ndim != 1 or tokens.dtype.kind not in "iu":
        raise ValueError(f"shard {path} holds a {tokens.dtype} array of shape {tokens.shape}, not 1-D token ids")
    return tokens


def shard_paths(folder, split):
    """Sorted shard files of a split ("train" or "val") in folder."""
    paths = sorted(Path(folder).glob(f"{split}_*.npy"))
    if not paths:
        raise FileNotFoundError(f"no {split}_*.npy shards in {folder}")
    return paths


class ShardStream:
    """Batches (x, y), each (B, T) int64, walking the shards in order (build-nanogpt's DataLoaderLite).

    With world_size processes, rank r reads the r-th of each group of world_size consecutive
    B*T-token chunks, so together they cover the stream once. Each read takes B*T+1 tokens (y is
    x shifted by one); when the next group would run past the shard's end, the stream moves to
    the next shard, and after the last one starts a new epoch (in a new shuffled order when
    `shuffle`, drawn from (seed, epoch), so every rank agrees on it).
    """

    def __init__(self, paths, batch_size, block_size, rank=0, world_size=1, shuffle=False, seed=0):
        if not 0 <= rank < world_size:
            raise ValueError(f"ShardStream: rank {rank} is not in 0..{world_size - 1}")
        self.paths = [Path(p) for p in paths]
        self.B, self.T = batch_size, block_size
        self.rank, self.world_size = rank, world_size
        self.shuffle, self.seed = shuffle, seed
        self.group = batch_size * block_size * world_size
        for p in self.paths:
            n = len(open_shard(p))
            if n < self.group + 1:
                raise ValueError(f"ShardStream: shard {p} has {n} tokens, fewer than one step needs "
                                 f"(B*T*world_size + 1 = {self.group + 1})")
        self.load_state_dict({"epoch": 0, "shard": 0, "position": 0})

    def order(self, epoch):
        n = len(self.paths)
        if not self.shuffle:
            return list(range(n))
        return np.random.default_rng([self.seed, epoch]).permutation(n).tolist()

    def next_batch(self):
        start = self.position + self.rank * self.B * self.T
        buf = np.asarray(self.tokens[start:start + self.B * self.T + 1], dtype=np.int64)
        x, y = buf[:-1].reshape(self.B, self.T), buf[1:].reshape(self.B, self.T)  # reshape copies: contiguous
        self.position += self.group
        if self.position + self.group + 1 > len(self.tokens):
            self._next_shard()
        return x, y

    def _next_shard(self):
        self.shard += 1
        if self.shard == len(self.paths):
            self.epoch, self.shard = self.epoch + 1, 0
            self._order = self.order(self.epoch)
        self.position = 0
        self.tokens = open_shard(self.paths[self._order[self.shard]])

    def state_dict(self):
        return {"epoch": self.epoch, "shard": self.shard, "position": self.position}

    def load_state_dict(self, state):
        self.epoch, self.shard, self.position = state["epoch"], state["shard"], state["position"]
        self._order = self.order(self.epoch)
        self.tokens = open_shard(self.paths[self._order[self.shard]])
