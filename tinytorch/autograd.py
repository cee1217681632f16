"""Reverse-mode automatic differentiation: Function, Context (the graph node), the backward engine,
and the grad modes (no_grad, enable_grad, set_grad_enabled).

A `Function` subclass implements `forward(ctx, *args)` and `backward(ctx, *grads)` on raw arrays
(NumPy or CuPy). `Function.apply` unwraps tensors, runs `forward`, wraps the result and, when a
gradient is needed, keeps the `Context` as the result's `_ctx`: the node of the graph.

`TensorBase` is what the engine needs of a tensor: its array, its node and its gradient. The
Tensor class (tensor.py) derives from it and adds the API; `Function.apply` wraps its results
through the type of its tensor inputs, so this layer never imports the Tensor layer.

The engine (`run_backward`) walks the graph in reverse topological order (nodes found by an
iterative search, so there is no recursion limit, then ordered by creation), sums the gradients
that reach a reused node, reduces broadcast gradients back to each input's shape
(`unbroadcast`), stores `.grad` on leaves (and on tensors that asked for `retain_grad()`), and
frees the arrays that nodes saved for backward.
"""
import builtins
import functools
import itertools
import operator
from types import GeneratorType

import numpy as np

from . import device as _device
from .ops.torch_names import backward_name

_grad_enabled = True
_created = itertools.count()  # numbers the graph nodes in order of creation


def is_grad_enabled():
    return _grad_enabled


def _set(mode):
    global _grad_enabled
    _grad_enabled = mode


class _GradMode:
    """A context manager that is also a decorator: `with mode():` or `@mode()` (or bare `@mode`)."""

    mode = True

    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and callable(args[0]) and not kwargs and cls is not set_grad_enabled:
            return cls()(args[0])  # bare decorator: @no_grad
        return super().__new__(cls)

    def __enter__(self):
        self.prev = _grad_enabled
        _set(self.mode)

    def __exit__(self, *exc):
        _set(self.prev)
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = _grad_enabled
            _set(mode)
            try:
                return fn(*args, **kwargs)
            finally:
                _set(prev)
        return wrapper


class no_grad(_GradMode):
    """`with no_grad():`, `@no_grad()` or `@no_grad`: ops inside record no graph."""

    mode = False


class enable_grad(_GradMode):
    """Turn recording back on (inside a no_grad region)."""

    mode = True


class set_grad_enabled(_GradMode):
    """`set_grad_enabled(False)` switches recording at once (as torch does); used with `with`, the
    previous mode comes back on exit; used as a decorator, only the call is affected."""

    def __init__(self, mode):
        self.prev = _grad_enabled
        self.mode = bool(mode)
        _set(self.mode)

    def __enter__(self):
        _set(self.mode)

    def __call__(self, fn):
        _set(self.prev)
        return super().__call__(fn)


class inference_mode(_GradMode):
    """Same as no_grad here (tinytorch has no separate inference tensors); `inference_mode(False)`
    leaves recording on."""

    def __init__(self, mode=True):
        self.mode = not mode


class TensorBase:
    """A raw array (NumPy or CuPy) with its place in the graph: `_ctx` is the node that produced it
    (None for a leaf), `_out_index` which of that node's outputs it is, `grad` its accumulated gradient."""

    __slots__ = ("_data", "requires_grad", "grad", "_ctx", "_out_index", "__weakref__", "__dict__")

    @classmethod
    def _wrap(cls, data, node=None, index=0):
        """A tensor around a raw array; `node` is the graph node that produced it, if any (only
        floating-point results join the graph)."""
        if type(data) is not np.ndarray and isinstance(data, (np.generic, builtins.float, builtins.int)):
            data = np.asarray(data)
        t = object.__new__(cls)
        t._data = data
        t.grad = None
        t._out_index = index
        if node is not None and data.dtype.kind in "fc":
            t._ctx = node
            t.requires_grad = True
        else:
            t._ctx = None
            t.requires_grad = False
        return t


class Context:
    """What `forward` leaves for `backward`, and the node of the graph.

    In forward: `ctx.save_for_backward(*arrays)` (read back as `ctx.saved_tensors`) or any
    attribute (`ctx.axis = 1`); `ctx.needs_input_grad[i]` says whether positional input i needs
    a gradient (all False when nothing is recorded). The engine also keeps here the Function,
    the forward's arguments (`inputs`), and one gradient slot per output.
    """

    __slots__ = ("fn", "inputs", "needs_input_grad", "grads", "retained", "freed", "seq", "__dict__")

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays

    def name(self):
        """torch's name for this node (`MulBackward0`), as `grad_fn.name()` gives it."""
        return backward_name(self.fn.__name__)

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"


class Function:
    """Base class of every differentiable op. Subclasses define static forward and backward.

    `backward` returns one gradient per positional forward argument (None where there is none),
    or a single array for a one-argument function; it may return a gradient in the broadcast
    output shape (the engine reduces it). It may also be a generator yielding the gradients in
    order: the engine then routes each one before the next is computed, so only one temporary
    is alive at a time (Mul does this). It must not modify `grad` in place, and must return
    new arrays or views of `grad`, never arrays saved in ctx. A forward returning a tuple makes
    a multi-output function; its backward then receives one gradient per output (None for
    outputs that received none).
    """

    differentiable = True

    @classmethod
    def apply(cls, *args, **kwargs):
        raw, needs, record, wrap = [], [], False, None
        for a in args:
            if isinstance(a, TensorBase):
                if wrap is None:
                    wrap = type(a)._wrap
                raw.append(a._data)
                if a.requires_grad:
                    record = True
                    needs.append(True)
                    continue
            else:
                raw.append(a)
            needs.append(False)
        if wrap is None:
            raise TypeError(f"{cls.__name__}.apply: expected at least one tensor argument")
        ctx = Context()
        if not (record and _grad_enabled and cls.differentiable):
            ctx.needs_input_grad = (False,) * len(args)
            out = cls.forward(ctx, *raw, **kwargs)
            if type(out) is tuple:
                return tuple([wrap(o) for o in out])
            return wrap(out)
        ctx.needs_input_grad = tuple(needs)
        out = cls.forward(ctx, *raw, **kwargs)
        ctx.fn, ctx.inputs, ctx.retained, ctx.freed, ctx.seq = cls, args, None, False, next(_created)
        if type(out) is tuple:
            ctx.grads = [None] * len(out)
            return tuple([wrap(o, ctx, i) for i, o in enumerate(out)])
        ctx.grads = [None]
        return wrap(out, ctx, 0)

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("a Function subclass must define backward(ctx, *grads)")


def unbroadcast(grad, shape):
    """Sum `grad` over the axes that broadcasting added or stretched, to get back `shape`.

    If y = f(broadcast(x)), every copy of x contributes, so dL/dx sums dL/dy over the copies:
    over the leading axes that x lacked, and (keeping them) over axes where x had size 1.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra >= 0:
        stretched = grad.shape[extra:]
        axes = tuple(range(extra)) + tuple(i + extra for i, s in enumerate(shape) if s == 1 and stretched[i] != 1)
        if axes:
            grad = grad.sum(axis=axes, keepdims=True)
        if grad.shape[extra:] == shape:
            return grad.reshape(shape) if extra else grad
    raise RuntimeError(f"autograd: a gradient of shape {grad.shape} cannot be reduced to its input's shape {shape}")


def _topological_order(root):
    """The nodes reachable from `root`, each before the nodes that produce its inputs.

    A node is created after the nodes that produced its inputs, so every node's creation number
    (`seq`, as torch's sequence_nr) exceeds its producers': descending `seq` is a topological
    order. Finding the nodes is a plain iterative search; the sort does the ordering."""
    nodes, stack = {root}, [root]
    while stack:
        node = stack.pop()
        for inp, need in zip(node.inputs, node.needs_input_grad):
            if need:
                child = inp._ctx
                if child is not None and child not in nodes:
                    nodes.add(child)
                    stack.append(child)
    return sorted(nodes, key=_creation_order, reverse=True)


_creation_order = operator.attrgetter("seq")


def run_backward(tensor, grad, retain_graph=False, inputs=None, capture=None):
    """Backpropagate `grad` (an array shaped like `tensor`) through the graph behind `tensor`.

    Leaves (or only those in `inputs`) accumulate into `.grad`. With `capture` (a dict from
    id(tensor) to tensor), nothing is stored in `.grad`: the gradient of each captured tensor
    is returned instead, as {id: array} (this is `autograd.grad`).
    """
    root = tensor._ctx
    found = {}
    wanted = None if inputs is None else {id(t) for t in inputs}
    if root is None:
        found[id(tensor)] = (tensor, grad)
    else:
        root.grads[tensor._out_index] = grad
        _walk(root, retain_graph, found, capture, wanted)
    if capture is not None:
        return {k: g for k, (t, g) in found.items() if k in capture}
    taken = {_base_id(grad)} if found else None
    for key, (t, g) in found.items():
        if wanted is None or key in wanted:
            _accumulate(t, g, taken)


def _walk(root, retain_graph, found, capture, wanted):
    """Run every node's backward in order and route each input's gradient. A leaf gradient is
    added into an existing `.grad` at once (freeing it early); a leaf without one is collected in
    `found` and stored at the end, when no pending node can still read the array."""
    accumulate_now = capture is None
    for node in _topological_order(root):
        grads = node.grads
        n = len(grads)
        if n == 1:
            if grads[0] is None:
                continue
            node.grads = [None]
        else:
            node.grads = [None] * n
            if all(g is None for g in grads):
                continue
        if node.retained is not None or capture:
            _collect_non_leaves(node, grads, found, capture)
        if node.freed:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (through {node.name()}, whose saved "
                "arrays were freed by the first backward()). Specify retain_graph=True on the first backward() "
                "if you need to backward through the graph a second time.")
        in_grads = node.fn.backward(node, grads[0]) if n == 1 else node.fn.backward(node, *grads)
        if type(in_grads) is not tuple and type(in_grads) is not GeneratorType:
            in_grads = (in_grads,)
        for inp, need, g in zip(node.inputs, node.needs_input_grad, in_grads):
            if need and g is not None:  # route g to inp: its shape and dtype, then its destination
                data = inp._data
                if g.shape != data.shape:
                    g = unbroadcast(g, data.shape)
                if g.dtype is not data.dtype and g.dtype != data.dtype:
                    g = g.astype(data.dtype)
                child = inp._ctx
                if child is not None:  # the node that produced inp sums what reaches it
                    slot, i = child.grads, inp._out_index
                    slot[i] = g if slot[i] is None else slot[i] + g
                elif accumulate_now and inp.grad is not None and (wanted is None or id(inp) in wanted):
                    inp.grad._data += g
                else:
                    prev = found.get(id(inp))
                    found[id(inp)] = (inp, g if prev is None else prev[1] + g)
            del g  # a generator's next gradient is computed only after this one is gone
        if not retain_graph and node.__dict__:
            _free(node)


def _collect_non_leaves(node, grads, found, capture):
    """Record the gradients reaching non-leaf tensors that retain_grad() or autograd.grad asks for."""
    for t in (node.retained or ()):
        if grads[t._out_index] is not None:
            found[id(t)] = (t, grads[t._out_index])
    for key, t in (capture or {}).items():
        if t._ctx is node and grads[t._out_index] is not None:
            found[key] = (t, grads[t._out_index])


def _free(node):
    """Drop the arrays forward saved; a second backward through a node that saved some raises."""
    saved = node.__dict__
    types = _device.ARRAY_TYPES  # grows when CuPy loads
    for k, v in list(saved.items()):
        if isinstance(v, types) or type(v) is tuple and _has_array(v, types):
            del saved[k]
            node.freed = True


def _has_array(values, types):
    for v in values:
        if isinstance(v, types):
            return True
    return False


def _base_id(g):
    return id(g if g.base is None else g.base)


def _accumulate(t, g, taken):
    """t.grad += g, or t.grad = g when t has none; a stored gradient owns its memory exclusively
    (never the caller's array, another leaf's, or a read-only broadcast view), so in-place updates
    of one .grad (grad clipping, zero_()) never reach another."""
    if t.grad is not None:
        t.grad._data += g
        return
    base = _base_id(g)
    if base in taken or 0 in g.strides and g.size > 1 or not getattr(g.flags, "writeable", True):
        g = g.copy()
        base = id(g)
    taken.add(base)
    t.grad = type(t)._wrap(g)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """torch.autograd.grad: the gradients of `outputs` with respect to `inputs`, as a tuple,
    without touching any `.grad`."""
    if create_graph:
        raise RuntimeError("tinytorch: higher-order gradients (create_graph=True) are not supported")
    outputs = (outputs,) if isinstance(outputs, TensorBase) else tuple(outputs)
    inputs = (inputs,) if isinstance(inputs, TensorBase) else tuple(inputs)
    if grad_outputs is None or isinstance(grad_outputs, TensorBase):
        grad_outputs = (grad_outputs,) * len(outputs)
    capture = {id(t): t for t in inputs}
    totals = {}
    for k, (out, g) in enumerate(zip(outputs, grad_outputs)):
        seed = out._seed_gradient(g, "grad")
        keep = bool(retain_graph) or k < len(outputs) - 1  # the outputs may share nodes
        for key, v in run_backward(out, seed, keep, capture=capture).items():
            totals[key] = v if key not in totals else totals[key] + v
    result = []
    for t in inputs:
        if id(t) not in totals and not allow_unused:
            raise RuntimeError("One of the differentiated Tensors appears to not have been used in the graph. "
                               "Set allow_unused=True if this is the desired behavior.")
        result.append(type(t)._wrap(totals[id(t)].copy()) if id(t) in totals else None)
    return tuple(result)

