"""The 32-bit Mersenne Twister (MT19937), with torch's seeding and bookkeeping (ATen's mt19937 engine).

State: 624 words x[0..623] of 32 bits, a read position `next` and torch's countdown `left`.

Seeding (init_genrand): x[0] = seed mod 2^32, x[j] = 1812433253 * (x[j-1] ^ (x[j-1] >> 30)) + j
(mod 2^32); then left = 1, next = 0, so the first draw twists.

A draw: left -= 1; when it reaches 0, twist the whole state (left = 624, next = 0); then temper
x[next] and move next on. So `left - 1` words can be read before the next twist.

Twist: for i = 0..623, with y = (x[i] & 0x80000000) | (x[(i+1) mod 624] & 0x7fffffff),
    x[i] = x[(i + 397) mod 624] ^ (y >> 1) ^ (0x9908b0df if y is odd else 0), in place, in order.
Tempering: y ^= y >> 11; y ^= (y << 7) & 0x9d2c5680; y ^= (y << 15) & 0xefc60000; y ^= y >> 18.

The twist and the tempering are the kernels mt19937_words and mt19937_bernoulli (NumPy's MT19937 bit
generator in kernels/numpy/mt19937.py, and its Numba twin, several times faster), run on the state
words here, which they twist in place; they read from position 624 + 1 - left. Seeding and torch's
(left, next) bookkeeping, which its state layout records, are kept here.
"""
import numpy as np

from .. import backends
from ..kernels.numpy.mt19937 import N

_FLOAT32 = np.empty(0, np.float32)  # the registry's choice for float32 CPU arrays: Numba's, unless kernels="numpy"


def seeded_state(seed):
    """The 624 words of init_genrand(seed mod 2^32)."""
    words = np.empty(N, np.uint32)
    x = seed & 0xFFFFFFFF
    for j in range(N):
        words[j] = x
        x = (1812433253 * (x ^ (x >> 30)) + j + 1) & 0xFFFFFFFF
    return words


class MT19937:
    """torch's mt19937 engine: `words(n)` gives the next n outputs, as n single draws would."""

    def __init__(self, seed, words=None, left=1, next_=0):
        """Seeded with `seed`, or restored to the state (words, left, next) of an engine seeded so.
        `state` holds the 624 words (uint32), which every draw twists in place."""
        self.seed = seed
        self.state = seeded_state(seed) if words is None else np.array(words, np.uint32)
        self.left, self.next = left, next_

    def _advance(self, n):
        """The read position of the kernels, and torch's (left, next) after n more words: the last
        twist left n - (left - 1) words ago (mod 624), counting from 1."""
        pos = N + 1 - self.left
        if n <= self.left - 1:
            self.left, self.next = self.left - n, self.next + n
        else:
            read = (n - self.left) % N + 1
            self.left, self.next = N + 1 - read, read
        return pos

    def words(self, n):
        """The next n 32-bit outputs as a uint32 array."""
        return backends.kernel("mt19937_words", _FLOAT32)(self.state, self._advance(n), n)

    def words64(self, n):
        """n 64-bit draws as a uint64 array: two 32-bit outputs each, the first the high half."""
        pairs = self.words(2 * n).reshape(n, 2).astype(np.uint64)
        return (pairs[:, 0] << np.uint64(32)) | pairs[:, 1]

    def bernoulli(self, n, threshold):
        """[k < threshold] for n 64-bit draws, k the low 53 bits of each (kernels/numpy/mt19937.py)."""
        return backends.kernel("mt19937_bernoulli", _FLOAT32)(self.state, self._advance(2 * n), n, threshold)
