"""Version counters: how many times a tensor's memory has been modified in place.

As in torch, every in-place op bumps a counter shared by all the tensors that see the same
memory, and a graph node remembers the versions of the arrays it saved for backward: if one has
changed by the time backward runs, its gradient would silently use the new values, so backward
raises instead (autograd.check_saved_versions).

Here the counter belongs to the memory itself, the NumPy/CuPy array that owns it (the root of
an array's `.base` chain), so every view of it shares the counter however the view was made: a
slice, a transpose, `detach()`, `.data`. (torch's `.data` alone has a counter of its own; here
writing through `.data` is seen too.) Memory that was never modified has no entry (version 0);
an entry is dropped when its memory is freed.
"""
import weakref

from . import device as _device

_counts = {}  # id(root array) -> number of in-place modifications


def storage(a):
    """The array that owns a's memory: the last array along a's `.base` chain."""
    base = a.base
    while base is not None and isinstance(base, _device.ARRAY_TYPES):
        a, base = base, base.base
    return a


def version(a):
    """How many in-place ops have modified the memory of array `a`."""
    return _counts.get(id(storage(a)), 0)


def bump(a):
    """Record one in-place modification of the memory of array `a`."""
    root = storage(a)
    key = id(root)
    count = _counts.get(key)
    if count is None:
        try:
            weakref.finalize(root, _counts.pop, key, None)
        except TypeError:  # an array type without weak references keeps its (harmless) entry
            pass
        count = 0
    _counts[key] = count + 1
