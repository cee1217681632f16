"""Named data files (datasets and tokenizer files), found on disk or downloaded once.

`get_path(name)` looks, in order, in

1. `$TINYTORCH_DATA/<name>`: a folder you provide (it may be read-only; nothing is written there);
2. the cache `$TINYTORCH_CACHE/<name>`, by default `~/.cache/tinytorch/<name>`;
3. the file's canonical public URL: downloaded, checked against its sha256, and written into
   the cache atomically (tinytorch.serialization.atomic), so an interrupted download never leaves
   a partial file under the real name.

A file found on disk is checked against its sha256 too, the first time a process uses it: a
truncated or edited file raises ValueError naming the file, both hashes and what to do, instead of
giving wrong tokens. The check is remembered for the process, keyed by (path, size, mtime), so a
file replaced while the process runs is checked again; nothing is written for it.

Offline, a missing file raises FileNotFoundError naming the file, the folders tried and
TINYTORCH_DATA.
"""
import bz2
import hashlib
import http.client
import os
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .serialization.atomic import write_bytes

DATA_ENV = "TINYTORCH_DATA"
CACHE_ENV = "TINYTORCH_CACHE"
_RAW = "https://raw.githubusercontent.com/"
_OPENAI = "https://openaipublic.blob.core.windows.net/"


@dataclass(frozen=True)
class DataFile:
    name: str
    url: str
    sha256: str
    size: int  # bytes


FILES = {f.name: f for f in [
    DataFile("names.txt", _RAW + "karpathy/makemore/master/names.txt",
             "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d", 228145),
    DataFile("tinyshakespeare.txt", _RAW + "karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
             "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed", 1115394),
    DataFile("taylorswift.txt", _RAW + "karpathy/minbpe/master/tests/taylorswift.txt",
             "c2e39cb822d4ae0caac22152cefc306d466e31217a9c5524e493ad2b76792f57", 185768),
    DataFile("encoder.json", _OPENAI + "gpt-2/encodings/main/encoder.json",
             "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783", 1042301),
    DataFile("vocab.bpe", _OPENAI + "gpt-2/encodings/main/vocab.bpe",
             "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5", 456318),
    DataFile("r50k_base.tiktoken", _OPENAI + "encodings/r50k_base.tiktoken",
             "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930", 835554),
    DataFile("cl100k_base.tiktoken", _OPENAI + "encodings/cl100k_base.tiktoken",
             "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7", 1681126),
    DataFile("hellaswag_val_full.txt.bz2",
             _RAW + "klosax/hellaswag_text_data/60a646bd806bce22dcb2eb6d4fadb12f1472aa4c/hellaswag_val_full.txt.bz2",
             "50b637899e4263c2bc456c2dc726c95d2c8cd8e2a552ea5bd7719ce3cb03fe5b", 1964544),
    DataFile("hellaswag_val_head2.jsonl",
             _RAW + "huggingface/datasets/74c0bb16a5664bdde4a3b176f08b1eea94235341/datasets/hellaswag/dummy/0.1.0/"
                    "dummy_data-zip-extracted/dummy_data/hellaswag_val.jsonl",
             "72d43757ee8d68dc1316d4d09dc131ad62c8be0786a79576a65f21ccf68b7279", 884),
]}


def data_dir():
    """The folder named by $TINYTORCH_DATA, or None when it is unset or empty."""
    folder = os.environ.get(DATA_ENV)
    return Path(folder).expanduser() if folder else None


def cache_dir():
    """The download cache: $TINYTORCH_CACHE, else ~/.cache/tinytorch."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "tinytorch").expanduser()


def fetch(url, timeout=60):
    """The bytes at `url`. The only function here that touches the network."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def get_path(name):
    """Path of the data file `name` (e.g. "names.txt"), downloading it into the cache if needed."""
    file = _lookup(name)
    folders = [d for d in (data_dir(), cache_dir()) if d is not None]
    for folder in folders:
        if (folder / file.name).is_file():
            return _checked(folder / file.name, file, in_cache=folder is folders[-1])
    return _download(file, cache_dir(), folders)


_VERIFIED = set()  # (path, size, mtime_ns) of the files whose sha256 matched in this process


def _checked(path, file, in_cache):
    """`path`, once its contents have the sha256 the registry gives for `file`."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key in _VERIFIED:
        return path
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            sha.update(chunk)
    digest = sha.hexdigest()
    if digest != file.sha256:
        fix = ("delete it and it is downloaded again" if in_cache else
               f"replace it with the original from {file.url}, or delete it to have it downloaded into the cache")
        raise ValueError(f"tinytorch.data: {path} is damaged or another version: sha256 {digest} ({stat.st_size:,} "
                         f"bytes), expected {file.sha256} ({file.size:,} bytes); {fix}")
    _VERIFIED.add(key)
    return path


def read_text(name, encoding="utf-8"):
    """Contents of the data file `name` as text (a `.bz2` file is decompressed)."""
    path = get_path(name)
    if path.suffix == ".bz2":
        with bz2.open(path, "rt", encoding=encoding) as f:
            return f.read()
    return path.read_text(encoding=encoding)


ALIASES = {"names": "names.txt", "tinyshakespeare": "tinyshakespeare.txt", "taylorswift": "taylorswift.txt",
           "gpt2-encoder": "encoder.json", "gpt2-vocab": "vocab.bpe", "r50k_base": "r50k_base.tiktoken",
           "cl100k_base": "cl100k_base.tiktoken", "hellaswag": "hellaswag_val_full.txt.bz2"}


def _lookup(name):
    name = ALIASES.get(name, name)
    if name not in FILES:
        raise ValueError(f"tinytorch.data: unknown data file {name!r}; known: {', '.join(FILES)} "
                         f"(or the short names {', '.join(ALIASES)})")
    return FILES[name]


def _download(file, cache, folders_tried):
    tried = " and ".join(str(d) for d in folders_tried)
    if data_dir() is None:
        tried += f" (${DATA_ENV} is not set)"
    print(f"tinytorch.data: downloading {file.name} ({file.size:,} bytes) from {file.url}", file=sys.stderr)
    try:
        payload = fetch(file.url)
    except (OSError, http.client.HTTPException) as e:
        raise FileNotFoundError(
            f"tinytorch.data: {file.name} is not in {tried}, and downloading it from {file.url} failed ({e}). "
            f"Put {file.name} in a folder and set {DATA_ENV} to it.") from e
    digest = hashlib.sha256(payload).hexdigest()
    if digest != file.sha256:
        raise ValueError(f"tinytorch.data: {file.name} downloaded from {file.url} has sha256 {digest}, "
                         f"expected {file.sha256}; nothing was written")
    try:
        cache.mkdir(parents=True, exist_ok=True)
        write_bytes(cache / file.name, payload)
        return cache / file.name
    except OSError as e:
        raise OSError(f"tinytorch.data: cannot write {file.name} into the cache {cache} ({e}); "
                      f"set {CACHE_ENV} to a writable folder, or {DATA_ENV} to a folder holding {file.name}") from e

