"""The pretraining corpus: Tiny Shakespeare plus generated task text, as a list of documents.

The mix: Tiny Shakespeare (1,115,394 characters) cut into its speeches at blank lines, and `task_chars`
characters of task text (tasks.task_text: train-split problems of every task as plain lines, e.g.
"What is 347+589? 347+589=936") cut into documents of 20 lines. The tiny preset uses task_chars =
2,200,000, twice Shakespeare's characters: a small model needs many examples of copying numbers from a
question into its answer, and with digits one token each the task text is about three quarters of the
tokens (the tokenizer and pretrain stages report the counts). Documents are shuffled together with a
fixed seed, so a 90/10 train/val cut of the token stream holds both kinds.
"""
import random

import tinytorch

from .tasks import make_tasks, shakespeare_words, task_text

LINES_PER_TASK_DOCUMENT = 20


def shakespeare():
    return tinytorch.data.read_text("tinyshakespeare")


def tasks():
    """The five tasks, their words taken from Tiny Shakespeare."""
    return make_tasks(shakespeare_words(shakespeare()))


def documents(task_chars, seed=0):
    """The shuffled mix as (kind, text) pairs, kind "shakespeare" or "tasks"."""
    speeches = [s for s in shakespeare().split("\n\n") if s.strip()]
    lines = task_text(tasks(), task_chars, seed).splitlines()
    generated = ["\n".join(lines[i:i + LINES_PER_TASK_DOCUMENT])
                 for i in range(0, len(lines), LINES_PER_TASK_DOCUMENT)]
    docs = [("shakespeare", s) for s in speeches] + [("tasks", g) for g in generated]
    random.Random(seed).shuffle(docs)
    return docs


def text(docs):
    """The corpus as one text (what the tokenizer trains on)."""
    return "\n\n".join(doc for _, doc in docs)
