"""The 32-bit Mersenne Twister (MT19937) on the CPU with Numba: the outputs of NumPy's bit generator
(kernels/numpy/mt19937.py, arguments and the Bernoulli mask's integer form there), bit for bit,
about 10x faster: it vectorizes what NumPy's C runs one word at a time.

Twist, in place, x[i] <- x[i + 397 mod 624] ^ (y >> 1) ^ (0x9908b0df if y is odd else 0) with
y = (x[i] & 2^31) | (x[i + 1 mod 624] & (2^31 - 1)), for i = 0..623 in order, in three segments
without a dependency inside any vector:
    i < 227          reads x[i + 1] and x[i + 397], neither updated yet;
    227 <= i < 623   reads x[i + 1], not updated yet, and x[i - 227], updated 227 steps before;
    i = 623          wraps: reads x[0] and x[396], both updated.
Tempering, word by word: y ^= y >> 11; y ^= (y << 7) & 0x9d2c5680; y ^= (y << 15) & 0xefc60000;
y ^= y >> 18.

A Bernoulli mask tempers the words it needs of each twisted state into a scratch block of 624, which
stays in cache, and compares them in pairs from there, never writing the words out; a pair whose
high word is the last before a twist is taken alone. One thread: each twist needs the one before,
and the rest runs at a fraction of a nanosecond a word.
"""
import numpy as np
from numba import njit

from ..numpy.mt19937 import LOW_53_OF_HIGH, N
from ..shapes import check_mt19937

M = 397
_U32 = np.uint32
_UPPER, _LOWER, _MATRIX_A = _U32(0x80000000), _U32(0x7FFFFFFF), _U32(0x9908B0DF)
_LOW_53_OF_HIGH = np.uint64(LOW_53_OF_HIGH)


@njit(inline="always")
def _mixed(x_i, x_next, x_far):
    y = (x_i & _UPPER) | (x_next & _LOWER)
    return x_far ^ (y >> _U32(1)) ^ ((_U32(0) - (y & _U32(1))) & _MATRIX_A)


@njit(cache=True)
def _twist(x):
    for i in range(N - M):
        x[i] = _mixed(x[i], x[i + 1], x[i + M])
    for j in range(M - 1):
        x[j + N - M] = _mixed(x[j + N - M], x[j + N - M + 1], x[j])
    x[N - 1] = _mixed(x[N - 1], x[0], x[M - 1])


@njit(inline="always")
def _tempered(y):
    y ^= y >> _U32(11)
    y ^= (y << _U32(7)) & _U32(0x9D2C5680)
    y ^= (y << _U32(15)) & _U32(0xEFC60000)
    return y ^ (y >> _U32(18))


@njit(inline="always")
def _below(high, low, threshold):
    return (((np.uint64(high) & _LOW_53_OF_HIGH) << np.uint64(32)) | np.uint64(low)) < threshold


@njit(cache=True)
def _temper(words, out):
    for j in range(out.shape[0]):
        out[j] = _tempered(words[j])


@njit(cache=True)
def _pairs_below(words, threshold, out, scratch):
    for j in range(words.shape[0]):
        scratch[j] = _tempered(words[j])
    for j in range(out.shape[0]):
        out[j] = _below(scratch[2 * j], scratch[2 * j + 1], threshold)


@njit(cache=True)
def _words(key, pos, out):
    done = 0
    while done < out.shape[0]:
        if pos == N:
            _twist(key)
            pos = 0
        m = min(N - pos, out.shape[0] - done)
        _temper(key[pos:pos + m], out[done:done + m])
        done += m
        pos += m


@njit(cache=True)
def _bernoulli(key, pos, threshold, out):
    scratch = np.empty(N, np.uint32)
    done = 0
    while done < out.shape[0]:
        if pos == N - 1:
            high = _tempered(key[N - 1])
            _twist(key)
            out[done] = _below(high, _tempered(key[0]), threshold)
            done, pos = done + 1, 1
            continue
        if pos == N:
            _twist(key)
            pos = 0
        pairs = min((N - pos) // 2, out.shape[0] - done)
        _pairs_below(key[pos:pos + 2 * pairs], threshold, out[done:done + pairs], scratch)
        done += pairs
        pos += 2 * pairs


def mt19937_words(key, pos, n):
    check_mt19937("mt19937_words", key, pos, n)
    out = np.empty(n, np.uint32)
    _words(key, pos, out)
    return out


def mt19937_bernoulli(key, pos, n, threshold):
    check_mt19937("mt19937_bernoulli", key, pos, n, threshold)
    out = np.empty(n, np.bool_)
    _bernoulli(key, pos, np.uint64(threshold), out)
    return out
