"""makemore's data: a word list, its character vocabulary, the lectures' splits and examples.

Words come one per line (UTF-8; surrounding whitespace stripped, empty lines dropped). The
vocabulary is '.' (index 0, the boundary token that starts and ends every word) followed by
the words' distinct characters in sorted order: 27 tokens for names.txt. Any character but
'.' may appear in a word, non-ASCII ones included.

Two kinds of examples:

- contexts (lectures 2 to 6): every character of "word." is a target, predicted from the
  `block_size` characters before it, padded on the left with '.'. For "emma", block 3:
  `... -> e, ..e -> m, .em -> m, emm -> a, mma -> .`; X is (N, block_size), Y is (N,).
- sequences (makemore's transformer): x = '.' + word, y = word + '.', both padded to
  max_len + 1; the padding of y is -1, which the loss ignores. X and Y are (N, max_len + 1).
"""
import random
from dataclasses import dataclass
from pathlib import Path

import tinytorch as torch

BOUNDARY = "."
IGNORE = -1


class DataError(ValueError):
    """Input that cannot make a data set; the message is one line meant for the user."""


def read_words(path):
    """The non-empty, stripped lines of a UTF-8 text file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text (byte {e.start}: {e.reason})") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror})") from None
    words = []
    for line, raw in enumerate(text.splitlines(), start=1):
        word = raw.strip()
        if BOUNDARY in word:
            raise DataError(f"{path} line {line}: {word!r} contains {BOUNDARY!r}, which is the start/end token")
        if word:
            words.append(word)
    if not words:
        raise DataError(f"{path}: no words (the file is empty or holds only blank lines)")
    return words


class CharVocab:
    """Characters <-> indices, with the boundary '.' at index 0."""

    def __init__(self, chars):
        chars = sorted(set(chars) - {BOUNDARY})
        self.itos = [BOUNDARY] + chars
        self.stoi = {ch: i for i, ch in enumerate(self.itos)}

    @classmethod
    def from_words(cls, words):
        return cls("".join(words))

    @property
    def chars(self):
        """The characters without the boundary, as one string (what a checkpoint stores)."""
        return "".join(self.itos[1:])

    def __len__(self):
        return len(self.itos)

    def encode(self, word):
        return [self.stoi[ch] for ch in word]

    def decode(self, ids):
        """Characters up to the first boundary token (which ends a word)."""
        out = []
        for i in ids:
            if i == 0:
                break
            out.append(self.itos[i])
        return "".join(out)


@dataclass
class Splits:
    train: list
    val: list
    test: list

    def items(self):
        return (("train", self.train), ("val", self.val), ("test", self.test))


def lecture_split(words, seed=42):
    """Lectures 3 to 6: shuffle with `random.seed(42)`, then 80 % train, 10 % val, 10 % test."""
    words = list(words)
    random.Random(seed).shuffle(words)
    n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
    return _checked(Splits(words[:n1], words[n1:n2], words[n2:]), "80/10/10")


def makemore_split(words, seed=3407):
    """makemore.py: a random permutation; the last min(1000, 10 %) words are the test set.

    makemore has no separate validation set (it picks its checkpoint on the test set), so
    `val` is the test set here too.
    """
    n_test = min(1000, int(len(words) * 0.1))
    order = torch.randperm(len(words), generator=torch.Generator().manual_seed(seed)).tolist()
    train = [words[i] for i in order[:len(words) - n_test]]
    test = [words[i] for i in order[len(words) - n_test:]]
    return _checked(Splits(train, test, test), "train/test (min(1000, 10 %) test words)")


def _checked(splits, name):
    empty = [name_ for name_, words in splits.items() if not words]
    if empty:
        total = len(set(splits.train) | set(splits.val) | set(splits.test))
        raise DataError(f"the {name} split of {total} distinct word(s) leaves the {' and '.join(empty)} "
                        f"set empty; give at least 10 words")
    return splits


def context_examples(words, vocab, block_size):
    """(X, Y): X[i] holds the `block_size` token ids before target Y[i], over every "word."."""
    xs, ys = [], []
    for word in words:
        context = [0] * block_size
        for ix in vocab.encode(word) + [0]:
            xs.append(context)
            ys.append(ix)
            context = context[1:] + [ix]
    return torch.tensor(xs, dtype=torch.long).view(len(xs), block_size), torch.tensor(ys, dtype=torch.long)


def sequence_examples(words, vocab, length):
    """(X, Y) of shape (N, length): '.' + word -> word + '.', targets padded with -1."""
    xs, ys = [], []
    for word in words:
        ids = vocab.encode(word)
        if len(ids) + 1 > length:
            raise DataError(f"word {word!r} has {len(ids)} characters; the model's block size {length} "
                            f"allows at most {length - 1}")
        pad = length - len(ids) - 1
        xs.append([0] + ids + [0] * pad)
        ys.append(ids + [0] + [IGNORE] * pad)
    return torch.tensor(xs, dtype=torch.long), torch.tensor(ys, dtype=torch.long)
