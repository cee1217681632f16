"""Fast BPE encoding of many chunks at once.

A chunk's bytes become tokens by repeatedly merging the adjacent pair whose merge was learned
first (lowest new id), leftmost first among equal pairs, which is what minbpe's
`min(stats, key=merges.get)` followed by a left-to-right merge of every occurrence produces,
because a merge always makes a larger id than the pairs it consumes.

Per chunk: the live tokens form a linked list, every adjacent pair that has a merge sits in a
heap keyed `(new id, position)`, and each merge re-examines only its two new neighbouring
pairs: O(L log L) for a chunk of L bytes instead of minbpe's O(L^2). The merges themselves live
in an open-addressing hash table of int64 keys `left << 32 | right`, built once per tokenizer.
"""
import numba
import numpy as np

from .heap import heap_pop, heap_push

EMPTY = -1
FIBONACCI = -7046029254386353131  # 0x9E3779B97F4A7C15 (2**64 / golden ratio) as an int64
POSITION_MASK = (1 << 32) - 1


@numba.njit(cache=True)
def _slot(keys, key):
    """Index of `key` in the table, or of the empty slot where it would go."""
    mask = keys.shape[0] - 1
    slot = ((key * FIBONACCI) >> 32) & mask  # multiplicative hashing, then linear probing
    while keys[slot] != EMPTY and keys[slot] != key:
        slot = (slot + 1) & mask
    return slot


@numba.njit(cache=True)
def build_merge_table(lefts, rights, new_ids):
    """Hash table of the merges `(lefts[k], rights[k]) -> new_ids[k]`, as `(keys, values)`."""
    capacity = 16
    while capacity < 2 * lefts.shape[0]:
        capacity *= 2
    keys = np.full(capacity, EMPTY, np.int64)
    values = np.empty(capacity, np.int64)
    for k in range(lefts.shape[0]):
        key = (lefts[k] << 32) | rights[k]
        slot = _slot(keys, key)
        keys[slot] = key
        values[slot] = new_ids[k]
    return keys, values


@numba.njit(cache=True)
def _merged(keys, values, left, right):
    """Id that the pair (left, right) merges into, or -1 when it has no merge."""
    slot = _slot(keys, (left << 32) | right)
    return values[slot] if keys[slot] != EMPTY else -1


@numba.njit(cache=True)
def encode_chunks(data, offsets, byte_ids, keys, values):
    """BPE-encode the chunks `data[offsets[c]:offsets[c + 1]]` (uint8) one by one.

    byte_ids: int64[256], the token id of each byte value (the identity for trained
    tokenizers; a permutation for GPT-2 / GPT-4). keys, values: from `build_merge_table`.
    Returns `(ids, ends)`: chunk c encodes to `ids[ends[c - 1]:ends[c]]` (ends[-1] taken as 0).
    """
    longest = 0
    for c in range(offsets.shape[0] - 1):
        longest = max(longest, offsets[c + 1] - offsets[c])
    token = np.empty(longest, np.int64)
    nxt = np.empty(longest, np.int64)
    prv = np.empty(longest, np.int64)
    merged = np.empty(longest, np.int64)  # what the pair starting at each position merges into
    heap = np.empty(3 * longest, np.int64)  # a chunk pushes <= L - 1 pairs + 2 per merge
    ids = np.empty(offsets[-1], np.int64)
    ends = np.empty(offsets.shape[0] - 1, np.int64)
    written = 0
    for c in range(offsets.shape[0] - 1):
        start, length = offsets[c], offsets[c + 1] - offsets[c]
        for i in range(length):
            token[i] = byte_ids[data[start + i]]
            nxt[i] = i + 1 if i + 1 < length else -1
            prv[i] = i - 1
        size = 0
        for i in range(length):
            merged[i] = _merged(keys, values, token[i], token[i + 1]) if i + 1 < length else -1
            if merged[i] != -1:
                size = heap_push(heap, size, (merged[i] << 32) | i)
        while size > 0:
            key, size = heap_pop(heap, size)
            i = key & POSITION_MASK
            if merged[i] != key >> 32:  # stale: the pair at i changed since it was pushed
                continue
            j = nxt[i]
            token[i] = merged[i]
            merged[j] = -1
            nxt[i] = nxt[j]
            if nxt[i] != -1:
                prv[nxt[i]] = i
                merged[i] = _merged(keys, values, token[i], token[nxt[i]])
                if merged[i] != -1:
                    size = heap_push(heap, size, (merged[i] << 32) | i)
            else:
                merged[i] = -1
            if prv[i] != -1:
                p = prv[i]
                merged[p] = _merged(keys, values, token[p], token[i])
                if merged[p] != -1:
                    size = heap_push(heap, size, (merged[p] << 32) | p)
        i = 0 if length > 0 else -1
        while i != -1:
            ids[written] = token[i]
            written += 1
            i = nxt[i]
        ends[c] = written
    return ids[:written], ends
