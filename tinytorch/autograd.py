"""Reverse-mode automatic differentiation: Function, Context, the backward engine, grad modes.

A `Function` subclass implements `forward(ctx, *args)` and `backward(ctx, *grads)` on raw arrays
(NumPy or CuPy). `Function.apply` unwraps tensors, runs `forward`, wraps the result and, when
a gradient is needed, records the `Context` as the result's `_ctx`: the node of the graph.

The engine (`run_backward`) walks the graph in reverse topological order, found by an
iterative depth-first search (no recursion limit), sums the gradients that reach a reused
node, reduces broadcast gradients back to the input's shape (`unbroadcast`), stores `.grad`
on leaves (and on tensors that asked for `retain_grad()`), and frees what nodes saved.
"""
import functools

_grad_enabled = True


def is_grad_enabled():
    return _grad_enabled


class set_grad_enabled:
    """Context manager and decorator that sets gradient recording on or off."""

    def __init__(self, mode=True):
        self.mode = bool(mode)
        self.prev = None

    def __enter__(self):
        global _grad_enabled
        self.prev, _grad_enabled = _grad_enabled, self.mode

    def __exit__(self, *exc):
        global _grad_enabled
        _grad_enabled = self.prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(self.mode):
                return fn(*args, **kwargs)
        return wrapper


class no_grad(set_grad_enabled):
    """`with no_grad():` or `@no_grad()`: ops inside record no graph."""

    def __init__(self, fn=None):
        super().__init__(False)
        self._fn = fn

    def __call__(self, fn):
        return set_grad_enabled(False)(fn)

    def __class_getitem__(cls, item):
        return cls


class enable_grad(set_grad_enabled):
    def __init__(self):
        super().__init__(True)

    def __call__(self, fn):
        return set_grad_enabled(True)(fn)


class inference_mode(no_grad):
    """Same as no_grad here (tinytorch has no separate inference tensors)."""

    def __init__(self, mode=True):
        set_grad_enabled.__init__(self, not mode)

    def __call__(self, fn):
        return set_grad_enabled(self.mode)(fn)


class Context:
    """What `forward` leaves for `backward`, and the node of the graph.

    `ctx.save_for_backward(*arrays)` / `ctx.saved_tensors`, or any attribute (`ctx.axis = 1`).
    `needs_input_grad[i]` says whether positional input i needs a gradient.
    """

    def __init__(self):
        self.needs_input_grad = ()

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays


class Node:
    """A recorded call: the Function, its Context, its inputs, and gradient slots per output."""

    __slots__ = ("fn", "ctx", "inputs", "grads", "retained", "freed", "name")

    def __init__(self, fn, ctx, inputs, n_outputs):
        self.fn = fn
        self.ctx = ctx
        self.inputs = inputs          # tuple: Tensor (requiring grad) or None, per forward arg
        self.grads = [None] * n_outputs
        self.retained = None          # non-leaf tensors that asked for retain_grad()
        self.freed = False
        self.name = fn.__name__


class Function:
    """Base class of every differentiable op. Subclasses define static forward and backward.

    `backward` returns one gradient per positional forward argument (None where there is no
    gradient), or a single array for one-argument functions. It must not modify `grad` in place.
    A forward returning a tuple makes a multi-output function; its backward then receives one
    gradient per output (None for outputs that received none).
    """

    differentiable = True

    @classmethod
    def apply(cls, *args, **kwargs):
        from .tensor import Tensor
        needs_grad = False
        raw = []
        flags = []
        for a in args:
            if isinstance(a, Tensor):
                raw.append(a._data)
                flags.append(a.requires_grad)
                needs_grad = needs_grad or a.requires_grad
            else:
                raw.append(a)
                flags.append(False)
        ctx = Context()
        needs_grad = needs_grad and _grad_enabled and cls.differentiable
        if needs_grad:
            ctx.needs_input_grad = tuple(flags)
        out = cls.forward(ctx, *raw, **kwargs)
        if not needs_grad:
            if type(out) is tuple:
                return tuple(Tensor._wrap(o) for o in out)
            return Tensor._wrap(out)
        inputs = tuple(a if f else None for a, f in zip(args, flags))
        if type(out) is tuple:
            node = Node(cls, ctx, inputs, len(out))
            return tuple(Tensor._wrap(o, node, i) for i, o in enumerate(out))
        return Tensor._wrap(out, Node(cls, ctx, inputs, 1), 0)

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError


def unbroadcast(grad, shape):
    """Sum `grad` over the axes that broadcasting added or stretched, to get back `shape`.

    If y = f(broadcast(x)), every copy of x contributes, so dL/dx sums dL/dy over the copies:
    over the leading axes that x lacked, and (keeping them) over axes where x had size 1.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra < 0:  # a gradient of lower rank than its input: a broadcast-free expand is needed
        return grad.reshape(shape) if grad.size == _prod(shape) else _xp(grad).broadcast_to(grad, shape)
    axes = tuple(range(extra)) + tuple(i + extra for i, s in enumerate(shape) if s == 1 and grad.shape[i + extra] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if extra:
        grad = grad.reshape(shape)
    return grad


def _prod(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def _xp(a):
    from .device import array_module
    return array_module(a)


def _topological_order(root):
    """Nodes reachable from `root`, each after every node that consumes its outputs."""
    order, visited, stack = [], set(), [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for inp in node.inputs:
            if inp is not None and inp._ctx is not None and id(inp._ctx) not in visited:
                stack.append((inp._ctx, False))
    order.reverse()
    return order


def run_backward(tensor, grad, retain_graph=False):
    """Backpropagate `grad` (an array shaped like `tensor`) through the graph behind `tensor`."""
    root = tensor._ctx
    if root is None:
        _accumulate_leaf(tensor, grad)
        return
    root.grads[tensor._out_index] = grad
    leaf_grads = {}
    for node in _topological_order(root):
        grads = node.grads
        node.grads = [None] * len(grads)
        if all(g is None for g in grads):
            continue
        if node.freed:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (node {node.name}): its saved "
                "arrays were freed after the first backward(). Pass retain_graph=True to the first "
                "backward() if you need to backward twice.")
        if node.retained:
            for t in node.retained:
                g = grads[t._out_index]
                if g is not None:
                    t.grad = _as_grad_tensor(g, t, t.grad)
        in_grads = node.fn.backward(node.ctx, *grads) if len(grads) > 1 else node.fn.backward(node.ctx, grads[0])
        if type(in_grads) is not tuple:
            in_grads = (in_grads,)
        for inp, g in zip(node.inputs, in_grads):
            if inp is None or g is None:
                continue
            if g.shape != inp._data.shape:
                g = unbroadcast(g, inp._data.shape)
            if g.dtype != inp._data.dtype:
                g = g.astype(inp._data.dtype)
            if inp._ctx is None:
                key = id(inp)
                prev = leaf_grads.get(key)
                leaf_grads[key] = (inp, g if prev is None else prev[1] + g)
            else:
                slot = inp._ctx.grads
                i = inp._out_index
                slot[i] = g if slot[i] is None else slot[i] + g
        if not retain_graph:
            _free(node)
    given = set()
    for inp, g in leaf_grads.values():
        if id(g) in given:  # the same array reached two leaves (e.g. both inputs of an add)
            g = g.copy()
        given.add(id(g))
        _accumulate_leaf(inp, g)


def _free(node):
    """Drop what forward saved; a second backward through a node that saved something raises."""
    if node.ctx.__dict__.keys() - {"needs_input_grad"}:
        node.freed = True
    node.ctx.__dict__.clear()


def _accumulate_leaf(t, g):
    if t.grad is None:
        t.grad = _as_grad_tensor(g, t, None)
    else:
        t.grad._data += g


def _as_grad_tensor(g, t, prev):
    from .tensor import Tensor
    if prev is not None:
        return Tensor._wrap(prev._data + g)
    if not g.flags.owndata or not g.flags.writeable or not g.flags.c_contiguous and not g.flags.f_contiguous:
        g = g.copy()
    return Tensor._wrap(g)
