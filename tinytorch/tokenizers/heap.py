"""A binary min-heap of int64 keys stored in a NumPy array, for use inside Numba kernels.

Both BPE kernels pack what they rank into one int64 so that the smallest key is the next thing
to do: the encoder packs `(merge rank, position)` and the trainer packs `(-count, position)`.
Entries are never updated in place; a kernel pushes a fresh key and skips stale ones when popped.
The functions never reallocate (returning a new array from a jitted call costs reference
counting on every call); callers size the array for the pushes they will make.
"""
import numba


@numba.njit(cache=True)
def heap_push(heap, size, key):
    """Insert `key` into the heap `heap[:size]`, which must have room; returns `size + 1`."""
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if heap[parent] <= key:
            break
        heap[i] = heap[parent]
        i = parent
    heap[i] = key
    return size + 1


@numba.njit(cache=True)
def heap_pop(heap, size):
    """Remove the smallest key of the non-empty heap `heap[:size]`; returns `(key, size - 1)`."""
    top = heap[0]
    size -= 1
    last = heap[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and heap[child + 1] < heap[child]:
            child += 1
        if heap[child] >= last:
            break
        heap[i] = heap[child]
        i = child
    heap[i] = last
    return top, size
