"""`ShapeMixin`: Tensor's shape methods (view, reshape, permute, expand, split, ...),
indexing (`t[key]`, `t[key] = v`, gather, index_select), sorting (topk, sort), scatter and
index_add, and the strided views narrow, unfold and diagonal."""
import builtins
import numbers
import operator

import numpy as np

from . import dtypes as _dt
from .autograd import TensorBase, is_grad_enabled, mark_views
from .device import array_module
from .inplace import check_inplace, modify, records
from .ops import indexing as I
from .ops import movement as M
from .ops import sampling as S
from .ops import scatter as SC
from .ops import strided_views as V
from .ops.errors import shapes_error
from .tensor_helpers import (
    _index_key,
    _normalize_axis,
    _one_axis,
    _raw,
    _resolve_shape,
    _shape_args,
    _ValuesIndices,
    _viewable,
    numpy_argument_names,
)
from .versions import bump


class ShapeMixin:
    """Tensor's shape and indexing methods (tensor.py mixes this class into Tensor)."""

    __slots__ = ()

    # ---- shape ------------------------------------------------------------------------------
    def view(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], _dt.dtype):
            raise RuntimeError("view(dtype): reinterpreting bits is not supported by tinytorch yet")
        shape = _resolve_shape(_shape_args(shape, "view"), self._data.size, "view", self.shape)
        if not _viewable(self._data, shape):
            raise RuntimeError(f"view size is not compatible with input tensor's size and stride (shape {tuple(self.shape)}"
                               f" -> {shape}). Use .reshape(...) instead.")
        return M.Reshape.apply(self, shape)

    def reshape(self, *shape):
        return M.Reshape.apply(self, _resolve_shape(_shape_args(shape, "reshape"), self._data.size, "reshape", self.shape))

    def view_as(self, other):
        return self.view(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def transpose(self, dim0, dim1):
        d0, d1 = _normalize_axis((dim0, dim1), self.ndim, "transpose", unique=False)
        return M.Transpose.apply(self, d0, d1)

    swapaxes = swapdims = transpose

    def t(self):
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return self if self.ndim < 2 else M.Transpose.apply(self, 0, 1, op="T")

    def permute(self, *dims):
        dims = _shape_args(dims, "permute")
        axes = _normalize_axis(dims, self.ndim, "permute")
        if sorted(axes) != list(range(self.ndim)):
            raise RuntimeError(f"permute: dims {dims} are not a permutation of the {self.ndim} dimensions of shape {tuple(self.shape)}")
        return M.Permute.apply(self, axes)

    @numpy_argument_names
    def squeeze(self, dim=None):
        shape = self._data.shape
        if dim is None:
            new, op = tuple(s for s in shape if s != 1), "Squeeze"
        else:
            axes = _normalize_axis(dim, self.ndim, "squeeze")
            new = tuple(s for i, s in enumerate(shape) if not (i in axes and s == 1))
            op = "Squeeze1" if isinstance(dim, numbers.Integral) else "Squeeze2"
        return M.Reshape.apply(self, new, op=op)

    def unsqueeze(self, dim):
        nd = self.ndim + 1
        axis = _one_axis(dim, nd, "unsqueeze")
        shape = self._data.shape
        return M.Reshape.apply(self, shape[:axis] + (1,) + shape[axis:], op="Unsqueeze")

    def expand(self, *sizes):
        sizes = _shape_args(sizes, "expand")
        shape = self._data.shape
        if len(sizes) < len(shape):
            raise shapes_error("expand", shape, sizes, why="cannot be expanded: fewer target dimensions than the tensor has")
        lead = len(sizes) - len(shape)
        target = tuple(s if s != -1 else (shape[i - lead] if i >= lead else -1) for i, s in enumerate(sizes))
        for i, s in enumerate(shape):
            if s != 1 and s != target[i + lead]:
                raise shapes_error("expand", shape, sizes, why=f"cannot be expanded (size {s} at dim {i} is not 1)")
        return M.Expand.apply(self, target)

    def expand_as(self, other):
        return self.expand(other.shape)

    def broadcast_to(self, shape):
        return self.expand(shape)

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        s, e = _normalize_axis((start_dim, end_dim), self.ndim, "flatten", unique=False)
        if s > e:
            raise RuntimeError(f"flatten() has invalid args: start_dim ({start_dim}) cannot come after end_dim ({end_dim})")
        shape = self._data.shape
        n = 1
        for d in shape[s:e + 1]:
            n *= d
        return M.Reshape.apply(self, shape[:s] + (n,) + shape[e + 1:])

    def unflatten(self, dim, sizes):
        axis = _one_axis(dim, self.ndim, "unflatten")
        shape = self._data.shape
        sizes = _resolve_shape(tuple(sizes), shape[axis], "unflatten", (shape[axis],))
        return M.Reshape.apply(self, shape[:axis] + sizes + shape[axis + 1:])

    def split(self, split_size_or_sections, dim=0):
        axis = _one_axis(dim, self.ndim, "split")
        n = self._data.shape[axis]
        if isinstance(split_size_or_sections, numbers.Integral):
            step = builtins.int(split_size_or_sections)
            if step <= 0:
                raise RuntimeError(f"split: split_size must be positive, got {step}")
            sizes = [min(step, n - i) for i in range(0, n, step)] or [0]
        else:
            sizes = [builtins.int(s) for s in split_size_or_sections]
            if sum(sizes) != n:
                raise RuntimeError(f"split: split_with_sizes expects split_sizes to sum exactly to {n} "
                                   f"(input tensor's size at dimension {dim}), but got split_sizes={sizes}")
        return M.Split.apply(self, tuple(sizes), axis, op="Split" if isinstance(split_size_or_sections, numbers.Integral)
                             else "SplitWithSizes")

    def chunk(self, chunks, dim=0):
        axis = _one_axis(dim, self.ndim, "chunk")
        if chunks <= 0:
            raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
        n = self._data.shape[axis]
        step = -(-n // chunks) if n else 1
        return self.split(step, axis)

    def unbind(self, dim=0):
        axis = _one_axis(dim, self.ndim, "unbind")
        return M.Split.apply(self, (1,) * self._data.shape[axis], axis, True, op="Unbind")

    def roll(self, shifts, dims=None):
        if dims is None:
            return self.flatten().roll(shifts, 0).view(self.shape)
        shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else shifts
        dims = _normalize_axis(dims, self.ndim, "roll", unique=False)
        if len(shifts if isinstance(shifts, tuple) else (shifts,)) != len(dims):
            raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {shifts}, dims: {dims}")
        return M.Roll.apply(self, shifts, dims if isinstance(shifts, tuple) else dims[0])

    def flip(self, *dims, **kwargs):
        dims = _shape_args(dims or (kwargs.pop("dims"),), "flip")
        return M.Flip.apply(self, _normalize_axis(dims, self.ndim, "flip"))

    def tril(self, diagonal=0):
        return M.Tri.apply(self._matrices("tril"), diagonal, True)

    def triu(self, diagonal=0):
        return M.Tri.apply(self._matrices("triu"), diagonal, False)

    def _matrices(self, op):
        if self.ndim < 2:
            raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions (got shape {tuple(self.shape)})")
        return self

    def repeat(self, *sizes):
        sizes = _shape_args(sizes, "repeat")
        if len(sizes) < self.ndim:
            raise RuntimeError(f"repeat: number of repeat dims ({len(sizes)}) can not be smaller than the tensor's ({self.ndim})")
        return M.Repeat.apply(self, sizes)

    # ---- indexing ---------------------------------------------------------------------------
    def __getitem__(self, key):
        key = _index_key(key, self)
        try:
            if self.requires_grad and is_grad_enabled():
                return I.GetItem.apply(self, key)
            out = self._wrap(I.indexed(self._data, key))  # nothing to record: no graph node
            mark_views((out,), self)
            return out
        except IndexError as e:
            raise IndexError(f"index {key!r} is out of bounds for tensor of shape {tuple(self.shape)}: {e}") from None

    def __setitem__(self, key, value):
        """t[key] = value, in place by inplace.py's rules: as torch does it, a copy_ into the view
        t[key] for a basic key (ints, slices), else index_put_."""
        key = _index_key(key, self)
        if I.is_basic(key) and records(self, value):
            check_inplace(self, "__setitem__", through_view=True)
            I.GetItem.apply(self, key)._replace("__setitem__", value)
        else:
            self._index_put("__setitem__", key, value, False)

    def index_put_(self, indices, values, accumulate=False):
        """self[indices] = values (or += with `accumulate`, repeated indices adding up)."""
        return self._index_put("index_put_", _index_key(tuple(indices), self), values, accumulate)

    def index_put(self, indices, values, accumulate=False):
        return self.clone().index_put_(indices, values, accumulate)

    def _index_put(self, op, key, value, accumulate):
        check_inplace(self, op, through_view=op == "__setitem__" and I.is_basic(key))
        if records(self, value):
            values = value if isinstance(value, TensorBase) else self._wrap(array_module(self._data).asarray(value))
            return modify(self, op, lambda old: I.IndexPut.apply(old, key, values, accumulate), keep_old=False)
        raw = _raw(value, self, op)
        if accumulate:
            xp = array_module(self._data)
            I.scatter_add(xp, self._data, key, xp.broadcast_to(raw.astype(self._data.dtype), self._data[key].shape))
        else:
            try:
                self._data[key] = raw
            except ValueError:
                raise shapes_error(op, raw.shape, self._data[key].shape, why="cannot be broadcast together") from None
        bump(self._data)
        return self

    def gather(self, dim, index):
        axis = _one_axis(dim, self.ndim, "gather")
        idx = _raw(index, self, "gather")
        if idx.dtype != np.int64:
            raise RuntimeError(f"gather(): Expected dtype int64 for index, got {_dt.from_numpy(idx.dtype)}")
        if idx.ndim != self.ndim or any(i > s for d, (i, s) in enumerate(zip(idx.shape, self._data.shape)) if d != axis):
            raise shapes_error("gather", self.shape, idx.shape, why=f"(input, index) do not fit: index must have the "
                               f"input's number of dims and be no larger in every dim except {dim}")
        return I.Gather.apply(self, axis, idx)

    def index_select(self, dim, index):
        return I.IndexSelect.apply(self, _one_axis(dim, self.ndim, "index_select"),
                                    _raw(index, self, "index_select"))

    def topk(self, k, dim=-1, largest=True, sorted=True):
        """The k largest (or smallest) entries along dim, as (values, indices), largest first."""
        return self._sorted_pick(k, dim, largest, "topk")

    def sort(self, dim=-1, descending=False, *, stable=False):
        """(values, indices) along dim; always stable (ties in index order), so `stable` changes nothing."""
        n = self.shape[dim] if self.ndim else 1
        return self._sorted_pick(n, dim, descending, "sort")

    def _sorted_pick(self, k, dim, descending, op):
        a = self._data
        if a.ndim == 0:
            return _ValuesIndices(self, self._wrap(array_module(a).zeros((), dtype=np.int64)), op)
        axis = _one_axis(dim, a.ndim, op)
        n = a.shape[axis]
        if not 0 <= k <= n:
            raise RuntimeError(f"{op}: k ({k}) must be between 0 and the size of dimension {dim} ({n})")
        index = S.sorted_indices(a, k, axis, descending)
        return _ValuesIndices(S.TakeAlong.apply(self, index, axis, op=op.capitalize()), self._wrap(index), op)

    def argsort(self, dim=-1, descending=False, stable=False):
        return self.sort(dim, descending).indices

    # ---- scatter and index_add (ops/scatter.py) ------------------------------------------------
    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        """A copy with src's elements (or one `value`) written at index along dim; `reduce`
        ('add' or 'multiply', torch's legacy form, not differentiable) combines them in instead."""
        if isinstance(src, (builtins.int, builtins.float, builtins.bool)) and value is None:
            src, value = None, src
        if (src is None) == (value is None):
            raise TypeError("scatter(): expected exactly one of 'src' (a Tensor) and 'value' (a number)")
        if reduce not in (None, "add", "multiply"):
            raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce!r}")
        axis, idx = self._scatter_index("scatter", dim, index, src)
        return SC.Scatter.apply(self, axis, idx, value if src is None else src, reduce)

    def scatter_add(self, dim, index, src):
        """A copy with src's elements added at index along dim (repeated indices add up)."""
        axis, idx = self._scatter_index("scatter_add", dim, index, src)
        return SC.ScatterAdd.apply(self, axis, idx, src)

    def scatter_reduce(self, dim, index, src, reduce, *, include_self=True):
        """A copy with src's elements reduced into it at index along dim: 'sum', 'prod', 'mean',
        'amax' or 'amin', this tensor's own values taking part unless include_self is False."""
        reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)  # torch's undocumented spellings
        if reduce not in SC.REDUCTIONS:
            raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
        axis, idx = self._scatter_index("scatter_reduce", dim, index, src)
        return SC.ScatterReduce.apply(self, axis, idx, src, reduce, builtins.bool(include_self))

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        return self._apply_in_place("scatter_", lambda old: old.scatter(dim, index, src, value=value, reduce=reduce),
                                    src)

    def scatter_add_(self, dim, index, src):
        return self._apply_in_place("scatter_add_", lambda old: old.scatter_add(dim, index, src), src)

    def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
        return self._apply_in_place(
            "scatter_reduce_", lambda old: old.scatter_reduce(dim, index, src, reduce, include_self=include_self), src)

    def _scatter_index(self, op, dim, index, src):
        """(axis, index array) after torch's checks: an int64 index with this tensor's number of
        dims, no larger than src anywhere nor than this tensor apart from dim, its entries in range."""
        axis = _one_axis(dim, self.ndim, op)
        idx = _raw(index, self, op)
        if idx.dtype not in (np.int64, np.int32):
            raise RuntimeError(f"{op}(): Expected dtype int64 for index, got {_dt.from_numpy(idx.dtype)}")
        if isinstance(src, TensorBase):
            if src._data.dtype != self._data.dtype:
                raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype (got {self.dtype} and "
                                   f"{src.dtype})")
            _raw(src, self, op)
        src_shape = src.shape if isinstance(src, TensorBase) else idx.shape
        if idx.ndim != self.ndim or len(src_shape) != self.ndim or any(
                i > n or (i > m and d != axis) for d, (i, n, m) in enumerate(zip(idx.shape, src_shape, self.shape))):
            raise shapes_error(op, self.shape, idx.shape, src_shape,
                               why=f"do not fit (self, index, src): index must have self's number of dims and be no "
                                   f"larger than src, nor than self apart from dim {dim}")
        outside = (idx < 0) | (idx >= self.shape[axis])
        if outside.any():
            bad = builtins.int(idx.reshape(-1)[outside.reshape(-1).argmax()])
            raise RuntimeError(f"{op}(): index {bad} is out of bounds for dimension {axis} with size "
                               f"{self.shape[axis]}")
        return axis, idx

    def index_add(self, dim, index, source, *, alpha=1):
        """A copy with alpha * source added to the slices that index picks along dim."""
        axis = _one_axis(dim, self.ndim, "index_add")
        idx = _raw(index, self, "index_add")
        if idx.dtype not in (np.int64, np.int32) or idx.ndim > 1:
            raise RuntimeError(f"index_add(): Expected a 1-D index of dtype int32 or int64, got {idx.ndim}-D "
                               f"{_dt.from_numpy(idx.dtype)}")
        idx = idx.reshape(-1)
        expected = tuple(self.shape[:axis]) + (idx.size,) + tuple(self.shape[axis + 1:])
        if tuple(source.shape) != expected:
            raise shapes_error("index_add", self.shape, idx.shape, source.shape,
                               why=f"do not fit (self, index, source): source must have shape {expected}")
        if source._data.dtype != self._data.dtype:
            raise RuntimeError(f"index_add(): self ({self.dtype}) and source ({source.dtype}) must have the same dtype")
        outside = (idx < 0) | (idx >= self.shape[axis])
        if outside.any():
            bad = builtins.int(idx[outside.argmax()])
            raise RuntimeError(f"index_add(): index {bad} is out of bounds for dimension {axis} with size "
                               f"{self.shape[axis]}")
        return SC.IndexAdd.apply(self, axis, idx, source, alpha)

    def index_add_(self, dim, index, source, *, alpha=1):
        return self._apply_in_place("index_add_", lambda old: old.index_add(dim, index, source, alpha=alpha), source)

    # ---- narrow, windows and diagonals (views; ops/strided_views.py) --------------------------
    def narrow(self, dim, start, length):
        """The view of `length` elements along dim from `start` (negative counts from the end)."""
        axis = _one_axis(dim, self.ndim, "narrow")
        n = self._data.shape[axis]
        start = operator.index(start)
        if not -n <= start <= n:
            raise IndexError(f"narrow(): start out of range (expected to be in range of [{-n}, {n}], but got {start})")
        if start < 0:
            start += n
        if length < 0 or start + length > n:
            raise RuntimeError(f"narrow(): start ({start}) + length ({length}) exceeds dimension size ({n}).")
        return self[(slice(None),) * axis + (slice(start, start + length),)]

    def unfold(self, dimension, size, step):
        """The view of every window of `size` elements along dimension, `step` apart: that dim
        counts the windows, and a new last dim holds each window's elements."""
        axis = _one_axis(dimension, self.ndim, "unfold")
        n = self._data.shape[axis]
        if not 0 <= size <= n:
            raise RuntimeError(f"maximum size for tensor at dimension {axis} is {n} but size is {size}")
        if step <= 0:
            raise RuntimeError(f"step is {step} but must be > 0")
        return V.Unfold.apply(self, axis, builtins.int(size), builtins.int(step))

    def diagonal(self, offset=0, dim1=0, dim2=1):
        """The view of the diagonal at `offset` of the (dim1, dim2) planes, as a new last dim."""
        d1, d2 = _normalize_axis((dim1, dim2), self.ndim, "diagonal", unique=False)
        if d1 == d2:
            raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
        return V.Diagonal.apply(self, builtins.int(offset), d1, d2)
