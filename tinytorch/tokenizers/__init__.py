"""Byte-level BPE tokenizers (lecture 9, "Let's build the GPT Tokenizer"), no tensors needed.

    BasicTokenizer    BPE on the raw bytes of the whole text
    RegexTokenizer    split with the GPT-2 / GPT-4 pattern first; special tokens
    GPT2Tokenizer     OpenAI's GPT-2 tokenizer (= tiktoken "gpt2")
    GPT4Tokenizer     OpenAI's GPT-4 tokenizer (= tiktoken "cl100k_base")

Training learns exactly minbpe's merges, fast (incremental pair counts + a heap, in Numba);
encoding caches repeated chunks. Command line: `python -m tinytorch.tokenizers --help`.
"""
from .base import Tokenizer, render_token
from .basic import BasicTokenizer
from .pretrained import GPT2Tokenizer, GPT4Tokenizer, load_tokenizer
from .regex_tokenizer import GPT2_SPLIT_PATTERN, GPT4_SPLIT_PATTERN, SPLIT_PATTERNS, RegexTokenizer

__all__ = ["Tokenizer", "BasicTokenizer", "RegexTokenizer", "GPT2Tokenizer", "GPT4Tokenizer",
           "load_tokenizer", "render_token", "GPT2_SPLIT_PATTERN", "GPT4_SPLIT_PATTERN", "SPLIT_PATTERNS"]
