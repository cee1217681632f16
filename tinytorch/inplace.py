"""In-place ops by torch's rules.

1. Refused while grad mode is on: an in-place op on a leaf that requires grad, or on a view of
   one (its gradient would be lost); and, always, a write into an expanded tensor (several of its
   elements are one memory location).
2. Recorded in the graph when the tensor or an operand requires grad: the op runs out of place
   on `old`, a stand-in for the tensor as it was (its node, and a copy of its values when the
   op's backward needs them), the result is written into the tensor's memory, and the tensor takes
   the result's node (which keeps the tensor's memory where it kept its output). Nodes recorded
   earlier keep their edges to the old node (autograd._edge).
   Through a view, the base takes a `CopySlices` node and every view of it (this one included)
   an `AsStrided` node of the new base (ops/views.py).
3. Otherwise written straight into the tensor's memory.
Either way the memory's version goes up (versions.py), so a node that kept the old values
refuses to run backward.
"""
import weakref

from .autograd import TensorBase, is_grad_enabled
from .ops.errors import shapes_error
from .ops.views import AsStrided, CopySlices, MemoryMap
from .versions import bump, storage, version


def check_inplace(target, op, through_view=False):
    """Raise torch's error for an in-place op that torch refuses before writing anything
    (`through_view`: the op writes through a view of target, as `t[0] = 1` does)."""
    data = target._data
    if 0 in data.strides and any(stride == 0 and n > 1 for stride, n in zip(data.strides, data.shape)):
        raise RuntimeError(f"{op}: unsupported operation: more than one element of the written-to tensor refers to "
                           "a single memory location. Please clone() the tensor before performing the operation.")
    if is_grad_enabled():
        if target._ctx is None and target.requires_grad and not through_view:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        base = target if through_view else target._base
        if base is not None and base._ctx is None and base.requires_grad:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")


def records(target, *operands):
    """Whether an in-place op on `target` with these operands joins the graph."""
    if not is_grad_enabled():
        return False
    if target.requires_grad:
        return True
    for o in operands:
        if isinstance(o, TensorBase) and o.requires_grad:
            return True
    return False


def write(target, op, values):
    """Copy the array `values` (broadcast to target's shape, cast to its dtype) into target's
    memory and bump its version."""
    data = target._data
    try:
        data[...] = values
    except ValueError:
        raise shapes_error(op, values.shape, data.shape, why="do not match for an in-place op "
                           "(the result must broadcast to the tensor's shape)") from None
    bump(data)


def modify(target, op, out_of_place, keep_old=True):
    """target <- out_of_place(old), recorded in the graph (rule 2 of the module's docstring).

    `keep_old`: the op's backward needs target's old values, so `old` gets a copy of them (the
    memory it would otherwise share is overwritten now)."""
    old = _stand_in(target, target._data.copy() if keep_old else target._data)
    result = out_of_place(old)
    if tuple(result._data.shape) != tuple(target._data.shape):
        raise shapes_error(op, result._data.shape, target._data.shape,
                           why="do not match: the result of an in-place op must have the tensor's shape")
    write(target, op, result._data)
    if result._ctx is not None:
        _keep_target_as_output(result._ctx, result._data, target._data)
        _rebase(target, result)
    return target


def _keep_target_as_output(node, result, memory):
    """The node kept its output `result` for backward (exp_, sigmoid_ do): it keeps target's memory
    instead, which holds the same values now, so that a later in-place op on target is caught, as
    torch catches it."""
    kept = node.__dict__
    for name, value in list(kept.items()):
        if value is result:
            kept[name] = memory
    node.versions = [(memory, version(memory)) if array is result else (array, saved) for array, saved in node.versions]


def _stand_in(t, data):
    """A tensor with array `data` that stands for t as it is now: t's node and requires_grad."""
    s = type(t)._wrap(data)
    s._ctx, s._out_index, s.requires_grad = t._ctx, t._out_index, t.requires_grad
    return s


def _rebase(target, result):
    """Give target the node of `result`, the out-of-place result just written into it (through
    CopySlices on its base when target is a view)."""
    base = target._base
    if base is None:
        _give_node(target, result._ctx, result._out_index)
        _refresh_views(target)
        return
    positions = MemoryMap(base._data).positions(target._data)
    new_base = CopySlices.apply(_stand_in(base, base._data), result, positions)
    _give_node(base, new_base._ctx, 0)
    _refresh_views(base)


def _give_node(t, node, index):
    """t is now output `index` of `node` (keeping retain_grad() with it)."""
    old = t._ctx
    if old is not None and old.retained is not None and any(r is t for r in old.retained):
        old.retained = [r for r in old.retained if r is not t]
        node.retained = (node.retained or []) + [t]
    t._ctx, t._out_index, t.requires_grad = node, index, True


def _refresh_views(base):
    """Every live view of base shows the elements of its new node: an AsStrided node each."""
    views = [v for v in (r() for r in base._views or ()) if v is not None]
    base._views = [weakref.ref(v) for v in views]
    memory = MemoryMap(base._data)
    root = storage(base._data)
    for view in views:
        if storage(view._data) is root:  # else base's memory was replaced (`.data = ...`): not a view any more
            node = AsStrided.apply(base, memory.positions(view._data), view._data)
            _give_node(view, node._ctx, 0)
