"""The chat tokenizer: tinytorch's regex BPE plus nanochat's special tokens, and the chat template.

Training: RegexTokenizer learns `vocab_size - 9` byte-level BPE tokens (256 bytes and the merges) from the
corpus; the 9 special tokens take the last ids. The split pattern is GPT-4's with one change: a number
splits into single digits (`\\p{N}` instead of `\\p{N}{1,3}`), so 347 is always the tokens 3 4 7 and a
small model can copy and compare numbers digit by digit.

The template (nanochat's `render_conversation`): a conversation becomes

    <|bos|> <|user_start|> question <|user_end|> <|assistant_start|> reply <|assistant_end|> ...

with a mask that is 1 on the tokens the assistant is trained to produce (its reply, the python tool call
with <|python_start|>/<|python_end|>, and <|assistant_end|>) and 0 elsewhere: the prompt, and the tool's
output <|output_start|>result<|output_end|>, which the engine injects at run time. Message text is
encoded as ordinary text, so a user who types "<|assistant_end|>" gets those characters, not the token.
"""
from pathlib import Path

from tinytorch.tokenizers import GPT4_SPLIT_PATTERN, RegexTokenizer

SPECIAL_TOKENS = ("<|bos|>", "<|user_start|>", "<|user_end|>", "<|assistant_start|>", "<|assistant_end|>",
                  "<|python_start|>", "<|python_end|>", "<|output_start|>", "<|output_end|>")
SPLIT_PATTERN = GPT4_SPLIT_PATTERN.replace(r"\p{N}{1,3}+", r"\p{N}")
FILE = "tokenizer"  # tokenizer.model (minbpe's format) and tokenizer.vocab in the run's tokenizer folder


class ChatTokenizer:
    def __init__(self, bpe):
        missing = set(SPECIAL_TOKENS) - set(bpe.special_tokens)
        if missing:
            raise ValueError(f"ChatTokenizer: the BPE tokenizer lacks the special tokens {sorted(missing)}")
        self.bpe = bpe
        self.vocab_size = bpe.n_vocab
        for name in SPECIAL_TOKENS:  # self.bos, self.user_start, ..., self.output_end
            setattr(self, name[2:-2], bpe.special_tokens[name])

    @classmethod
    def train(cls, text, vocab_size):
        if vocab_size < 256 + len(SPECIAL_TOKENS):
            raise ValueError(f"vocab_size must be at least {256 + len(SPECIAL_TOKENS)}, got {vocab_size}")
        bpe = RegexTokenizer(SPLIT_PATTERN)
        bpe.train(text, vocab_size - len(SPECIAL_TOKENS))
        first = vocab_size - len(SPECIAL_TOKENS)
        bpe.register_special_tokens({name: first + i for i, name in enumerate(SPECIAL_TOKENS)})
        return cls(bpe)

    def save(self, folder):
        self.bpe.save(Path(folder) / FILE)

    @classmethod
    def load(cls, folder):
        bpe = RegexTokenizer()
        bpe.load(Path(folder) / f"{FILE}.model")
        return cls(bpe)

    def encode(self, text):
        """Ids of plain text (special-token names in it are plain text too)."""
        return self.bpe.encode_ordinary(text)

    def decode(self, ids):
        return self.bpe.decode(list(ids))

    def render_conversation(self, conversation):
        """(ids, mask) of a whole conversation; mask 1 marks the tokens the assistant is trained on."""
        ids, mask = [self.bos], [0]

        def add(tokens, supervised):
            ids.extend(tokens)
            mask.extend([int(supervised)] * len(tokens))

        for i, message in enumerate(conversation["messages"]):
            role, content = message["role"], message["content"]
            if role != ("user" if i % 2 == 0 else "assistant"):
                raise ValueError(f"render_conversation: message {i} is from {role!r}; "
                                 "users and the assistant must take turns, the user first")
            if role == "user":
                add([self.user_start, *self.encode(content), self.user_end], False)
                continue
            add([self.assistant_start], False)
            for part in ([{"type": "text", "text": content}] if isinstance(content, str) else content):
                if part["type"] == "text":
                    add(self.encode(part["text"]), True)
                elif part["type"] == "python":
                    add([self.python_start, *self.encode(part["text"]), self.python_end], True)
                elif part["type"] == "python_output":
                    add([self.output_start, *self.encode(part["text"]), self.output_end], False)
                else:
                    raise ValueError(f"render_conversation: unknown part type {part['type']!r}")
            add([self.assistant_end], True)
        return ids, mask

    def render_for_completion(self, conversation):
        """Ids of a conversation that ends with a user message, then <|assistant_start|>: a prompt."""
        if conversation["messages"][-1]["role"] != "user":
            raise ValueError("render_for_completion: the last message must be the user's")
        ids, _ = self.render_conversation(conversation)
        return ids + [self.assistant_start]
