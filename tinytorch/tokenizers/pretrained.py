"""OpenAI's GPT-2 and GPT-4 tokenizers, rebuilt from their published files, and `load_tokenizer`.

Both give exactly tiktoken's ids ("gpt2" and "cl100k_base"). The files are found through
`tinytorch.data` (so `$TINYTORCH_DATA` works offline):

* GPT-2: `encoder.json` maps token strings to ids and `vocab.bpe` lists the 50,000 merges in
  order. Both spell bytes as printable characters (`bytes_to_unicode`), e.g. "Ġ" for a space.
* GPT-4: `cl100k_base.tiktoken` only lists every token's bytes with its rank (= id). The merge
  that made a token is recovered by running BPE on its bytes with the tokens of lower rank: it
  stops at exactly two parts, the pair that merges into it.

In both, the 256 single-byte tokens do not have ids 0..255 in byte order (the "byte
shuffle"): `byte_ids` holds the id of each byte value.
"""
import base64
import json
from pathlib import Path

import regex

from ..data import get_path
from .basic import BasicTokenizer
from .regex_tokenizer import GPT2_SPLIT_PATTERN, GPT4_SPLIT_PATTERN, RegexTokenizer
from .unicode_compat import UNICODE_17_CHARACTER, as_unicode_16

GPT2_SPECIAL_TOKENS = {"<|endoftext|>": 50256}
GPT4_SPECIAL_TOKENS = {"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
                       "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276}


def bytes_to_unicode():
    """GPT-2's stand-in character for each byte: printable Latin-1 bytes are themselves, the
    other 68 (controls, space, ...) are chr(256), chr(257), ... in byte order."""
    printable = {*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)}
    stand_ins, extra = {}, 0
    for b in range(256):
        if b in printable:
            stand_ins[b] = chr(b)
        else:
            stand_ins[b] = chr(256 + extra)
            extra += 1
    return stand_ins


class PretrainedTokenizer(RegexTokenizer):
    """A RegexTokenizer whose merges come from published files and that splits text exactly as
    tiktoken does (see unicode_compat); it cannot be retrained."""

    def __init__(self, pattern):
        super().__init__(pattern)
        self._unicode_16_regex = regex.compile(as_unicode_16(pattern))

    def train(self, text, vocab_size, verbose=False):
        raise NotImplementedError(f"{type(self).__name__} is pretrained; train a RegexTokenizer instead")

    def _split(self, text):
        """Chunks as tiktoken cuts them: re-split with Unicode 16.0 classes only when a chunk
        holds a letter or number that Unicode 17.0 added (rare, and the fast split is wrong)."""
        chunks = super()._split(text)
        if not text.isascii():
            unusual = [chunk for chunk in set(chunks) if not chunk.isascii()]
            if any(map(UNICODE_17_CHARACTER.search, unusual)):
                return self._unicode_16_regex.findall(text)
        return chunks

    def _install(self, merges, byte_ids, special_tokens):
        self.merges, self.byte_ids, self.special_tokens = merges, byte_ids, special_tokens
        self._rebuild()


class GPT2Tokenizer(PretrainedTokenizer):
    """GPT-2's tokenizer (tiktoken "gpt2"), from encoder.json + vocab.bpe."""

    def __init__(self):
        super().__init__(GPT2_SPLIT_PATTERN)
        encoder_path, merges_path = get_path("encoder.json"), get_path("vocab.bpe")
        encoder = json.loads(encoder_path.read_text(encoding="utf-8"))
        stand_ins = bytes_to_unicode()
        merges = {}
        lines = merges_path.read_text(encoding="utf-8").split("\n")
        for lineno, line in enumerate(lines[1:], start=2):  # line 1 is "#version: 0.2"
            if not line:
                continue
            parts = line.split(" ")
            if len(parts) != 2 or not all(part in encoder for part in (*parts, "".join(parts))):
                raise ValueError(f"{merges_path}:{lineno}: expected two tokens of encoder.json whose "
                                 f"concatenation is also one, found {line!r}")
            merges[(encoder[parts[0]], encoder[parts[1]])] = encoder["".join(parts)]
        self._install(merges, [encoder[stand_ins[b]] for b in range(256)], dict(GPT2_SPECIAL_TOKENS))


class GPT4Tokenizer(PretrainedTokenizer):
    """GPT-4's tokenizer (tiktoken "cl100k_base"), from cl100k_base.tiktoken."""

    def __init__(self):
        super().__init__(GPT4_SPLIT_PATTERN)
        ranks = read_tiktoken_ranks(get_path("cl100k_base.tiktoken"))
        merges = recover_merges(ranks)
        self._install(merges, [ranks[bytes([b])] for b in range(256)], dict(GPT4_SPECIAL_TOKENS))


def read_tiktoken_ranks(path):
    """{token bytes: rank} from a `.tiktoken` file of "base64-token rank" lines."""
    ranks = {}
    for lineno, line in enumerate(Path(path).read_bytes().splitlines(), start=1):
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            raise ValueError(f"{path}:{lineno}: expected 'base64-token rank', found {line[:80]!r}")
        ranks[base64.b64decode(parts[0])] = int(parts[1])
    return ranks


def recover_merges(ranks):
    """{(left rank, right rank): rank} for every multi-byte token of a tiktoken rank table."""
    merges = {}
    for token, rank in sorted(ranks.items(), key=lambda item: item[1]):
        if len(token) == 1:
            continue
        parts = _bpe_parts(ranks, token, rank)
        if len(parts) != 2:
            raise ValueError(f"token {token!r} (rank {rank}) is not one merge of two lower-ranked "
                             f"tokens: BPE stops at {parts}")
        merges[(ranks[parts[0]], ranks[parts[1]])] = rank
    return merges


def _bpe_parts(ranks, token, max_rank):
    """Run BPE on `token`'s bytes with merges of rank < max_rank until two parts remain
    (their merge is the token itself) or nothing merges; returns the parts."""
    parts = [token[i:i + 1] for i in range(len(token))]
    while len(parts) > 2:
        best, best_rank = None, max_rank
        for i in range(len(parts) - 1):
            rank = ranks.get(parts[i] + parts[i + 1])
            if rank is not None and rank < best_rank:
                best, best_rank = i, rank
        if best is None:
            break
        parts[best:best + 2] = [parts[best] + parts[best + 1]]
    return parts


def load_tokenizer(name):
    """"gpt2", "gpt4", or a trained tokenizer's prefix (or its .model file)."""
    if name == "gpt2":
        return GPT2Tokenizer()
    if name == "gpt4":
        return GPT4Tokenizer()
    path = Path(name if name.endswith(".model") else f"{name}.model")
    if not path.is_file():
        raise FileNotFoundError(f"load_tokenizer: {name!r} is not gpt2, gpt4 or a trained tokenizer "
                                f"({path} does not exist)")
    with path.open(encoding="utf-8") as f:
        f.readline()
        pattern = f.readline().rstrip("\n")
    tokenizer = RegexTokenizer(pattern) if pattern else BasicTokenizer()
    tokenizer.load(path)
    return tokenizer
