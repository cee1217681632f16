"""The op table: one entry per tensor op, shared by the gradient checks and the torch parity
tests (minitorch's MathTest pairs, tinygrad's helper_test_op).

An `Op` has a `fn(m, *tensors, **params)` written once for m = torch and m = tinytorch, and a
`draw(data)` that uses hypothesis to pick input arrays and params. Floating arrays become
leaves that require grad; integer and bool arrays (indices, masks) become plain tensors.
"""
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from strategies import (arrays, broadcast_shapes, dim_of, dims, index_arrays, lay_out, non_contiguous, shapes,
                        shrunk_to_broadcast, unary)


@dataclass(frozen=True)
class Op:
    name: str
    fn: Callable
    draw: Callable
    differentiable: bool = True
    torch_fn: Optional[Callable] = None  # torch's spelling, where it differs from fn's


# ---- input builders: each returns draw(data) -> (arrays, params) ------------------------------
def nary(*domains, min_dims=0):
    """Arrays whose shapes broadcast together, the first one non-contiguous."""
    def draw(data):
        shps = data.draw(broadcast_shapes(len(domains), min_dims=min_dims))
        first = data.draw(non_contiguous(shps[0], domains[0]))
        return [first] + [data.draw(arrays(s, d)) for s, d in zip(shps[1:], domains[1:])], {}
    return draw


def dims_of(shape):
    return dims(len(shape), allow_none=False)


def reduce_dims(shape):
    return dims(len(shape))


def new_dim_of(shape):  # a position for a new axis (unsqueeze, stack)
    return st.integers(-len(shape) - 1, len(shape))


def matmul_inputs(data):
    """Every torch.matmul case: vector-vector, matrix-vector, vector-matrix, matrix-matrix and
    batched products whose batch dims broadcast."""
    n, k, p = (data.draw(st.integers(1, 4)) for _ in range(3))
    batch_a, batch_b = data.draw(broadcast_shapes(2, max_dims=2))
    a_shape = (k,) if data.draw(st.booleans()) else batch_a + (n, k)
    b_shape = (k,) if data.draw(st.booleans()) else batch_b + (k, p)
    return [data.draw(non_contiguous(a_shape)), data.draw(arrays(b_shape))], {}


def cat_inputs(data):
    """Three arrays equal in shape except along `dim`."""
    shape = data.draw(shapes(min_dims=1))
    dim = data.draw(dim_of(shape))
    out = []
    for i in range(3):
        s = list(shape)
        s[dim] = data.draw(st.integers(1, 3))
        out.append(data.draw(non_contiguous(tuple(s)) if i == 0 else arrays(tuple(s))))
    return out, {"dim": dim}


def stack_inputs(data):
    shape = data.draw(shapes())
    return ([data.draw(non_contiguous(shape))] + [data.draw(arrays(shape)) for _ in range(2)],
            {"dim": data.draw(new_dim_of(shape))})


def expand_inputs(data):
    """A shape with sides of 1, and a target that stretches them and adds leading dims (-1 keeps)."""
    shape = data.draw(shapes(max_side=2))
    target = tuple(data.draw(st.sampled_from((-1, 3))) if s == 1 else data.draw(st.sampled_from((-1, s)))
                   for s in shape)
    lead = tuple(data.draw(st.lists(st.integers(1, 3), max_size=2)))
    return [data.draw(non_contiguous(shape))], {"sizes": lead + target}


def masked_inputs(data):
    shape = data.draw(shapes())
    mask_shape = data.draw(shrunk_to_broadcast(shape))
    return [data.draw(non_contiguous(shape)), data.draw(arrays(mask_shape, "bool"))], {}


def roll_inputs(data):
    shape = data.draw(shapes(min_dims=1))
    axes = data.draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1, max_size=len(shape),
                              unique_by=lambda d: d % len(shape)))
    shifts = data.draw(st.lists(st.integers(-5, 5), min_size=len(axes), max_size=len(axes)))
    if len(axes) == 1 and data.draw(st.booleans()):
        return [data.draw(non_contiguous(shape))], {"shifts": shifts[0], "dims": axes[0]}
    return [data.draw(non_contiguous(shape))], {"shifts": tuple(shifts), "dims": tuple(axes)}


def flatten_inputs(data):
    shape = data.draw(shapes(min_dims=1))
    a, b = sorted(data.draw(st.lists(st.integers(0, len(shape) - 1), min_size=2, max_size=2)))
    nd = len(shape)
    start = data.draw(st.sampled_from((a, a - nd)))
    end = data.draw(st.sampled_from((b, b - nd)))
    return [data.draw(non_contiguous(shape))], {"start_dim": start, "end_dim": end}


def split_inputs(data):
    shape = data.draw(shapes(min_dims=1))
    dim = data.draw(dim_of(shape))
    return [data.draw(non_contiguous(shape))], {"size": data.draw(st.integers(1, 4)), "dim": dim}


def sections_inputs(data):
    shape = data.draw(shapes(min_dims=1))
    dim = data.draw(dim_of(shape))
    n, sections = shape[dim], []
    while n:
        sections.append(data.draw(st.integers(1, n)))
        n -= sections[-1]
    return [data.draw(non_contiguous(shape))], {"sections": sections, "dim": dim}


def basic_index_inputs(data):
    """ints, slices (positive steps: torch has no negative ones), None and Ellipsis."""
    shape = data.draw(shapes(min_dims=1))
    key = data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True).filter(
        lambda k: all(not isinstance(p, slice) or (p.step or 1) > 0 for p in (k if isinstance(k, tuple) else (k,)))))
    return [data.draw(non_contiguous(shape))], {"key": key}


def negative_step_inputs(data):
    shape = data.draw(shapes(min_dims=1))
    n = shape[0]
    bound = st.one_of(st.none(), st.integers(-n - 1, n))
    return [data.draw(non_contiguous(shape))], {
        "start": data.draw(bound), "stop": data.draw(bound), "step": data.draw(st.integers(-3, -1))}


def int_array_inputs(data):
    """x[idx] with an int64 array: negative and repeated indices, any index shape."""
    shape = data.draw(shapes(min_dims=1))
    idx = data.draw(index_arrays(shape[0], data.draw(shapes(max_dims=2))))
    return [data.draw(non_contiguous(shape)), idx], {}


def two_int_arrays_inputs(data):
    """x[i, j] with two index arrays that broadcast against each other."""
    shape = data.draw(shapes(min_dims=2))
    si, sj = data.draw(broadcast_shapes(2, max_dims=2))
    return [data.draw(non_contiguous(shape)), data.draw(index_arrays(shape[0], si)),
            data.draw(index_arrays(shape[1], sj))], {}


def mask_index_inputs(data):
    """x[mask] with a bool mask over the leading len(mask.shape) dims."""
    shape = data.draw(shapes(min_dims=1))
    k = data.draw(st.integers(1, len(shape)))
    return [data.draw(non_contiguous(shape)), data.draw(arrays(shape[:k], "bool"))], {}


def two_d_inputs(data):
    shape = data.draw(shapes(min_dims=2, max_dims=2))
    return [data.draw(non_contiguous(shape))], {}


def inner_int_array_inputs(data):
    """x[:, idx]: an index array on an inner axis."""
    shape = data.draw(shapes(min_dims=2))
    return [data.draw(non_contiguous(shape)), data.draw(index_arrays(shape[1], data.draw(shapes(max_dims=2))))], {}


def topk_inputs(data):
    shape = data.draw(shapes(min_dims=1))
    dim = data.draw(dim_of(shape))
    return [data.draw(non_contiguous(shape, "distinct"))], {
        "k": data.draw(st.integers(0, shape[dim])), "dim": dim, "largest": data.draw(st.booleans())}


def one_hot_inputs(data):
    classes = data.draw(st.integers(1, 5))
    idx = data.draw(hnp.arrays("int64", data.draw(shapes(max_dims=2)), elements=st.integers(0, classes - 1)))
    return [idx], {"num_classes": data.draw(st.sampled_from((classes, classes + 2)))}


def gather_inputs(data):
    shape = data.draw(shapes(min_dims=1))
    dim = data.draw(dim_of(shape))
    idx_shape = tuple(data.draw(st.integers(1, s)) if i != dim % len(shape) else data.draw(st.integers(1, 4))
                      for i, s in enumerate(shape))
    idx = data.draw(hnp.arrays("int64", idx_shape, elements=st.integers(0, shape[dim] - 1)))
    return [data.draw(non_contiguous(shape)), idx], {"dim": dim}


def variance_params(shape):
    return st.sampled_from(("unbiased", "correction"))


def _var(m, x, dim, keepdim, style, flag, std=False):
    f = x.std if std else x.var
    if style == "unbiased":
        return f(dim, unbiased=flag, keepdim=keepdim) if dim is not None else f(unbiased=flag)
    return f(dim=dim, correction=int(flag), keepdim=keepdim)


def _negative_step_in_torch(m, x, start, stop, step):
    """torch has no negative-step slices: pick the same rows with an index tensor."""
    rows = list(range(x.shape[0]))[start:stop:step]
    return x[m.tensor(rows, dtype=m.int64)]


def _one_hot_in_torch(m, idx, num_classes):
    return m.nn.functional.one_hot(idx, num_classes)


# ---- in-place ops and views: written once for both libraries, on a non-leaf copy of the input ----
def operand_inputs(*domains, min_dims=0, into_row=False):
    """An array (non-contiguous), then operands whose shapes broadcast *to* its shape (in place
    keeps the shape), or to the shape of its first row with `into_row`."""
    def draw(data):
        shape = data.draw(shapes(min_dims=1 if into_row else min_dims))
        target = shape[1:] if into_row else shape
        first = data.draw(non_contiguous(shape, domains[0]))
        return [first] + [data.draw(arrays(data.draw(shrunk_to_broadcast(target)), d)) for d in domains[1:]], {}
    return draw


def unique_int_array_inputs(data):
    """x[idx] = ... with distinct indices (torch leaves the winner among repeated targets unspecified)."""
    shape = data.draw(shapes(min_dims=1))
    idx = data.draw(hnp.arrays(np.int64, data.draw(st.integers(1, shape[0])), elements=st.integers(0, shape[0] - 1),
                               unique=True))
    return [data.draw(non_contiguous(shape)), idx], {}


def accumulate_inputs(data):
    """x.index_put_((idx,), values, accumulate=True): repeated indices, values shaped for x[idx]."""
    shape = data.draw(shapes(min_dims=1))
    idx = data.draw(index_arrays(shape[0], data.draw(shapes(max_dims=2))))
    return [data.draw(non_contiguous(shape)), idx, data.draw(arrays(idx.shape + shape[1:]))], {}


def classes_inputs(data):
    """Logits (n, c) and a class per row, as lecture 5's exercise indexes them."""
    n, c = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 5))
    return [data.draw(non_contiguous((n, c))), data.draw(hnp.arrays(np.int64, n, elements=st.integers(0, c - 1)))], {}


def _isub(m, a, b):
    y = a * 1
    y -= b
    return y


def _imul(m, a, b):
    y = a * 1
    y *= b
    return y


def _idiv(m, a, b):
    y = a * 1
    y /= b
    return y


def _iadd_into_view(m, a, b):
    """y[0] += b: Python reads the view, adds in place, then assigns it back (a copy onto itself)."""
    y = a * 2
    y[0] += b
    return y


def _mul_through_transposed_view(m, a):
    y = a * 1
    y.t()[-1].mul_(-3)
    return y


def _zero_a_row(m, a):
    y = a * 2
    y[0].zero_()
    return y


def _fill_a_column(m, a):
    y = a.sin()
    y[..., :1].fill_(3.0)
    return y


def _assign_into_zeros(m, a):
    """A tensor that does not require grad gets a graph from what is assigned into it."""
    z = m.zeros((3,) + tuple(a.shape), dtype=a.dtype)
    z[1] = a * 2
    z[2].copy_(a.sigmoid())
    return z


def _assign_basic(m, a, key):
    y = a * 1
    y[key] = y[key] * 3 - 1
    return y


def _assign_int_array(m, a, idx):
    y = a * 1
    y[idx] = -2 * y[idx]
    return y


def _assign_mask(m, a, mask):
    y = a * 1
    y[mask] = 0.5
    return y


def _accumulate(m, a, idx, v):
    y = a * 1
    y.index_put_((idx,), v, accumulate=True)
    return y


def _lecture5_dlogits(m, logits, yb):
    """Lecture 5's exercise: dlogits = softmax(logits); dlogits[range(n), Yb] -= 1; dlogits /= n (on a
    copy of the softmax here, whose backward needs its output: test_inplace runs the lecture's own)."""
    n = logits.shape[0]
    d = m.nn.functional.softmax(logits, 1) * 1
    d[range(n), yb] -= 1
    d /= n
    return d


def _view_taken_before_base_changed(m, a, b):
    """A view taken before its base is modified in place shows, and differentiates, the new values."""
    y = a * 1
    v = y[0]
    y.mul_(b)
    return v * 1


def _chain_of_views(m, a):
    y = a * 1
    w = y.unsqueeze(-1)[0]
    w += 1
    w.mul_(2)
    v = y.unsqueeze(0)
    v.sub_(y * 0.5)
    return y, w, v


# ---- scatter, windows, contractions, distances (issue 18's ops) ---------------------------------
def _rng(data):
    return np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))


def scatter_inputs(reduce=None, distinct_places=False, domain="real"):
    """x, an int64 index along a drawn dim (shaped no larger than x apart from that dim), and src
    of the index's shape (torch's backward needs that). `distinct_places`: no two elements go to
    one place (plain scatter's winner among them is unspecified); "distinct" values: x and src
    together have no ties (amax, amin); "zeros": some zeros in both (prod's exact gradient)."""
    def draw(data):
        shape = data.draw(shapes(min_dims=1))
        dim = data.draw(dim_of(shape))
        axis = dim % len(shape)
        rng = _rng(data)
        n = shape[axis]
        index_shape = tuple(data.draw(st.integers(1, n if distinct_places else 4)) if d == axis
                            else data.draw(st.integers(1, s)) for d, s in enumerate(shape))
        if distinct_places:
            order = np.argsort(rng.random(index_shape[:axis] + (n,) + index_shape[axis + 1:]), axis=axis)
            index = np.take(order, np.arange(index_shape[axis]), axis=axis)
        else:
            index = rng.integers(0, n, index_shape)
        if domain == "distinct":
            values = data.draw(arrays((int(np.prod(shape)) + int(np.prod(index_shape)),), "distinct"))
            x, src = values[:int(np.prod(shape))].reshape(shape), values[int(np.prod(shape)):].reshape(index_shape)
            x = lay_out(x, data.draw(st.sampled_from(("transposed", "strided"))))
        else:
            x, src = data.draw(non_contiguous(shape)), data.draw(arrays(index_shape))
            if domain == "zeros":
                x, src = (np.where(rng.random(a.shape) < 0.3, 0.0, a) for a in (x, src))
        params = {"dim": dim}
        if reduce is not None:
            params["reduce"] = data.draw(st.sampled_from(reduce))
            params["include_self"] = data.draw(st.booleans())
        return [x, index, src], params
    return draw


def index_add_inputs(data):
    """x, a 1-D index (repeats likely) into a drawn dim, source shaped for it, and alpha."""
    shape = data.draw(shapes(min_dims=1))
    dim = data.draw(dim_of(shape))
    index = data.draw(hnp.arrays(np.int64, data.draw(st.integers(0, 4)), elements=st.integers(0, shape[dim] - 1)))
    source = data.draw(arrays(shape[:dim % len(shape)] + index.shape + shape[dim % len(shape) + 1:]))
    alpha = data.draw(st.sampled_from([1, -2.5]))
    return [data.draw(non_contiguous(shape)), index, source], {"dim": dim, "alpha": alpha}


def narrow_inputs(data):
    shape = data.draw(shapes(min_dims=1))
    dim = data.draw(dim_of(shape))
    n = shape[dim]
    start = data.draw(st.integers(-n, n))
    length = data.draw(st.integers(0, n - (start + n if start < 0 else start)))
    return [data.draw(non_contiguous(shape))], {"dim": dim, "start": start, "length": length}


def unfold_inputs(data):
    shape = data.draw(shapes(min_dims=1))
    dim = data.draw(dim_of(shape))
    return [data.draw(non_contiguous(shape))], {"dim": dim, "size": data.draw(st.integers(1, shape[dim])),
                                                "step": data.draw(st.integers(1, 3))}


def diagonal_inputs(data):
    shape = data.draw(shapes(min_dims=2))
    d1, d2 = data.draw(st.lists(dim_of(shape), min_size=2, max_size=2, unique_by=lambda d: d % len(shape)))
    return [data.draw(non_contiguous(shape))], {"offset": data.draw(st.integers(-3, 3)), "dim1": d1, "dim2": d2}


def with_zeros(data):
    """An array with some zeros (cumprod's exact gradient around them)."""
    shape = data.draw(shapes(min_dims=1))
    x = data.draw(non_contiguous(shape))
    x[_rng(data).random(shape) < 0.3] = 0.0
    return [x], {"dim": data.draw(dim_of(shape))}


def lerp_inputs(tensor_weight):
    def draw(data):
        if tensor_weight:
            return nary(REAL, REAL, REAL)(data)
        (start, end), _ = nary(REAL, REAL)(data)
        return [start, end], {"weight": data.draw(st.sampled_from([-0.5, 0.3, 0.5, 0.8, 1.5]))}
    return draw


def diff_inputs(data):
    shape = data.draw(shapes(min_dims=1))
    dim = data.draw(dim_of(shape))
    ends = []
    for _ in range(2):
        end_shape = tuple(data.draw(st.integers(1, 2)) if d == dim % len(shape) else s for d, s in enumerate(shape))
        ends.append(data.draw(arrays(end_shape)) if data.draw(st.booleans()) else None)
    return [data.draw(non_contiguous(shape))] + ends, {"n": data.draw(st.integers(0, 3)), "dim": dim}


def scaled_product_inputs(batched):
    """C broadcastable to the product's shape, A (b?, n, k), B (b?, k, p), beta and alpha."""
    def draw(data):
        lead = (data.draw(st.integers(1, 3)),) if batched else ()
        n, k, p = (data.draw(st.integers(1, 4)) for _ in range(3))
        c = data.draw(arrays(data.draw(shrunk_to_broadcast(lead + (n, p)))))
        return [c, data.draw(non_contiguous(lead + (n, k))), data.draw(arrays(lead + (k, p)))], {
            "beta": data.draw(st.sampled_from([1, 0.5, 0])), "alpha": data.draw(st.sampled_from([1, -2.0]))}
    return draw


def two_vectors(data):
    return [data.draw(non_contiguous((data.draw(st.integers(1, 4)),))),
            data.draw(arrays((data.draw(st.integers(1, 4)),)))], {}


def kron_inputs(data):
    a_shape, b_shape = data.draw(shapes(max_side=3)), data.draw(shapes(max_side=3))
    return [data.draw(non_contiguous(a_shape)), data.draw(arrays(b_shape))], {}


def tensordot_inputs(data):
    """a and b sharing k contracted sizes at drawn positions; dims as an int or as two lists."""
    contracted = tuple(data.draw(st.lists(st.integers(1, 3), max_size=2)))
    free_a, free_b = (tuple(data.draw(st.lists(st.integers(1, 3), max_size=2))) for _ in range(2))
    if data.draw(st.booleans()):
        return [data.draw(non_contiguous(free_a + contracted)), data.draw(arrays(contracted + free_b))], {
            "dims": len(contracted)}
    k = len(contracted)
    order_a = data.draw(st.permutations(range(len(free_a) + k)))
    order_b = data.draw(st.permutations(range(len(free_b) + k)))
    shape_a = [(free_a + contracted)[i] for i in order_a]
    shape_b = [(contracted + free_b)[i] for i in order_b]
    dims_a = [order_a.index(len(free_a) + j) for j in range(k)]
    dims_b = [order_b.index(j) for j in range(k)]
    return [data.draw(non_contiguous(tuple(shape_a))), data.draw(arrays(tuple(shape_b)))], {"dims": (dims_a, dims_b)}


EINSUM_EQUATIONS = ["ij,jk->ik", "ij,jk", "bij,bjk->bik", "bhqd,bhkd->bhqk", "i,j->ij", "i,i->", "i,i", "ij->ji",
                    "ij->", "ii->i", "ii", "iij->j", "ijk->kji", "ij,j->i", "ij,jk,kl->il", "ij,ij->ij", "Ab,bA->A",
                    "...ij,...jk->...ik", "...i,...i->...", "...ij->ij", "i...->...", "b...,b...->b"]


def einsum_inputs(data):
    """A drawn equation with drawn sizes per label (a repeated label keeps its size within an
    operand), ellipses covering drawn dims (fewer in some operands: broadcasting from the left),
    and, for labels shared between operands, size 1 in some of them (broadcasting)."""
    equation = data.draw(st.sampled_from(EINSUM_EQUATIONS))
    terms = equation.partition("->")[0].split(",")
    size = {c: data.draw(st.integers(2, 4)) for c in sorted(set(equation) - set(".,->"))}
    batch = tuple(data.draw(st.lists(st.integers(1, 3), max_size=2)))
    shared = {c for c in size if sum(c in t for t in terms) > 1}
    operands = []
    for k, term in enumerate(terms):
        shape = []
        for j, part in enumerate(term.split("...")):
            if j:  # the ellipsis: the batch dims, some leading ones dropped
                shape.extend(batch[data.draw(st.integers(0, len(batch))):])
            shape.extend(1 if c in shared and term.count(c) == 1 and data.draw(st.integers(0, 3)) == 0 else size[c]
                         for c in part)
        operands.append(data.draw(non_contiguous(tuple(shape)) if k == 0 else arrays(tuple(shape))))
    return operands, {"equation": equation}


def cdist_inputs(data):
    batch = tuple(data.draw(st.lists(st.integers(1, 2), max_size=1)))
    m = data.draw(st.integers(1, 3))
    x1 = data.draw(non_contiguous(batch + (data.draw(st.integers(1, 4)), m)))
    x2 = data.draw(arrays((data.draw(st.integers(1, 4)), m)))
    p = data.draw(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0, float("inf")]))
    mode = "use_mm_for_euclid_dist" if p == 2 and data.draw(st.booleans()) else "use_mm_for_euclid_dist_if_necessary"
    return [x1, x2], {"p": p, "compute_mode": mode}


def _kron_in_torch(m, a, b):
    """torch 2.13's kron backward fails on a transposed operand (a view() in its backward)."""
    return m.kron(a.contiguous(), b.contiguous())


def _scatter_(m, x, index, src, dim):
    y = x * 1
    y.scatter_(dim, index, src)
    return y


def _reduce_in_place(m, x, index, src, dim, reduce, include_self):
    y = x * 1
    y.scatter_reduce_(dim, index, src, reduce, include_self=include_self)
    return y


def _index_add_(m, x, index, source, dim, alpha):
    y = x * 1
    y.index_add_(dim, index, source, alpha=alpha)
    return y


def _diff(m, x, prepend, append, n, dim):
    return m.diff(x, n, dim, prepend=prepend, append=append)


def matmul_2d_inputs(data):
    n, k, p = (data.draw(st.integers(1, 4)) for _ in range(3))
    return [data.draw(non_contiguous((n, k))), data.draw(arrays((k, p)))], {}


REAL, POS, NONZERO = "real", "positive", "nonzero"

OPS = [
    # ---- elementwise: arithmetic with broadcasting and reflected forms ------------------------
    Op("add", lambda m, a, b: a + b, nary(REAL, REAL)),
    Op("sub", lambda m, a, b: a - b, nary(REAL, REAL)),
    Op("mul", lambda m, a, b: a * b, nary(REAL, REAL)),
    Op("div", lambda m, a, b: a / b, nary(REAL, NONZERO)),
    Op("add_scalar", lambda m, a: a + 1.5, unary()),
    Op("sub_scalar", lambda m, a: a - 1.5, unary()),
    Op("mul_scalar", lambda m, a: a * -2, unary()),
    Op("div_scalar", lambda m, a: a / 4, unary()),
    Op("radd", lambda m, a: 1.5 + a, unary()),
    Op("rsub", lambda m, a: 1.5 - a, unary()),
    Op("rmul", lambda m, a: 3 * a, unary()),
    Op("rdiv", lambda m, a: 2.5 / a, unary(NONZERO)),
    Op("add_fn_alpha", lambda m, a, b: m.add(a, b, alpha=2), nary(REAL, REAL)),
    Op("pow_int", lambda m, a: a ** 3, unary()),
    Op("pow_square", lambda m, a: a ** 2, unary()),
    Op("pow_negative", lambda m, a: a ** -2, unary(NONZERO)),
    Op("pow_fraction", lambda m, a: a ** 0.5, unary(POS)),
    Op("pow_tensor", lambda m, a, b: a ** b, nary(POS, REAL)),
    Op("rpow", lambda m, a: 2.5 ** a, unary()),
    Op("pow_fn", lambda m, a, b: m.pow(a, b), nary(POS, REAL)),
    Op("neg", lambda m, a: -a, unary()),
    Op("exp", lambda m, a: a.exp(), unary()),
    Op("log", lambda m, a: m.log(a), unary(POS)),
    Op("sqrt", lambda m, a: a.sqrt(), unary(POS)),
    Op("abs", lambda m, a: a.abs(), unary(NONZERO)),
    Op("tanh", lambda m, a: m.tanh(a), unary()),
    Op("sigmoid", lambda m, a: a.sigmoid(), unary()),
    Op("relu", lambda m, a: a.relu(), unary(NONZERO)),
    Op("clamp", lambda m, a: a.clamp(-0.5, 0.7), unary()),
    Op("clamp_min", lambda m, a: a.clamp(min=0.2), unary()),
    Op("clamp_max", lambda m, a: m.clamp(a, max=-0.3), unary()),
    Op("maximum", lambda m, a, b: m.maximum(a, b), nary(REAL, REAL)),
    Op("minimum", lambda m, a, b: a.minimum(b), nary(REAL, REAL)),
    Op("comparisons", lambda m, a, b: (a < b, a <= b, a > b, a >= b, a == b, a != b, a > 0.5, 0.5 <= a),
       nary(REAL, REAL), differentiable=False),
    Op("where", lambda m, c, a, b: m.where(c, a, b), nary("bool", REAL, REAL)),
    Op("where_scalar", lambda m, c, a: m.where(c, a, -1.0), nary("bool", REAL)),
    Op("masked_fill", lambda m, a, mask: a.masked_fill(mask, -1.5), masked_inputs),
    # ---- reductions ----------------------------------------------------------------------------
    Op("sum", lambda m, a, dim, keepdim: a.sum(dim=dim, keepdim=keepdim),
       unary(min_dims=1, dim=reduce_dims, keepdim=st.booleans())),
    Op("sum_all", lambda m, a: m.sum(a), unary()),
    Op("mean", lambda m, a, dim, keepdim: a.mean(dim, keepdim=keepdim),
       unary(min_dims=1, dim=reduce_dims, keepdim=st.booleans())),
    Op("var", lambda m, a, **p: _var(m, a, **p),
       unary(min_dims=1, min_side=2, dim=reduce_dims, keepdim=st.booleans(), style=variance_params,
             flag=st.booleans())),
    Op("std", lambda m, a, **p: _var(m, a, std=True, **p),
       unary(min_dims=1, min_side=2, dim=reduce_dims, keepdim=st.booleans(), style=variance_params,
             flag=st.booleans())),
    Op("var_default", lambda m, a: m.var(a), unary(min_dims=1, min_side=2)),
    Op("max_all", lambda m, a: a.max(), unary("distinct")),
    Op("min_all", lambda m, a: m.min(a), unary("distinct")),
    Op("max_dim", lambda m, a, dim, keepdim: tuple(a.max(dim=dim, keepdim=keepdim)),
       unary("distinct", min_dims=1, dim=dim_of, keepdim=st.booleans())),
    Op("min_dim", lambda m, a, dim, keepdim: tuple(m.min(a, dim, keepdim)),
       unary("distinct", min_dims=1, dim=dim_of, keepdim=st.booleans())),
    Op("argmax", lambda m, a, dim, keepdim: a.argmax(dim=dim, keepdim=keepdim),
       unary("distinct", min_dims=1, dim=lambda s: st.one_of(st.none(), dim_of(s)), keepdim=st.booleans()),
       differentiable=False),
    Op("argmin", lambda m, a, dim: m.argmin(a, dim), unary("distinct", min_dims=1, dim=dim_of), differentiable=False),
    Op("amax", lambda m, a, dim, keepdim: a.amax(dim=dim, keepdim=keepdim),
       unary("distinct", min_dims=1, dim=dims_of, keepdim=st.booleans())),
    Op("logsumexp", lambda m, a, dim, keepdim: a.logsumexp(dim=dim, keepdim=keepdim),
       unary(min_dims=1, dim=dims_of, keepdim=st.booleans())),
    Op("cumsum", lambda m, a, dim: a.cumsum(dim=dim), unary(min_dims=1, dim=dim_of)),
    Op("prod", lambda m, a, dim: a.prod(dim) if dim is not None else a.prod(),
       unary(min_dims=1, dim=lambda s: st.one_of(st.none(), dim_of(s)))),
    # ---- movement ------------------------------------------------------------------------------
    Op("view_flat", lambda m, a: a.view(-1), unary(layouts=("strided",))),
    Op("view_split", lambda m, a: a.view(a.shape[0], 1, -1), unary(min_dims=1, layouts=("strided",))),
    Op("reshape", lambda m, a, shape: a.reshape(shape),
       unary(shape=lambda s: st.sampled_from(((-1,), tuple(reversed(s)), (1,) + tuple(s) + (1,))))),
    Op("transpose", lambda m, a, d: a.transpose(*d),
       unary(min_dims=1, d=lambda s: st.tuples(dim_of(s), dim_of(s)))),
    Op("T", lambda m, a: a.T, two_d_inputs),
    Op("t", lambda m, a: a.t(), two_d_inputs),
    Op("permute", lambda m, a, perm: a.permute(perm),
       unary(perm=lambda s: st.permutations(range(len(s))).map(tuple))),
    Op("squeeze_all", lambda m, a: a.squeeze(), unary(max_side=2)),
    Op("squeeze_dim", lambda m, a, dim: a.squeeze(dim), unary(min_dims=1, max_side=2, dim=dim_of)),
    Op("unsqueeze", lambda m, a, dim: a.unsqueeze(dim), unary(dim=new_dim_of)),
    Op("expand", lambda m, a, sizes: a.expand(sizes), expand_inputs),
    Op("flatten", lambda m, a, **p: a.flatten(**p), flatten_inputs),
    Op("contiguous", lambda m, a: a.contiguous(), unary()),
    Op("split", lambda m, a, size, dim: a.split(size, dim=dim), split_inputs),
    Op("split_sections", lambda m, a, sections, dim: m.split(a, sections, dim), sections_inputs),
    Op("unbind", lambda m, a, dim: a.unbind(dim), unary(min_dims=1, dim=dim_of)),
    Op("chunk", lambda m, a, chunks, dim: a.chunk(chunks, dim),
       unary(min_dims=1, chunks=st.integers(1, 5), dim=dim_of)),
    Op("cat", lambda m, a, b, c, dim: m.cat([a, b, c], dim=dim), cat_inputs),
    Op("stack", lambda m, a, b, c, dim: m.stack((a, b, c), dim), stack_inputs),
    Op("roll", lambda m, a, shifts, dims: a.roll(shifts, dims), roll_inputs),
    Op("roll_flat", lambda m, a, shift: m.roll(a, shift), unary(min_dims=1, shift=st.integers(-5, 5))),
    Op("tril", lambda m, a, k: a.tril(k), unary(min_dims=2, k=st.integers(-3, 3))),
    Op("triu", lambda m, a, k: m.triu(a, diagonal=k), unary(min_dims=2, k=st.integers(-3, 3))),
    Op("flip", lambda m, a, dims: a.flip(dims), unary(min_dims=1, dims=dims_of)),
    Op("repeat", lambda m, a, reps: a.repeat(reps),
       unary(reps=lambda s: st.lists(st.integers(1, 3), min_size=len(s), max_size=len(s) + 1))),
    # ---- indexing ------------------------------------------------------------------------------
    Op("getitem_basic", lambda m, a, key: a[key], basic_index_inputs),
    Op("getitem_negative_step", lambda m, a, start, stop, step: a[start:stop:step], negative_step_inputs,
       torch_fn=_negative_step_in_torch),
    Op("getitem_int_array", lambda m, a, idx: a[idx], int_array_inputs),
    Op("getitem_int_array_inner", lambda m, a, idx: a[:, idx], inner_int_array_inputs),
    Op("getitem_two_int_arrays", lambda m, a, i, j: a[i, j], two_int_arrays_inputs),
    Op("getitem_bool_mask", lambda m, a, mask: a[mask], mask_index_inputs),
    Op("gather", lambda m, a, idx, dim: a.gather(dim, idx), gather_inputs),
    # ---- linear algebra, selection, encoding ----------------------------------------------------
    Op("matmul", lambda m, a, b: a @ b, matmul_inputs),
    Op("matmul_fn", lambda m, a, b: m.matmul(a, b), matmul_inputs),
    Op("topk", lambda m, a, k, dim, largest: tuple(a.topk(k, dim=dim, largest=largest)), topk_inputs),
    Op("one_hot", lambda m, idx, num_classes: m.one_hot(idx, num_classes), one_hot_inputs,
       differentiable=False, torch_fn=_one_hot_in_torch),
    # ---- in place: recorded in the graph (inplace.py), through views too --------------------------
    Op("add_", lambda m, a, b: (a * 1).add_(b, alpha=2), operand_inputs(REAL, REAL)),
    Op("isub", _isub, operand_inputs(REAL, REAL)),
    Op("imul", _imul, operand_inputs(REAL, REAL)),
    Op("idiv", _idiv, operand_inputs(REAL, NONZERO)),
    Op("pow_", lambda m, a: (a * 1).pow_(3), unary()),
    Op("clamp_", lambda m, a: (a * 1).clamp_(-0.5, 0.7), unary()),
    Op("masked_fill_", lambda m, a, mask: (a * 1).masked_fill_(mask, -1.5), masked_inputs),
    Op("iadd_into_view", _iadd_into_view, operand_inputs(REAL, REAL, into_row=True)),
    Op("mul_through_transposed_view", _mul_through_transposed_view, two_d_inputs),
    Op("zero_a_row", _zero_a_row, unary(min_dims=1)),
    Op("fill_a_column", _fill_a_column, unary(min_dims=1)),
    Op("assign_into_zeros", _assign_into_zeros, unary()),
    Op("setitem_basic", _assign_basic, basic_index_inputs),
    Op("setitem_int_array", _assign_int_array, unique_int_array_inputs),
    Op("setitem_bool_mask", _assign_mask, mask_index_inputs),
    Op("index_put_accumulate", _accumulate, accumulate_inputs),
    Op("lecture5_dlogits", _lecture5_dlogits, classes_inputs),
    Op("view_taken_before_base_changed", _view_taken_before_base_changed, operand_inputs(REAL, REAL, into_row=True)),
    Op("chain_of_views", _chain_of_views, unary(min_dims=1)),
    # ---- scatter and index_add (ops/scatter.py) ------------------------------------------------
    Op("scatter", lambda m, x, i, src, dim: x.scatter(dim, i, src), scatter_inputs(distinct_places=True)),
    Op("scatter_value", lambda m, x, i, src, dim: m.scatter(x, dim, i, -1.5), scatter_inputs(distinct_places=True)),
    Op("scatter_legacy_reduce", lambda m, x, i, src, dim, reduce, include_self: x.detach().scatter(
        dim, i, src.detach(), reduce="add" if reduce == "sum" else "multiply"),
       scatter_inputs(reduce=("sum", "prod")), differentiable=False),
    Op("scatter_", _scatter_, scatter_inputs(distinct_places=True)),
    Op("scatter_add", lambda m, x, i, src, dim: m.scatter_add(x, dim, i, src), scatter_inputs()),
    Op("scatter_add_", lambda m, x, i, src, dim: (x * 1).scatter_add_(dim, i, src), scatter_inputs()),
    Op("scatter_reduce_sum_mean", lambda m, x, i, src, dim, reduce, include_self: x.scatter_reduce(
        dim, i, src, reduce, include_self=include_self), scatter_inputs(reduce=("sum", "mean"))),
    Op("scatter_reduce_amax_amin", lambda m, x, i, src, dim, reduce, include_self: m.scatter_reduce(
        x, dim, i, src, reduce, include_self=include_self), scatter_inputs(reduce=("amax", "amin"), domain="distinct")),
    Op("scatter_reduce_prod", lambda m, x, i, src, dim, reduce, include_self: x.scatter_reduce(
        dim, i, src, reduce, include_self=include_self), scatter_inputs(reduce=("prod",))),
    Op("scatter_reduce_prod_zeros", lambda m, x, i, src, dim, reduce, include_self: x.scatter_reduce(
        dim, i, src, reduce, include_self=include_self), scatter_inputs(reduce=("prod",), domain="zeros")),
    Op("scatter_reduce_", _reduce_in_place, scatter_inputs(reduce=("sum", "prod", "mean"))),
    Op("index_add", lambda m, x, i, s, dim, alpha: x.index_add(dim, i, s, alpha=alpha), index_add_inputs),
    Op("index_add_", _index_add_, index_add_inputs),
    # ---- views: narrow, windows, diagonals --------------------------------------------------------
    Op("narrow", lambda m, a, dim, start, length: a.narrow(dim, start, length), narrow_inputs),
    Op("narrow_fn", lambda m, a, dim, start, length: m.narrow(a, dim, m.tensor(start), length), narrow_inputs),
    Op("unfold", lambda m, a, dim, size, step: a.unfold(dim, size, step), unfold_inputs),
    Op("diagonal", lambda m, a, **p: m.diagonal(a, **p), diagonal_inputs),
    # ---- running products and extremes, interpolation, differences ------------------------------
    Op("cumprod", lambda m, a, dim: a.cumprod(dim), unary(min_dims=1, dim=dim_of)),
    Op("cumprod_zeros", lambda m, a, dim: m.cumprod(a, dim=dim), with_zeros),
    Op("cummax", lambda m, a, dim: tuple(a.cummax(dim)), unary("distinct", min_dims=1, dim=dim_of)),
    Op("cummin", lambda m, a, dim: tuple(m.cummin(a, dim)), unary("distinct", min_dims=1, dim=dim_of)),
    Op("lerp", lambda m, a, b, weight: m.lerp(a, b, weight), lerp_inputs(tensor_weight=False)),
    Op("lerp_tensor_weight", lambda m, a, b, w: a.lerp(b, w), lerp_inputs(tensor_weight=True)),
    Op("lerp_", lambda m, a, b, w: (a * 1).lerp_(b, w), operand_inputs(REAL, REAL, REAL)),
    Op("diff", _diff, diff_inputs),
    # ---- products, contractions, distances ---------------------------------------------------------
    Op("addmm", lambda m, c, a, b, beta, alpha: m.addmm(c, a, b, beta=beta, alpha=alpha),
       scaled_product_inputs(batched=False)),
    Op("baddbmm", lambda m, c, a, b, beta, alpha: c.baddbmm(a, b, beta=beta, alpha=alpha),
       scaled_product_inputs(batched=True)),
    Op("outer", lambda m, a, b: m.outer(a, b), two_vectors),
    Op("kron", lambda m, a, b: m.kron(a, b), kron_inputs, torch_fn=_kron_in_torch),
    Op("tensordot", lambda m, a, b, dims: m.tensordot(a, b, dims=dims), tensordot_inputs),
    Op("einsum", lambda m, *ops, equation: m.einsum(equation, *ops), einsum_inputs),
    Op("einsum_list_and_sublist", lambda m, a, b: (m.einsum("ij,jk", [a, b]), m.einsum(a, [0, 1], b, [1, 2], [0, 2])),
       matmul_2d_inputs),
    Op("cdist", lambda m, a, b, **p: m.cdist(a, b, **p), cdist_inputs),
]

