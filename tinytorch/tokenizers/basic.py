"""BasicTokenizer: byte-level BPE on the raw bytes of the whole text (lecture 9's first tokenizer).

    >>> tok = BasicTokenizer()
    >>> tok.train("aaabdaaabac", 256 + 3)
    [4, 2, 2]
    >>> tok.encode("aaabdaaabac")
    [258, 100, 258, 97, 99]
"""
from .base import Tokenizer


class BasicTokenizer(Tokenizer):
    """BPE over the whole text as one sequence: merges may cross word and line boundaries."""

    def __init__(self):
        super().__init__(pattern="")
