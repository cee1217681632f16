"""The 32-bit Mersenne Twister (MT19937) from a state of words, and Bernoulli masks of its 64-bit draws.

    mt19937_words(key, pos, n)                  -> uint32 (n,): the next n outputs
    mt19937_bernoulli(key, pos, n, threshold)   -> bool (n,): [k < threshold] for n 64-bit draws

key: the 624 state words (uint32, C-contiguous), twisted in place as the outputs need; pos: the read
position in [0, 624] (624: the next output twists first). The caller keeps pos: after n words it is
(pos + n - 1) % 624 + 1 when n > 0. A 64-bit draw is two outputs, the first the high half, and k
is its low 53 bits: ((hi & (2^21 - 1)) << 32) | lo.

Bernoulli by integers. torch's bernoulli_(p) with a number p keeps an element when u < p, u the
double (word64 & (2^53 - 1)) * 2^-53 = k 2^-53. This is exact: k < 2^53 converts to a double without
rounding and the product by a power of two rounds nothing (no underflow: k 2^-53 is 0 or at least
2^-53). For p in [0, 1], p 2^53 is exact too (a power-of-two scaling of a double, at most 2^53), so

    u < p  <=>  k < p 2^53  <=>  k < ceil(p 2^53) = threshold      (k an integer)

and threshold <= 2^53 fits in 64 bits: the mask needs no floating point at all.

The outputs are NumPy's MT19937 bit generator's (C): it is loaded with the words through a view of
its C state (NumPy's mt19937_state, {uint32 key[624]; int pos}), a copy of 2.5 KB each way where its
`state` property builds and parses a dictionary (about 30 us each way). CPU only: the state is a
NumPy array (CuPy's generators are not torch's CPU stream).
"""
import ctypes
import threading

import numpy as np

from ..shapes import check_mt19937

N = 624  # state words
LOW_53_OF_HIGH = (1 << 21) - 1  # the bits of the high word that land in a double's 53

_local = threading.local()


def _bit_generator():
    """This thread's NumPy MT19937 and a uint32 view of its C state: key[0..623], then pos."""
    found = getattr(_local, "found", None)
    if found is None:
        bits = np.random.MT19937(0)
        view = np.ctypeslib.as_array((ctypes.c_uint32 * (N + 1)).from_address(bits.ctypes.state_address))
        state = bits.state["state"]
        if not (np.array_equal(view[:N], state["key"]) and view[N] == state["pos"]):
            raise RuntimeError("mt19937_words: NumPy's MT19937 state is not {uint32 key[624]; int pos} in this "
                               f"NumPy ({np.__version__}); run with TINYTORCH_KERNELS=numba")
        found = _local.found = (bits, view)
    return found


def mt19937_words(key, pos, n):
    check_mt19937("mt19937_words", key, pos, n)
    bits, view = _bit_generator()
    view[:N], view[N] = key, pos
    out = bits.random_raw(n).astype(np.uint32)
    key[:] = view[:N]
    return out


def mt19937_bernoulli(key, pos, n, threshold):
    check_mt19937("mt19937_bernoulli", key, pos, n, threshold)
    pairs = mt19937_words(key, pos, 2 * n).reshape(n, 2).astype(np.uint64)
    k = ((pairs[:, 0] & np.uint64(LOW_53_OF_HIGH)) << np.uint64(32)) | pairs[:, 1]
    return k < np.uint64(threshold)
