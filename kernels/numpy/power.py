"""a ** b for a float array a and a Python-number exponent b, forward and backward, as torch computes
them (ATen's pow with a scalar exponent and its pow_backward), in NumPy (or CuPy).

    power(a, b)              0 -> ones, 1 -> a copy, 2 -> a a, 3 -> a a a, -2 -> 1 / (a a),
                             0.5 -> sqrt a, -0.5 -> 1 / sqrt a, -1 -> 1 / a (torch's shortcuts, rounded
                             as torch rounds them); other integers n, |n| <= 8, by repeated squaring
                             (within a few ulps of torch's vectorised pow, and far faster than libm's
                             powf, which takes a slow path for negative bases); else NumPy's power
    power_backward(g, a, b)  g * (b * a^(b - 1)), torch's order of rounding, a^(b - 1) by `power`;
                             zeros for b = 0

kernels/cpu/power.py is the Numba twin of the cases where NumPy needs several passes.
"""
from .arrays import array_module

MAX_SQUARED = 8  # integer exponents up to this size go by repeated squaring (error <= 2^-21)


def power(a, b):
    xp = array_module(a)
    if b == 0:
        return xp.ones_like(a)
    if b == 1:
        return a.copy()
    if b == 0.5:
        return xp.sqrt(a)
    if b == -0.5:
        return 1 / xp.sqrt(a)
    if b == int(b) and abs(b) <= MAX_SQUARED:
        y = integer_power(a, abs(int(b)))
        return 1 / y if b < 0 else y
    return a ** b


def power_backward(g, a, b):
    if b == 0:
        return array_module(a).zeros_like(a)
    slope = power(a, b - 1)
    slope *= a.dtype.type(b)
    slope *= g
    return slope


def integer_power(a, n):
    """a^n for an integer n >= 1: a a, a a a (torch's two shortcuts, left to right), else by squaring."""
    if n == 3:
        return a * a * a
    result, square = None, a
    while n:
        if n & 1:
            result = square if result is None else result * square
        n >>= 1
        if n:
            square = square * square
    return result
