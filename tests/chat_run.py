"""Shared by the tests of models/chat: a small trained chat tokenizer, and a run folder holding it and an
untrained GPT as the SFT and RL models (what `chat`, `serve` and the engine need to run)."""
import functools

import tinytorch
from tinytorch.models.chat import corpus
from tinytorch.models.chat.run_folder import save_model, write_json
from tinytorch.models.chat.tokenizer import ChatTokenizer
from tinytorch.models.gpt import GPT, GPTConfig


@functools.cache
def tokenizer():
    """A ChatTokenizer with 400 ids trained on a slice of the corpus (a few seconds)."""
    return ChatTokenizer.train(corpus.text(corpus.documents(20_000)[:400]), 400)


def untrained_gpt(seed=0, block_size=96):
    tinytorch.manual_seed(seed)
    return GPT(GPTConfig(block_size=block_size, vocab_size=tokenizer().vocab_size, n_layer=2, n_head=2, n_embd=32,
                         bias=False)).eval()


def make_run(folder):
    """A run folder with the tokenizer and an untrained GPT as its SFT model and its RL model (seed 0)."""
    for stage in ("tokenizer", "sft", "rl/seed-0"):
        (folder / stage).mkdir(parents=True)
    tokenizer().save(folder / "tokenizer")
    model = untrained_gpt()
    for stage in ("sft", "rl/seed-0"):
        save_model(folder / stage, model)
    for stage in ("tokenizer", "sft", "rl/seed-0"):
        write_json(folder / stage / "metrics.json", {"seconds": 0.0})
    return folder
