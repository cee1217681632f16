"""Device functions that reduce across a warp or a block: sums, maxima and online-softmax pairs.

Warp reductions use butterfly shuffles (`shfl_xor_sync`): after log2(32) = 5 exchanges every
lane holds the result. Block reductions reduce each warp, post the 32-lane totals to shared
memory, and let every thread add the posts. Callers reach them in block-uniform control flow.
"""
import math

from numba import cuda, float32

WARP = 32
FULL_MASK = 0xFFFFFFFF


@cuda.jit(device=True, cache=True)
def warp_sum(value):
    offset = WARP // 2
    while offset > 0:
        value += cuda.shfl_xor_sync(FULL_MASK, value, offset)
        offset //= 2
    return value


@cuda.jit(device=True, cache=True)
def block_sum(value, scratch):
    """Sum of `value` over the block; scratch is a shared float32 array of at least 32 slots."""
    value = warp_sum(value)
    if cuda.threadIdx.x % WARP == 0:
        scratch[cuda.threadIdx.x // WARP] = value
    cuda.syncthreads()
    total = float32(0)
    for w in range(cuda.blockDim.x // WARP):
        total += scratch[w]
    cuda.syncthreads()
    return total


@cuda.jit(device=True, cache=True)
def block_tree_reduce(value, scratch, take_max):
    """Max (take_max) or sum of `value` over the block by a shared-memory tree.

    scratch holds one float32 per thread; blockDim.x must be a power of two.
    """
    t = cuda.threadIdx.x
    scratch[t] = value
    cuda.syncthreads()
    stride = cuda.blockDim.x // 2
    while stride > 0:
        if t < stride:
            other = scratch[t + stride]
            scratch[t] = max(scratch[t], other) if take_max else scratch[t] + other
        cuda.syncthreads()
        stride //= 2
    result = scratch[0]
    cuda.syncthreads()
    return result


@cuda.jit(device=True, cache=True)
def online_add(m, s, v):
    """Fold v into the running (max m, sum s of exp(x - m)); -inf adds nothing, NaN poisons s."""
    if v > m:
        return v, s * math.exp(m - v) + float32(1)
    if v != -math.inf:
        return m, s + math.exp(v - m)
    return m, s


@cuda.jit(device=True, cache=True)
def online_merge(m1, s1, m2, s2):
    """Combine two (max, sum of exp(x - max)) pairs into the pair of their union."""
    m = max(m1, m2)
    if m == -math.inf:
        return m, s1
    return m, s1 * math.exp(m1 - m) + s2 * math.exp(m2 - m)


@cuda.jit(device=True, cache=True)
def warp_online_merge(m, s):
    offset = WARP // 2
    while offset > 0:
        m_other = cuda.shfl_xor_sync(FULL_MASK, m, offset)
        s_other = cuda.shfl_xor_sync(FULL_MASK, s, offset)
        m, s = online_merge(m, s, m_other, s_other)
        offset //= 2
    return m, s
