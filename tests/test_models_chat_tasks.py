"""The self-made tasks: correct answers, a deterministic disjoint train/test split, exact-match rewards,
and pretraining text from the train split only (models/chat/tasks.py)."""
import re

import pytest

from tinytorch.models.chat.tasks import (extract_answer, in_test_split, make_tasks, mixture, problems, reward,
                                         task_text)

WORDS = [a + b + c for a in ("ni", "be", "sto", "ri") for b in ("ght", "rr", "ve", "on") for c in ("", "y", "er", "s")]
TASKS = make_tasks(WORDS)


def solve(problem):
    """The answer worked out from the question's text alone."""
    q = problem.question
    if problem.task in ("addition", "subtraction"):
        a, op, b = re.search(r"(\d+) ?([+-]) ?(\d+)", q).groups()
        return str(int(a) + int(b) if op == "+" else int(a) - int(b))
    word = re.findall(r"'([a-z]+)'", q)[-1]
    if problem.task == "count":
        return str(word.count(re.findall(r"'([a-z])'", q)[0]))
    return word[::-1] if problem.task == "reverse" else "".join(sorted(word))


@pytest.mark.parametrize("name", sorted(TASKS))
def test_answers_are_right(name):
    for p in problems(TASKS[name], "train", 30, seed=0):
        assert p.answer == solve(p)
        assert reward(p, f"The answer is {p.answer}.") == 1.0


def test_the_split_is_deterministic_and_disjoint():
    task = TASKS["addition"]
    train, test = problems(task, "train", 300, seed=0), problems(task, "test", 50, seed=0)
    assert [p.key for p in test] == [p.key for p in problems(task, "test", 50, seed=0)]
    assert not {p.key for p in train} & {p.key for p in test}
    assert all(in_test_split(p.key) for p in test) and not any(in_test_split(p.key) for p in train)
    assert len({p.key for p in test}) == 50
    share = sum(in_test_split(f"addition:{a}+{b}") for a in range(100) for b in range(100)) / 10_000
    assert 0.08 < share < 0.12


def test_the_split_ignores_the_phrasing():
    keys = {p.key: p for p in problems(TASKS["addition"], "train", 500, seed=1)}
    assert all(k == f"addition:{p.tool}" for k, p in keys.items())


def test_rewards_are_exact_match_of_the_last_answer():
    p = problems(TASKS["addition"], "test", 1, seed=0)[0]
    assert reward(p, f"<|python_start|>x<|python_end|>The answer is {p.answer}.") == 1.0
    assert reward(p, f"The answer is {p.answer}0.") == 0.0
    assert reward(p, f"The answer is {p.answer}. The answer is 0.") == 0.0
    assert reward(p, f"{p.answer}") == 0.0
    assert extract_answer("no answer here") is None
    assert extract_answer("The answer is  olleh ") == "olleh"


def test_worked_replies_call_the_calculator_for_arithmetic_only():
    add = problems(TASKS["addition"], "train", 1, seed=0)[0].conversation()["messages"][1]["content"]
    assert [part["type"] for part in add] == ["python", "python_output", "text"]
    word = problems(TASKS["reverse"], "train", 1, seed=0)[0].conversation()["messages"][1]["content"]
    assert [part["type"] for part in word] == ["text"]


def test_pretraining_text_holds_only_train_problems():
    text = task_text(TASKS, 5000, seed=0)
    sums = re.findall(r" (\d+)\+(\d+)=(-?\d+)$", text, re.M)
    assert sums and all(int(a) + int(b) == int(c) and not in_test_split(f"addition:{a}+{b}") for a, b, c in sums)
    assert 4900 <= len(text) <= 5200


def test_mixture_cycles_through_every_task():
    ps = mixture(TASKS, "train", 50, seed=0)
    assert {p.task for p in ps} == set(TASKS) and all(not in_test_split(p.key) for p in ps)
    assert [p.key for p in ps] == [p.key for p in mixture(TASKS, "train", 50, seed=0)]
