"""Reverse-mode automatic differentiation: Function, Context (the graph node), the backward engine,
the grad modes (no_grad, enable_grad, set_grad_enabled), and tensor hooks.

A `Function` subclass implements `forward(ctx, *args)` and `backward(ctx, *grads)` on raw arrays
(NumPy or CuPy). `Function.apply` unwraps tensors, runs `forward`, wraps the result and, when a
gradient is needed, keeps the `Context` as the result's `_ctx`: the node of the graph. The node
records its edges, where each input's gradient goes (the node that produced the input, as it was
then, or the leaf itself), and the versions of the arrays forward kept for backward
(versions.py): an in-place op may later give a tensor a new node, or change a kept array.

`TensorBase` is what the engine needs of a tensor: its array, its node, its gradient, its hooks,
and for a view the tensor whose memory it shows (`_base`). The Tensor class (tensor.py) derives
from it and adds the API; `Function.apply` wraps its results through the type of its tensor
inputs, so this layer never imports the Tensor layer.

The engine (`run_backward`) walks the graph in reverse topological order (nodes found by an
iterative search, so there is no recursion limit, then ordered by creation), refuses a node whose
kept arrays were modified in place since forward (torch's error), sums the gradients that reach a
reused node, runs tensor hooks, reduces broadcast gradients back to each input's shape
(`unbroadcast`), stores `.grad` on leaves (and on tensors that asked for `retain_grad()`), runs
post-accumulate-grad hooks, and frees the arrays that nodes saved for backward.
"""
import builtins
import functools
import itertools
import operator
import weakref
from types import GeneratorType

import numpy as np

from . import device as _device
from .hooks import RemovableHandle
from .ops.torch_names import legacy_type_name, node_name
from .versions import storage, version

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
    (None for a leaf), `_out_index` which of that node's outputs it is, `grad` its accumulated
    gradient. A view also has `_base`, the tensor whose memory it shows, and weak references to its
    own views are kept on every tensor that has some (`_views`), so that an in-place op can give
    them new nodes (inplace.py). A leaf keeps its hooks here (`_grad_hooks`, `_post_accumulate_hooks`); a
    non-leaf's hooks live on its node."""

    __slots__ = ("__dict__", "__weakref__", "_ctx", "_data", "_out_index", "grad", "requires_grad")
    _base = None
    _views = None
    _grad_hooks = None
    _post_accumulate_hooks = None

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
        if node is not None and data.dtype.kind in "fcV":  # "V": bfloat16 (dtypes.FLOAT_KINDS)
            t._ctx = node
            t.requires_grad = True
        else:
            t._ctx = None
            t.requires_grad = False
        return t

    @property
    def _version(self):
        """How many in-place ops have modified this tensor's memory (shared by its views)."""
        return version(self._data)

    def register_hook(self, hook):
        """hook(grad) -> None or a new gradient, called with this tensor's gradient each time one is
        computed; for a leaf, with the whole gradient of a backward, before it reaches `.grad`."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._ctx is None:
            if self._grad_hooks is None:
                self._grad_hooks = {}
            return RemovableHandle(self._grad_hooks, (hook, type(self)._wrap))
        node = self._ctx
        if node.hooks is None:
            node.hooks = {}
        return RemovableHandle(node.hooks.setdefault(self._out_index, {}), (hook, type(self)._wrap))

    def register_post_accumulate_grad_hook(self, hook):
        """hook(tensor), called after a backward has accumulated this leaf's gradient into `.grad`."""
        if self._ctx is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = {}
        return RemovableHandle(self._post_accumulate_hooks, hook)


class Context:
    """What `forward` leaves for `backward`, and the node of the graph.

    In forward: `ctx.save_for_backward(*arrays)` (read back as `ctx.saved_tensors`) or any
    attribute (`ctx.axis = 1`); `ctx.needs_input_grad[i]` says whether positional input i needs
    a gradient (all False when nothing is recorded). The engine also keeps here the Function,
    the forward's arguments (`inputs`), each input's edge (None, a leaf, or the (node, output
    index) that produced it), the versions of the arrays forward kept, one gradient slot per
    output, and the hooks of the tensors this node produced ({output index: {id: hook}}).
    """

    __slots__ = (
        "__dict__",
        "edges",
        "fn",
        "freed",
        "grads",
        "hooks",
        "inputs",
        "needs_input_grad",
        "retained",
        "seq",
        "versions",
    )

    def save_for_backward(self, *arrays):
        self.saved_tensors = arrays

    def name(self):
        """torch's name for this node (`MulBackward0`), as `grad_fn.name()` gives it."""
        return node_name(self)

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

    A Function whose outputs may be views of its first tensor input's memory sets `view = True`:
    those outputs then know their base tensor (torch's `._base`), which in-place ops need.
    """

    differentiable = True
    view = False

    @classmethod
    def apply(cls, *args, **kwargs):
        wrap = first = None
        record = False
        for a in args:
            if isinstance(a, TensorBase):
                if wrap is None:
                    wrap, first = type(a)._wrap, a
                if a.requires_grad:
                    record = True
        if wrap is None:
            raise TypeError(f"{cls.__name__}.apply: expected at least one tensor argument")
        raw = [a._data if isinstance(a, TensorBase) else a for a in args]
        ctx = Context()
        if not (record and _grad_enabled and cls.differentiable):
            ctx.needs_input_grad = (False,) * len(args)
            out = cls.forward(ctx, *raw, **kwargs)
            result = tuple([wrap(o) for o in out]) if type(out) is tuple else wrap(out)
        else:
            needs = tuple([isinstance(a, TensorBase) and a.requires_grad for a in args])
            ctx.needs_input_grad = needs
            out = cls.forward(ctx, *raw, **kwargs)
            ctx.fn, ctx.inputs, ctx.retained, ctx.freed, ctx.hooks, ctx.seq = cls, args, None, False, None, next(_created)
            ctx.edges = tuple([(_edge(a) if need else None) for a, need in zip(args, needs)])
            ctx.versions = _kept_versions(ctx.__dict__)
            if type(out) is tuple:
                ctx.grads = [None] * len(out)
                result = tuple([wrap(o, ctx, i) for i, o in enumerate(out)])
            else:
                ctx.grads = [None]
                result = wrap(out, ctx, 0)
        if cls.view:
            mark_views(result if type(result) is tuple else (result,), first)
        return result

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("a Function subclass must define backward(ctx, *grads)")


def _edge(t):
    """Where the gradient of input t goes: the leaf itself, or the node and output that produced t
    (taken now: an in-place op may give t a new node later)."""
    return t if t._ctx is None else (t._ctx, t._out_index)


def _kept_versions(kept):
    """[(array, its version)] for the arrays forward kept on the node (attributes, and tuples of
    them other than shapes)."""
    types = _device.ARRAY_TYPES
    found = []
    for v in kept.values():
        kind = type(v)
        if kind in types:
            found.append((v, version(v)))
        elif kind is tuple and v and type(v[0]) is not int:
            found.extend([(x, version(x)) for x in v if type(x) in types])
    return found


def mark_views(outputs, source):
    """Record, on each output that shares memory with `source` (the first tensor argument), its
    base tensor (source's base if source is a view itself), and on the base a weak reference to it."""
    source_data = source._data
    root = storage(source_data)
    views = [out for out in outputs if _shares_memory(out._data, source_data, root)]
    if not views:
        return
    base = source if source._base is None else source._base
    for out in views:
        out._base = base
    refs = base._views
    if refs is None:
        refs = base._views = []
    elif len(refs) >= 16 and (len(refs) + len(views)).bit_length() > len(refs).bit_length():
        refs[:] = [r for r in refs if r() is not None]  # at each power of two: drop the dead ones
    refs.extend([weakref.ref(out) for out in views])


def _shares_memory(data, source_data, root):
    """Whether array `data` is a view into the memory whose owner is `root` (source_data's)."""
    parent = data.base
    return parent is not None and (parent is source_data or parent is root or storage(data) is root)


def check_saved_versions(node):
    """Raise torch's error if an array that node's forward kept was modified in place since."""
    for array, saved in node.versions:
        now = version(array)
        if now != saved:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an inplace operation: "
                f"[{legacy_type_name(array)} {list(array.shape)}]{_producer(node, array)} is at version {now}; "
                f"expected version {saved} instead. Hint: the backward of {node.name()} needs the value it had "
                "in forward; clone() it before modifying it in place, or modify it out of place.")


def _producer(node, array):
    """', which is output k of Op' naming the node that produced the modified array, as torch says it
    ('' for a leaf): an input of `node` with that memory, else `node`'s own output."""
    root = storage(array)
    for t in node.inputs:
        if isinstance(t, TensorBase) and storage(t._data) is root:
            return "" if t._ctx is None else f", which is output {t._out_index} of {_op_name(t._ctx)},"
    return f", which is output 0 of {_op_name(node)},"


def _op_name(node):
    name = node.name()
    return name.removesuffix("Backward0")


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
    """The nodes reachable from `root`, each before the nodes that produce its inputs, and for each
    leaf with hooks the number of edges that bring it gradients ({id(leaf): count}).

    A node is created after the nodes that produced its inputs, so every node's creation number
    (`seq`, as torch's sequence_nr) exceeds its producers': descending `seq` is a topological
    order. Finding the nodes is a plain iterative search; the sort does the ordering."""
    nodes, stack, hooked = {root}, [root], {}
    while stack:
        node = stack.pop()
        for edge in node.edges:
            if type(edge) is tuple:
                child = edge[0]
                if child not in nodes:
                    nodes.add(child)
                    stack.append(child)
            elif edge is not None and _has_leaf_hooks(edge):
                hooked[id(edge)] = hooked.get(id(edge), 0) + 1
    return sorted(nodes, key=_creation_order, reverse=True), hooked


_creation_order = operator.attrgetter("seq")


def _has_leaf_hooks(t):
    return t._grad_hooks is not None or t._post_accumulate_hooks is not None


def run_backward(tensor, grad, retain_graph=False, inputs=None, capture=None):
    """Backpropagate `grad` (an array shaped like `tensor`) through the graph behind `tensor`.

    Leaves (or only those in `inputs`) accumulate into `.grad`. With `capture` (a dict from
    id(tensor) to tensor), nothing is stored in `.grad`: the gradient of each captured tensor
    is returned instead, as {id: array} (this is `autograd.grad`).
    """
    root = tensor._ctx
    found = {}
    wanted = None if inputs is None else {id(t) for t in inputs}
    taken = {_base_id(grad)}
    if root is None:
        found[id(tensor)] = (tensor, grad)
    else:
        root.grads[tensor._out_index] = grad
        with np.errstate(all="ignore"):  # gradients such as 1/x at 0 are inf or nan, silently as in torch
            _walk(root, retain_graph, found, capture, wanted, taken)
    if capture is not None:
        return {k: g for k, (t, g) in found.items() if k in capture}
    for key, (t, g) in found.items():
        if wanted is None or key in wanted:
            _finish_leaf(t, g, taken)


def _walk(root, retain_graph, found, capture, wanted, taken):
    """Run every node's backward in order and route each input's gradient. A leaf gradient is
    added into an existing `.grad` at once (freeing it early); a leaf without one is collected in
    `found` and stored at the end, when no pending node can still read the array. A leaf with
    hooks collects its gradient until its last edge has delivered, then is finished at once (its
    hooks see the whole gradient, and post-accumulate hooks run as early as possible)."""
    accumulate_now = capture is None
    order, hooked = _topological_order(root)
    if not accumulate_now:
        hooked = {}
    for node in order:
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
        if node.hooks:
            _run_node_hooks(node, grads)
        if node.retained is not None or capture:
            _collect_non_leaves(node, grads, found, capture)
        if node.freed:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (through {node.name()}, whose saved "
                "arrays were freed by the first backward()). Specify retain_graph=True on the first backward() "
                "if you need to backward through the graph a second time.")
        if node.versions:
            check_saved_versions(node)
        in_grads = node.fn.backward(node, grads[0]) if n == 1 else node.fn.backward(node, *grads)
        if type(in_grads) is not tuple and type(in_grads) is not GeneratorType:
            in_grads = (in_grads,)
        for inp, edge, g in zip(node.inputs, node.edges, in_grads):
            if edge is not None and g is not None:  # route g to inp: its shape and dtype, then its destination
                data = inp._data
                if g.shape != data.shape:
                    g = unbroadcast(g, data.shape)
                if g.dtype is not data.dtype and g.dtype != data.dtype:
                    g = g.astype(data.dtype)
                if type(edge) is tuple:  # the node that produced inp sums what reaches it
                    slot, i = edge[0].grads, edge[1]
                    slot[i] = g if slot[i] is None else slot[i] + g
                elif id(edge) in hooked:
                    _deliver_to_hooked_leaf(edge, g, found, hooked, wanted, taken)
                elif accumulate_now and edge.grad is not None and (wanted is None or id(edge) in wanted):
                    edge.grad._data += g
                else:
                    prev = found.get(id(edge))
                    found[id(edge)] = (edge, g if prev is None else prev[1] + g)
            del g  # a generator's next gradient is computed only after this one is gone
        if not retain_graph and node.__dict__:
            _free(node)


def _deliver_to_hooked_leaf(leaf, g, found, hooked, wanted, taken):
    """Add g to what `leaf` has received; after its last edge, finish it (hooks, .grad, post hooks)."""
    key = id(leaf)
    prev = found.pop(key, None)
    total = g if prev is None else prev[1] + g
    hooked[key] -= 1
    if hooked[key]:
        found[key] = (leaf, total)
    elif wanted is None or key in wanted:
        _finish_leaf(leaf, total, taken, own=leaf._post_accumulate_hooks is not None)


def _run_node_hooks(node, grads):
    """Replace each output's gradient by what its tensor's hooks return (None keeps it)."""
    for i, hooks in node.hooks.items():
        if grads[i] is not None:
            grads[i] = _run_grad_hooks(hooks, grads[i])


def _run_grad_hooks(hooks, g):
    for hook, wrap in list(hooks.values()):
        replaced = hook(wrap(g))
        if replaced is not None:
            g = replaced._data
    return g


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
    node.versions = None


def _has_array(values, types):
    for v in values:
        if isinstance(v, types):
            return True
    return False


def _base_id(g):
    return id(g if g.base is None else g.base)


def _finish_leaf(t, g, taken, own=False):
    """A leaf's whole gradient of this backward: through its hooks, into `.grad`, then its
    post-accumulate hooks."""
    if t._grad_hooks:
        g = _run_grad_hooks(t._grad_hooks, g)
    _accumulate(t, g, taken, own)
    if t._post_accumulate_hooks:
        for hook in list(t._post_accumulate_hooks.values()):
            hook(t)


def _accumulate(t, g, taken, own=False):
    """t.grad += g, or t.grad = g when t has none; a stored gradient owns its memory exclusively
    (never the caller's array, another leaf's, or a read-only broadcast view), so in-place updates
    of one .grad (grad clipping, zero_()) never reach another. With `own`, g is always copied: it
    is stored while other gradients of the same backward may still be views of it."""
    if t.grad is not None:
        t.grad._data += g
        return
    base = _base_id(g)
    if own or base in taken or 0 in g.strides and g.size > 1 or not getattr(g.flags, "writeable", True):
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

