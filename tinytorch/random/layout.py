"""The order in which torch writes draws into a tensor's elements.

torch fills a tensor element after element in memory order: its TensorIterator walks the axes
from the largest stride to the smallest, so a transposed tensor gets its draws as its contiguous
storage would. A fresh `empty_like(x)` copies x's strides when x is dense and non-overlapping
(a permutation of a contiguous layout), and is contiguous otherwise (x with gaps, like a slice
with a step). A draw for a shape comes in C order; `draw_in_order(array, order, draw)` lays it
out in the given axis order.
"""


def memory_order(array):
    """array's axes from the largest stride to the smallest (ties keep their order)."""
    return sorted(range(array.ndim), key=lambda axis: -abs(array.strides[axis]))


def _dense(array, order):
    expected = array.itemsize
    for axis in reversed(order):
        if array.shape[axis] > 1:
            if abs(array.strides[axis]) != expected:
                return False
            expected *= array.shape[axis]
    return True


def empty_like_order(array):
    """The memory order of torch's empty_like(array): array's own when it is dense, else C order."""
    order = memory_order(array)
    return order if _dense(array, order) else list(range(array.ndim))


def draw_in_order(array, order, draw):
    """draw(shape) for array's shape taken in axis order `order`, returned in array's axis order."""
    values = draw(tuple(array.shape[axis] for axis in order))
    inverse = sorted(range(len(order)), key=order.__getitem__)
    return values.transpose(inverse)
