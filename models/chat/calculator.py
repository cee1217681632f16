"""The assistant's calculator tool: arithmetic on numbers, and nothing else.

The model writes an expression between <|python_start|> and <|python_end|>; the engine hands its text to
`calculate`, which never gives it to Python's `eval` or `exec`. The text is parsed with `ast` into a tree, and
only these nodes are accepted and computed by the walk below:

    numbers (int or float literals)      a + b   a - b   a * b   a / b      -a  +a      ( ... )

Anything else (names, calls, attributes, subscripts, strings, `**`, `//`, `%`, comparisons, lambdas, ...)
is refused. Limits keep every accepted expression cheap: at most MAX_CHARS characters (so parsing is
bounded too), MAX_NODES nodes, MAX_DEPTH levels of nesting, and every number, intermediate or final, at
most MAX_MAGNITUDE in size; a deadline is checked at every node. A refused or failed expression gives
None, and the engine then injects no output.
"""
import ast
import math
import operator
import time

MAX_CHARS = 64
MAX_NODES = 64
MAX_DEPTH = 16
MAX_MAGNITUDE = 10 ** 15
TIME_LIMIT = 0.05  # seconds
ALLOWED_CHARS = frozenset("0123456789.+-*/() ")

BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}


class Refused(Exception):
    """The expression is not plain arithmetic within the limits."""


def calculate(expression):
    """The value of an arithmetic expression as text ("936", "-12", "0.3333333333"), or None if refused."""
    if not isinstance(expression, str) or len(expression) > MAX_CHARS or not expression.strip():
        return None
    if not set(expression) <= ALLOWED_CHARS:
        return None
    try:
        tree = ast.parse(expression.strip(), mode="eval")
        if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
            return None
        value = _evaluate(tree.body, depth=0, deadline=time.perf_counter() + TIME_LIMIT)
    except (Refused, SyntaxError, ValueError, ZeroDivisionError, OverflowError, RecursionError, MemoryError):
        return None
    return format_number(value)


def _evaluate(node, depth, deadline):
    if depth > MAX_DEPTH or time.perf_counter() > deadline:
        raise Refused("too deep or too slow")
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return _checked(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        left = _evaluate(node.left, depth + 1, deadline)
        right = _evaluate(node.right, depth + 1, deadline)
        return _checked(BINARY[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
        return _checked(UNARY[type(node.op)](_evaluate(node.operand, depth + 1, deadline)))
    raise Refused(f"{type(node).__name__} is not arithmetic")


def _checked(value):
    if isinstance(value, float) and not math.isfinite(value):
        raise Refused("not a finite number")
    if abs(value) > MAX_MAGNITUDE:
        raise Refused("number too large")
    return value


def format_number(value):
    """Integers (and floats with integer values) without a decimal point; other floats to 10 decimals."""
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return f"{value:.10f}".rstrip("0")
    return str(value)
