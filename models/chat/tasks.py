"""Tasks that make their own data: each draws (question, answer) problems, splits them into train and test
by a hash, and scores a reply by exact match of its final answer.

    addition       "What is 347+589?"                       calculator call 347+589 -> "936"
    subtraction    "What is 512-97?"                        calculator call 512-97  -> "415"
    count          "How many times does 'r' appear in 'berry'?"                     -> "2"
    reverse        "Reverse the word 'night'."                                      -> "thgin"
    sort           "Sort the letters of 'night'."                                   -> "ghint"

A worked reply is a list of parts, as nanochat writes them: the arithmetic tasks call the calculator
({"type": "python", "text": "347+589"}), get its output ({"type": "python_output", "text": "936"}, which
the engine injects at run time and training never supervises), then say "The answer is 936." The word
tasks answer directly. The reward is 1.0 when the text after the last "The answer is " (up to a
period or the end) equals the answer, else 0.0.

Split: a problem is in the test split when the first 8 hex digits of sha256(its key) are below
TEST_FRACTION of 16**8; the key names the task and its operands (not the phrasing), so a test problem
is never trained on in any wording, and the split does not depend on how problems are drawn.
Operands are 1 to 3 digits; words are the lowercase words of 3 to 7 letters in Tiny Shakespeare.

Pretraining text (`task_text`) writes train-split problems as plain lines, the question then the worked
answer ("What is 347+589? 347+589=936", "Reverse the word 'night'. thgin"), no chat tokens: it teaches
the copying from question to answer that the chat replies need.
"""
import hashlib
import random
import re
from dataclasses import dataclass, field

TEST_FRACTION = 0.1
CALCULATOR_EMPHASIS = {"addition": 3, "subtraction": 3}  # mixture weights of the pretraining text and SFT
MAX_DIGITS = 3
ANSWER = re.compile(r"The answer is (.*?)(?:\.|$)", re.S)
WORD = re.compile(r"\b[a-z]{3,7}\b")


@dataclass(frozen=True)
class Problem:
    task: str
    key: str                # what the split hashes: the task and its operands
    question: str           # the user's message
    answer: str             # the exact final answer
    tool: str = None        # the calculator expression of the worked reply, if it calls one
    text: str = field(default="", compare=False)  # the plain pretraining line: question, then worked answer

    def conversation(self):
        """{"messages": [user, assistant]} with the worked reply."""
        parts = []
        if self.tool is not None:
            parts += [{"type": "python", "text": self.tool}, {"type": "python_output", "text": self.answer}]
        parts.append({"type": "text", "text": f"The answer is {self.answer}."})
        return {"messages": [{"role": "user", "content": self.question}, {"role": "assistant", "content": parts}]}

    def prompt(self):
        """The conversation up to the assistant's reply (what a model completes)."""
        return {"messages": [{"role": "user", "content": self.question}]}


def in_test_split(key):
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) < TEST_FRACTION * 16 ** 8


def extract_answer(reply):
    """The final answer in a reply's text: what follows the last "The answer is " (None if absent)."""
    found = ANSWER.findall(reply)
    return found[-1].strip() if found else None


def reward(problem, reply):
    """1.0 if the reply's final answer is exactly the problem's answer, else 0.0."""
    return float(extract_answer(reply) == problem.answer)


def _operand(rng):
    return rng.randrange(10 ** (rng.randint(1, MAX_DIGITS)))


class Arithmetic:
    """a + b or a - b with a calculator call."""

    QUESTIONS = ("What is {a}{op}{b}?", "What is {a} {op} {b}?", "Compute {a}{op}{b}.")

    def __init__(self, name, op):
        self.name, self.op = name, op

    def sample(self, rng):
        a, b = _operand(rng), _operand(rng)
        expression = f"{a}{self.op}{b}"
        answer = str(a + b if self.op == "+" else a - b)
        question = rng.choice(self.QUESTIONS).format(a=a, op=self.op, b=b)
        return Problem(self.name, f"{self.name}:{expression}", question, answer, expression,
                       f"{question} {expression}={answer}")


class WordTask:
    """A question about one word, answered without tools."""

    def __init__(self, name, words):
        self.name, self.words = name, words

    def sample(self, rng):
        word = rng.choice(self.words)
        if self.name == "count":
            letter = rng.choice(word) if rng.random() < 0.8 else rng.choice("abcdefghijklmnopqrstuvwxyz")
            answer = str(word.count(letter))
            question = f"How many times does '{letter}' appear in '{word}'?"
            return Problem(self.name, f"count:{letter}:{word}", question, answer, text=f"{question} {answer}")
        answer = word[::-1] if self.name == "reverse" else "".join(sorted(word))
        question = f"Reverse the word '{word}'." if self.name == "reverse" else f"Sort the letters of '{word}'."
        return Problem(self.name, f"{self.name}:{word}", question, answer, text=f"{question} {answer}")


def shakespeare_words(text):
    """The distinct lowercase words of 3 to 7 letters in `text`, sorted."""
    return sorted(set(WORD.findall(text)))


def make_tasks(words):
    """{name: task} for every task."""
    tasks = [Arithmetic("addition", "+"), Arithmetic("subtraction", "-")]
    tasks += [WordTask(name, words) for name in ("count", "reverse", "sort")]
    return {task.name: task for task in tasks}


def problems(task, split, n, seed):
    """n distinct problems of `task` from `split` ("train" or "test"), the same for the same seed."""
    if split not in ("train", "test"):
        raise ValueError(f"problems: split must be 'train' or 'test', got {split!r}")
    rng = random.Random(f"{task.name}:{split}:{seed}")
    found, seen = [], set()
    for _ in range(200 * n + 1000):
        p = task.sample(rng)
        if p.key not in seen and in_test_split(p.key) == (split == "test"):
            seen.add(p.key)
            found.append(p)
            if len(found) == n:
                return found
    raise ValueError(f"problems: {task.name} has fewer than {n} distinct {split} problems")


def mixture(tasks, split, n, seed, weights=None):
    """n problems drawn from the tasks in turn (each `weights[name]` times per turn, default once; repeats
    allowed), shuffled; the same for the same seed."""
    rng = random.Random(f"mixture:{split}:{seed}")
    names = [name for name in sorted(tasks) for _ in range((weights or {}).get(name, 1))]
    out = []
    for i in range(n):
        task = tasks[names[i % len(names)]]
        while True:
            p = task.sample(rng)
            if in_test_split(p.key) == (split == "test"):
                out.append(p)
                break
    rng.shuffle(out)
    return out


def task_text(tasks, n_chars, seed):
    """Plain lines of train-split problems of every task (the calculator tasks 3 times as often), about n_chars
    characters: the pretraining mix."""
    lines, total = [], 0
    for p in mixture(tasks, "train", max(1, n_chars // 20), seed, CALCULATOR_EMPHASIS):
        if total >= n_chars:
            break
        lines.append(p.text)
        total += len(p.text) + 1
    return "\n".join(lines) + "\n"
