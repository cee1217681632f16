"""The graph of in-place writes through views, as torch records it.

When an in-place op writes into a view `v` of a tensor `b` (`y[:, 1].mul_(2)`, `d[i] -= 1`), the
values of `b` change too, so `b` gets a new node, `CopySlices(b_old, values)`: b with the
elements that `v` shows replaced by the op's result. `v` (and every other view of `b`) then gets
an `AsStrided(b)` node: the elements of the new `b` that it shows.

Both find those elements by memory address, so they work for any view, however
it was made (slices, transposes, reshapes, unbind pieces), and on NumPy and CuPy alike (`MemoryMap`).
"""
import numpy as np

from ..autograd import Function
from ..device import array_module
from .indexing import scatter_add


class MemoryMap:
    """Where the elements of array `base` lie in memory, to find which of them a view shows."""

    def __init__(self, base):
        self.base, self.contiguous = base, bool(base.flags.c_contiguous)
        if not self.contiguous:
            offsets = _byte_offsets(base.shape, base.strides).reshape(-1)
            self.order = np.argsort(offsets, kind="stable")
            self.sorted_offsets = offsets[self.order]

    def positions(self, view):
        """int64 array shaped like `view`: for each of its elements, the row-major index of the
        element of `base` at the same memory address (view must show part of base's memory)."""
        base = self.base
        offsets = _byte_offsets(view.shape, view.strides) + (_address(view) - _address(base))
        if self.contiguous:
            positions, misaligned = np.divmod(offsets, base.itemsize)
            inside = not misaligned.any() and (positions.size == 0 or 0 <= positions.min() <= positions.max() < base.size)
        else:
            found = np.minimum(np.searchsorted(self.sorted_offsets, offsets), base.size - 1)
            positions = self.order[found]
            inside = np.array_equal(self.sorted_offsets[found], offsets)
        if not inside:
            raise RuntimeError("in-place op on a view: the view's elements are not all inside its base's memory")
        return array_module(base).asarray(positions)


def _byte_offsets(shape, strides):
    """The byte offset of every element of an array with this shape and strides, from its first."""
    offsets = np.zeros((), np.int64)
    for n, stride in zip(shape, strides):
        offsets = np.add.outer(offsets, np.arange(n, dtype=np.int64) * stride)
    return offsets


def _address(a):
    return a.__array_interface__["data"][0] if isinstance(a, np.ndarray) else a.data.ptr


class CopySlices(Function):
    """b_new = b with the elements at `positions` replaced by `values` (an in-place op through a
    view of b wrote them; forward only hands b's array on, the write has happened already).

    dL/db = g with zeros at `positions` (those elements of b were overwritten);
    dL/dvalues = g at `positions`."""

    @staticmethod
    def forward(ctx, base, values, positions):
        ctx.positions = positions
        return base

    @staticmethod
    def backward(ctx, g):
        need_base, need_values = ctx.needs_input_grad[:2]
        flat = g.reshape(-1)
        grad_values = flat[ctx.positions] if need_values else None
        grad_base = None
        if need_base:
            grad_base = flat.copy()
            grad_base[ctx.positions.reshape(-1)] = 0
            grad_base = grad_base.reshape(g.shape)
        return grad_base, grad_values, None


class AsStrided(Function):
    """v = the elements of b at `positions` (row-major indices into b), seen through `view`, an
    array that already shows them: the node of a view whose base has a new node.

    dL/db = zeros with g added at `positions` (added: an expanded view shows an element twice)."""

    @staticmethod
    def forward(ctx, base, positions, view):
        ctx.shape, ctx.positions = base.shape, positions
        return view

    @staticmethod
    def backward(ctx, g):
        xp = array_module(g)
        grad_base = xp.zeros(ctx.shape, dtype=g.dtype)
        scatter_add(xp, grad_base.reshape(-1), ctx.positions, g)
        return grad_base, None, None
