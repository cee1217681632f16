"""The calculator tool computes arithmetic and refuses everything else (models/chat/calculator.py)."""
import time

import pytest

from tinytorch.models.chat.calculator import MAX_CHARS, calculate

ARITHMETIC = [
    ("347+589", "936"), ("512-97", "415"), ("97-512", "-415"), ("12*34", "408"), ("7/2", "3.5"),
    ("1/3", "0.3333333333"), ("-(3+4)*2", "-14"), ("+5", "5"), (" 2 + 3 ", "5"), ("((((1))))", "1"),
    ("0.5*4", "2"), ("6/3", "2"), ("2.25+0.5", "2.75"), ("999999999999999-1", "999999999999998"),
]

HOSTILE = [
    "__import__('os').system('ls')", "open('/etc/passwd').read()", "exec('1')", "eval('1+1')",
    "().__class__.__bases__[0].__subclasses__()", "lambda: 1", "[1, 2, 3]", "{'a': 1}", "'abc' * 3",
    "x + 1", "print(1)", "1 if 1 else 2", "1 < 2", "1 == 1", "not 1", "~1", "1 & 1", "1 | 2", "1 ^ 2",
    "1 << 60", "2 ** 10", "9 ** 9 ** 9", "10 // 3", "10 % 3", "1e308 * 10", "1e5", "1_000", "0x10", "1j",
    "True + 1", "None", "...", "(1, 2)", "a.b", "f(1)", "1; 2", "1\n2", "import os", "1 +", "", "   ",
    "9" * 16, "99999999*99999999", "1/0", "0/0", "((" * 20 + "1" + "))" * 20, "-" * 63 + "1",
    "1+" * 40 + "1", "\x00", "1٢3", "１+１", "\u202e1+1",
]


@pytest.mark.parametrize("expression, expected", ARITHMETIC)
def test_arithmetic_is_computed(expression, expected):
    assert calculate(expression) == expected


@pytest.mark.parametrize("expression", HOSTILE)
def test_anything_else_is_refused(expression):
    assert calculate(expression) is None


@pytest.mark.parametrize("value", [None, 12, b"1+1", ["1+1"]])
def test_non_strings_are_refused(value):
    assert calculate(value) is None


def test_length_limit():
    within = "1000000+" * 7 + "1"
    assert len(within) <= MAX_CHARS and calculate(within) == "7000001"
    assert calculate("1+1" + " " * (MAX_CHARS - 2)) is None


def test_depth_limit():
    assert calculate("1+" * 10 + "1") == "11"
    assert calculate("1+" * 25 + "1") is None


def test_every_refusal_is_fast():
    start = time.perf_counter()
    for expression in HOSTILE:
        calculate(expression)
    assert time.perf_counter() - start < 1.0


def test_the_calculator_never_calls_eval_or_exec():
    import inspect

    from tinytorch.models.chat import calculator
    source = inspect.getsource(calculator)
    assert "eval(" not in source.replace("_evaluate(", "") and "exec(" not in source
