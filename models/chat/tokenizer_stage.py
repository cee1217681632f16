"""The tokenizer stage: train the chat tokenizer (tokenizer.py) on the pretraining corpus (corpus.py)."""
import time

from . import corpus
from .presets import as_dict
from .run_folder import stage_folder, write_json
from .tokenizer import ChatTokenizer

EXAMPLE = "What is 347+589?"


def run(run_dir, config, overwrite=False, progress=True):
    started = time.perf_counter()
    out = stage_folder(run_dir, "tokenizer", overwrite)
    docs = corpus.documents(config.task_chars, config.seed)
    text = corpus.text(docs)
    tokenizer = ChatTokenizer.train(text, config.vocab_size)
    tokenizer.save(out)
    chars_per_token = {kind: round(sum(len(d) for k, d in docs if k == kind) /
                                   max(1, sum(len(tokenizer.encode(d)) for k, d in docs if k == kind)), 3)
                       for kind in ("shakespeare", "tasks")}
    metrics = {"vocab_size": tokenizer.vocab_size, "merges": len(tokenizer.bpe.merges),
               "special_tokens": tokenizer.bpe.special_tokens, "corpus_chars": len(text),
               "chars_per_token": chars_per_token,
               "example": {"text": EXAMPLE, "tokens": [tokenizer.decode([i]) for i in tokenizer.encode(EXAMPLE)]},
               "seconds": time.perf_counter() - started, "config": as_dict(config)}
    write_json(out / "metrics.json", metrics)
    return metrics
