"""Chatting with a trained model: a multi-turn conversation kept as token ids, and the terminal chat.

`Conversation` holds the ids of the chat so far (<|bos|>, then user and assistant turns in the chat
template). `reply` lets the engine write the assistant's turn and yields its text as it grows; a
calculator call shows as "[calculator] 347+589 = 936". When the next reply might not fit in the
model's block_size positions, the oldest turns are dropped.
"""
import sys

from .engine import Engine
from .run_folder import finished, load_gpt, load_tokenizer, rl_seed_folders

MODELS = ("rl", "dpo", "sft")


def model_folder(run, which):
    """The folder of the chat model `which` (rl: the seed-0 RL model, or the lowest seed there is)."""
    if which not in MODELS:
        raise ValueError(f"--model must be one of {', '.join(MODELS)}, got {which!r}")
    return rl_seed_folders(run)[0] if which == "rl" else finished(run, which)


def load_chat(run, which):
    """(Engine, tokenizer) for the model `which` of the run."""
    tokenizer = load_tokenizer(run)
    return Engine(load_gpt(model_folder(run, which)), tokenizer), tokenizer


class Conversation:
    def __init__(self, tokenizer, block_size):
        self.tokenizer, self.block_size = tokenizer, block_size
        self.ids = [tokenizer.bos]
        self.display = {tokenizer.python_start: "[calculator] ", tokenizer.python_end: "",
                        tokenizer.output_start: " = ", tokenizer.output_end: "\n"}

    def add_user(self, text):
        tok = self.tokenizer
        self.ids += [tok.user_start, *tok.encode(text), tok.user_end]

    def add_assistant(self, text):
        tok = self.tokenizer
        self.ids += [tok.assistant_start, *tok.encode(text), tok.assistant_end]

    def fit(self, room):
        """Drop the oldest turns until `room` positions are free after the prompt."""
        tok = self.tokenizer
        while len(self.ids) + 1 + room > self.block_size:
            starts = [i for i, t in enumerate(self.ids) if t == tok.user_start]
            if len(starts) < 2:
                raise ValueError(f"the message is too long for the model's {self.block_size} positions")
            self.ids = [tok.bos] + self.ids[starts[1]:]

    def text(self, tokens):
        """How a reply's tokens read: ordinary text, with the tool's tokens shown as described above."""
        out, run = [], []
        for t in tokens:
            if t in self.display:
                out.append(self.tokenizer.decode(run) + self.display[t])
                run = []
            elif t not in (self.tokenizer.assistant_end, self.tokenizer.bos):
                run.append(t)
        return "".join(out) + self.tokenizer.decode(run)

    def reply(self, engine, max_tokens=64, temperature=0.8, top_k=50, top_p=None, seed=0):
        """Generate the assistant's turn, yielding new text as it comes; the turn is added to the ids."""
        tok = self.tokenizer
        self.fit(min(max_tokens, self.block_size // 2))
        prompt = self.ids + [tok.assistant_start]
        tokens, shown = [], ""
        for column, _ in engine.generate(prompt, 1, max_tokens=max_tokens, temperature=temperature,
                                         top_k=top_k, top_p=top_p, seed=seed):
            tokens.append(column[0])
            text = self.text(tokens)
            if text.startswith(shown) and not text.endswith("\ufffd") and len(text) > len(shown):
                yield text[len(shown):]
                shown = text
            if column[0] in (tok.assistant_end, tok.bos):
                break
        if tokens[-1] != tok.assistant_end:
            tokens.append(tok.assistant_end)
        self.ids = prompt + tokens


def terminal(run, which, temperature, top_k, top_p, max_tokens, seed):
    """Read a message, print the streamed reply, repeat; 'quit' or end of input stops, 'clear' starts over."""
    engine, tokenizer = load_chat(run, which)
    conversation = Conversation(tokenizer, engine.model.config.block_size)
    print(f"Chatting with the {which} model of {run}. Try 'What is 17+25?'. Type 'clear' to start over, "
          "'quit' to stop.")
    turn = 0
    while True:
        try:
            message = input("\nYou: ").strip()
        except EOFError:
            break
        if message == "quit":
            break
        if message == "clear":
            conversation = Conversation(tokenizer, engine.model.config.block_size)
            continue
        if not message:
            continue
        conversation.add_user(message)
        print("Assistant: ", end="", flush=True)
        try:
            for piece in conversation.reply(engine, max_tokens, temperature, top_k, top_p, seed + turn):
                print(piece, end="", flush=True)
        except ValueError as e:
            print(f"({e}; type 'clear')", end="")
            conversation = Conversation(tokenizer, engine.model.config.block_size)
        print()
        sys.stdout.flush()
        turn += 1
