"""Byte-level BPE: the Tokenizer that BasicTokenizer, RegexTokenizer, GPT2Tokenizer and
GPT4Tokenizer share.

    text --UTF-8--> bytes --split--> chunks --BPE merges--> token ids

Token ids: the 256 byte values (`byte_ids[b]` is the id of byte b: the identity for trained
tokenizers, a permutation for GPT-2 and GPT-4), then one id per merge, then special tokens.
`merges[(left, right)] = new` joins two adjacent tokens into a new one; a chunk is encoded by
applying the merges in the order they were learned (smallest new id first), which needs every
merge to produce a larger id than both of its parts.
"""
import unicodedata
from collections import Counter
from functools import lru_cache
from itertools import chain
from pathlib import Path

import numpy as np
import regex

from ..serialization import atomic
from .bpe_encode import build_merge_table, encode_chunks
from .bpe_train import train_merges

MODEL_HEADER = "minbpe v1"  # the .model layout is minbpe's, so each can read the other's files


class Tokenizer:
    """Byte-level BPE tokenizer.

    Attributes:
        pattern: regex that cuts text into chunks before BPE ("" = the whole text is one chunk).
        merges: {(left id, right id): new id}.
        byte_ids: list of 256 ids, the id of each byte value.
        special_tokens: {text: id}, e.g. {"<|endoftext|>": 50256}.
        vocab: {id: bytes} for every non-special id (derived from the three above).
    """
    uses_pattern = False        # whether `pattern` may be non-empty (False for BasicTokenizer)
    cache_size = 1 << 16        # distinct chunks whose encodings are remembered
    longest_cached_chunk = 256  # longer chunks (characters) are encoded every time

    def __init__(self, pattern=""):
        self.pattern = pattern
        self.merges = {}
        self.byte_ids = list(range(256))
        self.special_tokens = {}
        self._rebuild()

    def __repr__(self):
        return (f"{type(self).__name__}(n_vocab={self.n_vocab}, merges={len(self.merges)}, "
                f"special_tokens={len(self.special_tokens)})")

    @property
    def n_vocab(self):
        """One more than the largest token id (special tokens included)."""
        return max(chain(self.vocab, self.special_tokens.values())) + 1

    # ----------------------------------------------------------------- training
    def train(self, text, vocab_size, verbose=False):
        """Learn `vocab_size - 256` merges from `text`, exactly the ones minbpe learns.

        Returns the count each merged pair had when it was chosen. Raises ValueError when the
        text runs out of pairs before reaching `vocab_size`.
        """
        if vocab_size < 256:
            raise ValueError(f"train: vocab_size must be at least 256 (the bytes), got {vocab_size}")
        num_merges = vocab_size - 256
        words = Counter(self._split(text))  # distinct chunks, in the order they first appear
        learned = train_merges({word.encode("utf-8"): n for word, n in words.items()}, num_merges)
        if len(learned) < num_merges:
            raise ValueError(f"train: the text has only enough pairs for {len(learned)} merges, "
                             f"so vocab_size can be at most {256 + len(learned)}, not {vocab_size}")
        self.merges = {pair: 256 + t for t, (pair, _) in enumerate(learned)}
        self.byte_ids = list(range(256))
        self._rebuild()
        if verbose:
            for t, (pair, count) in enumerate(learned):
                print(f"merge {t + 1}/{num_merges}: {pair} -> {256 + t} "
                      f"({render_token(self.vocab[256 + t])}) had {count} occurrences")
        return [count for _, count in learned]

    def register_special_tokens(self, special_tokens):
        """Add special tokens, e.g. {"<|endoftext|>": 100257}; ids must be unused."""
        merged = {**self.special_tokens, **special_tokens}
        self._check_special_tokens(merged)
        self.special_tokens = merged
        self._rebuild()

    # ----------------------------------------------------------------- encoding
    def encode_ordinary(self, text):
        """Ids of `text`, special tokens encoded as ordinary text.

        Lone surrogates (not valid UTF-8) are replaced by U+FFFD, as tiktoken does.
        """
        try:
            return self._encode_chunks(self._split(text))
        except UnicodeEncodeError:
            text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
            return self._encode_chunks(self._split(text))

    def encode(self, text, allowed_special=frozenset(), disallowed_special="all"):
        """Ids of `text`, with tiktoken's rules for special tokens.

        allowed_special: "all" or a set of special tokens to encode as their special id.
        disallowed_special: "all" (= every special token not allowed) or a set of strings; if
            the text contains one, ValueError is raised. Pass () to encode them as plain text.
        """
        for name, value in (("allowed_special", allowed_special), ("disallowed_special", disallowed_special)):
            if isinstance(value, str) and value != "all":
                raise ValueError(f"encode: {name} must be \"all\" or a set of strings, got {value!r}")
        if allowed_special == "all":
            allowed = set(self.special_tokens)
        else:
            allowed = set(allowed_special)
            unknown = allowed - set(self.special_tokens)
            if unknown:
                raise ValueError(f"encode: allowed_special has {sorted(unknown)}, which are not "
                                 f"special tokens of this tokenizer ({sorted(self.special_tokens)})")
        disallowed = set(self.special_tokens) - allowed if disallowed_special == "all" else set(disallowed_special)
        if disallowed:
            found = _alternation(frozenset(disallowed)).search(text)
            if found:
                raise ValueError(
                    f"encode: the text contains the special token {found.group()!r} at character "
                    f"{found.start()}. Pass allowed_special={{{found.group()!r}}} (or \"all\") to encode "
                    f"it as a special token, or disallowed_special=() to encode it as plain text.")
        if not allowed:
            return self.encode_ordinary(text)
        ids = []
        parts = _alternation(frozenset(allowed)).split(text)  # text, special, text, special, ...
        for k, part in enumerate(parts):
            if k % 2:
                ids.append(self.special_tokens[part])
            elif part:
                ids.extend(self.encode_ordinary(part))
        return ids

    def clear_cache(self):
        """Forget the remembered chunk encodings (they are rebuilt on demand)."""
        self._cache = {}

    def _split(self, text):
        if self._split_regex is None:
            return [text] if text else []
        return self._split_regex.findall(text)

    def _encode_chunks(self, chunks):
        """Concatenated ids of `chunks`, each encoded once per distinct chunk and remembered."""
        cache = self._cache
        distinct = set(chunks)
        if len(cache) + len(distinct) > self.cache_size:
            cache.clear()
        missing = list(distinct - cache.keys())
        if missing:
            cache.update(zip(missing, self._bpe(missing)))
        ids = list(chain.from_iterable(map(cache.__getitem__, chunks)))
        for chunk in missing:
            if len(chunk) > self.longest_cached_chunk:
                del cache[chunk]
        return ids

    def _bpe(self, chunks):
        """BPE-encode each str in `chunks`; returns a list of id tuples."""
        encoded = [chunk.encode("utf-8") for chunk in chunks]
        offsets = np.zeros(len(encoded) + 1, np.int64)
        np.cumsum(np.fromiter(map(len, encoded), np.int64, len(encoded)), out=offsets[1:])
        data = np.frombuffer(b"".join(encoded), np.uint8)
        ids, ends = encode_chunks(data, offsets, self._byte_ids, *self._merge_table)
        ids, ends = ids.tolist(), ends.tolist()
        return [tuple(ids[start:end]) for start, end in zip([0] + ends, ends)]

    # ----------------------------------------------------------------- decoding
    def decode_bytes(self, ids):
        """The bytes that `ids` stand for (special tokens as their UTF-8 text)."""
        try:
            return b"".join(map(self._decoder.__getitem__, ids))
        except KeyError as e:
            raise ValueError(f"decode: unknown token id {e.args[0]!r} "
                             f"(this tokenizer has ids 0..{self.n_vocab - 1})") from None

    def decode(self, ids):
        """Text of `ids`; byte sequences that are not valid UTF-8 become U+FFFD, never an error."""
        return self.decode_bytes(ids).decode("utf-8", errors="replace")

    # ----------------------------------------------------------------- files
    def save(self, file_prefix):
        """Write `file_prefix.model` (what `load` reads) and `file_prefix.vocab` (for people), each atomically.

        The .model layout is minbpe's: a header line, the split pattern, the number of special
        tokens, one "token id" line each, then one "left right" line per merge, merge t making
        token 256 + t.
        """
        if self.byte_ids != list(range(256)):
            raise ValueError(f"save: {type(self).__name__} has GPT-style shuffled byte ids, which the "
                             f".model format cannot hold; it is rebuilt from its data files instead")
        ordered = sorted(self.merges.items(), key=lambda item: item[1])
        if [new for _, new in ordered] != list(range(256, 256 + len(ordered))):
            raise ValueError("save: merges must make the ids 256, 257, ... in order for the .model format")
        lines = [MODEL_HEADER, self.pattern, str(len(self.special_tokens))]
        lines += [f"{token} {idx}" for token, idx in self.special_tokens.items()]
        lines += [f"{left} {right}" for (left, right), _ in ordered]
        Path(file_prefix).parent.mkdir(parents=True, exist_ok=True)
        atomic.write_text(f"{file_prefix}.model", "\n".join(lines) + "\n")
        atomic.write_text(f"{file_prefix}.vocab", self._vocab_listing())

    def load(self, model_file):
        """Read a `.model` file written by `save` (or by minbpe) into this tokenizer."""
        path = Path(model_file)
        if path.suffix != ".model":
            raise ValueError(f"load: expected a .model file, got {path}")
        lines = path.read_text(encoding="utf-8").split("\n")
        if lines and lines[-1] == "":
            lines.pop()

        def fail(lineno, expected):
            shown = repr(lines[lineno - 1]) if lineno <= len(lines) else "end of file"
            raise ValueError(f"load: {path}:{lineno}: expected {expected}, found {shown}")

        if not lines or lines[0] != MODEL_HEADER:
            fail(1, repr(MODEL_HEADER))
        if len(lines) < 3 or not lines[2].isdigit():
            fail(min(len(lines) + 1, 3), "the number of special tokens")
        pattern, num_special = lines[1], int(lines[2])
        if bool(pattern) != self.uses_pattern:
            raise ValueError(f"load: {path} is a {'Regex' if pattern else 'Basic'}Tokenizer model; "
                             f"load it with that class (or tinytorch.tokenizers.load_tokenizer)")
        special_tokens = {}
        for lineno in range(4, 4 + num_special):
            token, _, idx = lines[lineno - 1].rpartition(" ") if lineno <= len(lines) else ("", "", "")
            if not token or not idx.isdigit():
                fail(lineno, "a special token line 'token id'")
            special_tokens[token] = int(idx)
        merges = {}
        for lineno in range(4 + num_special, len(lines) + 1):
            pair = lines[lineno - 1].split()
            if len(pair) != 2 or not all(part.isdigit() for part in pair):
                fail(lineno, "a merge line 'left_id right_id'")
            merges[(int(pair[0]), int(pair[1]))] = 256 + len(merges)
        self.pattern, self.merges, self.byte_ids, self.special_tokens = pattern, merges, list(range(256)), {}
        self._rebuild()
        self.register_special_tokens(special_tokens)

    # ----------------------------------------------------------------- internals
    def _rebuild(self):
        """Recompute everything derived from pattern, merges, byte_ids and special_tokens."""
        if self.pattern and not self.uses_pattern:
            raise ValueError(f"{type(self).__name__} does not split text; use RegexTokenizer for a pattern")
        self._split_regex = regex.compile(self.pattern) if self.pattern else None
        if len(self.byte_ids) != 256 or len(set(self.byte_ids)) != 256:
            raise ValueError(f"byte_ids must be 256 distinct ids, got {len(set(self.byte_ids))} distinct "
                             f"of {len(self.byte_ids)}")
        self.vocab = {idx: bytes([b]) for b, idx in enumerate(self.byte_ids)}
        for (left, right), new in sorted(self.merges.items(), key=lambda item: item[1]):
            if left not in self.vocab or right not in self.vocab or new in self.vocab:
                raise ValueError(f"merge ({left}, {right}) -> {new} must join two smaller existing ids "
                                 f"into a new one")
            self.vocab[new] = self.vocab[left] + self.vocab[right]
        self._check_special_tokens(self.special_tokens)
        self._decoder = {**self.vocab, **{idx: token.encode("utf-8") for token, idx in self.special_tokens.items()}}
        table = np.array([(left, right, new) for (left, right), new in self.merges.items()], np.int64)
        table = table.reshape(-1, 3)
        self._merge_table = build_merge_table(table[:, 0].copy(), table[:, 1].copy(), table[:, 2].copy())
        self._byte_ids = np.array(self.byte_ids, np.int64)
        self.clear_cache()

    def _check_special_tokens(self, special_tokens):
        for token, idx in special_tokens.items():
            if not isinstance(token, str) or not token or "\n" in token:
                raise ValueError(f"special token {token!r} must be a non-empty one-line str")
            if idx in self.vocab:
                raise ValueError(f"special token {token!r} has id {idx}, already the id of the "
                                 f"ordinary token {self.vocab[idx]!r}")
        if len(set(special_tokens.values())) != len(special_tokens):
            raise ValueError(f"two special tokens share an id in {special_tokens}")

    def _vocab_listing(self):
        parents = {new: pair for pair, new in self.merges.items()}
        lines = []
        for idx, token in sorted(self.vocab.items()):
            if idx in parents:
                left, right = parents[idx]
                lines.append(f"[{render_token(self.vocab[left])}][{render_token(self.vocab[right])}] "
                             f"-> [{render_token(token)}] {idx}")
            else:
                lines.append(f"[{render_token(token)}] {idx}")
        lines += [f"[{token}] {idx} (special)" for token, idx in self.special_tokens.items()]
        return "\n".join(lines) + "\n"


def render_token(token):
    """Printable form of a token's bytes: invalid UTF-8 as U+FFFD, control characters escaped."""
    text = token.decode("utf-8", errors="replace")
    return "".join(f"\\u{ord(ch):04x}" if unicodedata.category(ch)[0] == "C" else ch for ch in text)


@lru_cache(maxsize=64)
def _alternation(tokens):
    """Compiled regex matching any of `tokens` (longest first), as one capturing group."""
    return regex.compile("(" + "|".join(regex.escape(t) for t in sorted(tokens, key=len, reverse=True)) + ")")

