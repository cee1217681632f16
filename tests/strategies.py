"""Hypothesis strategies for tensor tests.

Hypothesis draws the shapes (including shapes that broadcast), the dims to reduce over, the
memory layout and a seed; the values come from that seed, uniformly over a domain chosen per
op (positive for log, well apart for max/topk), like tinygrad's seeded `helper_test_op`
inputs, so values never land on a kink or a tie. The first input of an example is
non-contiguous whenever its shape allows (transposed storage, or every other element of a
bigger buffer), so every op is exercised on views as well as on fresh arrays.
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

MAX_SIDE = 4
NON_CONTIGUOUS = ("transposed", "strided")
LAYOUTS = NON_CONTIGUOUS + ("contiguous",)


def shapes(min_dims=0, max_dims=3, min_side=1, max_side=MAX_SIDE):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcast_shapes(n=2, min_dims=0, max_dims=3, min_side=1):
    """n shapes that broadcast together (sides of 1 and missing leading dims included)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=min_dims, max_dims=max_dims,
                                             min_side=min_side, max_side=MAX_SIDE).map(lambda b: b.input_shapes)


def shrunk_to_broadcast(shape):
    """Shapes that broadcast *to* `shape`: some leading dims dropped, some sides set to 1."""
    return st.integers(0, len(shape)).flatmap(lambda drop: st.tuples(
        *[st.sampled_from((1, s)) for s in shape[drop:]]))


def dims(ndim, allow_none=True, allow_tuple=True):
    """A `dim` argument: None, an int in [-ndim, ndim), or a tuple of distinct axes."""
    one = st.integers(-ndim, ndim - 1)
    options = [one]
    if allow_none:
        options.append(st.none())
    if allow_tuple and ndim:
        options.append(st.lists(one, min_size=1, max_size=ndim, unique_by=lambda d: d % ndim).map(tuple))
    return st.one_of(*options)


def lay_out(values, layout):
    """`values` (C order) stored with the given layout; the values are unchanged.

    transposed: stored with the axes reversed. strided: every other element of a buffer twice as
    long along the last axis longer than 1 (so the gap shows)."""
    long_axes = [i for i, s in enumerate(values.shape) if s > 1]
    if layout == "transposed" and values.ndim >= 2:
        return np.ascontiguousarray(values.T).T
    if layout == "strided" and long_axes:
        axis = long_axes[-1]
        buffer_shape = list(values.shape)
        buffer_shape[axis] *= 2
        every_other = tuple(slice(None, None, 2) if i == axis else slice(None) for i in range(values.ndim))
        buffer = np.zeros(buffer_shape, dtype=values.dtype)
        buffer[every_other] = values
        return buffer[every_other]
    return np.array(values, order="C")


def _real(rng, shape):
    return rng.uniform(-2, 2, shape)


def _positive(rng, shape):
    return rng.uniform(0.5, 2, shape)


def _wide(rng, shape):
    """Far into the tails of activations and softmax (exp(6) ~ 400)."""
    return rng.uniform(-6, 6, shape)


def _nonzero(rng, shape):
    return rng.uniform(0.5, 2, shape) * rng.choice([-1, 1], shape)


def _distinct(rng, shape):
    """Values at least 0.2 apart, so max/min/topk have no ties (even under central differences)."""
    n = int(np.prod(shape, dtype=np.int64))
    return (rng.permutation(n) * 0.25 - n / 8 + rng.uniform(0, 0.05)).reshape(shape)


def _bool(rng, shape):
    return rng.random(shape) < 0.5


DOMAINS = {"real": _real, "wide": _wide, "positive": _positive, "nonzero": _nonzero, "distinct": _distinct,
           "bool": _bool}


@st.composite
def arrays(draw, shape, domain="real", layout=None):
    """An array of `shape` with values from `domain`, in `layout` (drawn when None)."""
    seed = draw(st.integers(0, 2 ** 32 - 1))
    values = np.asarray(DOMAINS[domain](np.random.default_rng(seed), shape))
    if values.dtype.kind == "f":
        values = values.astype(np.float64)
    return lay_out(values, layout or draw(st.sampled_from(LAYOUTS)))


def non_contiguous(shape, domain="real", layouts=NON_CONTIGUOUS):
    """Like `arrays`, but laid out non-contiguously (in one of `layouts`) whenever the shape
    holds more than one element (transposing needs two sides longer than 1, else it is strided)."""
    usable = [k for k in layouts if k != "transposed" or sum(s > 1 for s in shape) >= 2] or ["strided"]
    return st.sampled_from(usable).flatmap(lambda layout: arrays(shape, domain, layout=layout))


def dim_of(shape):
    """One dim of an array of `shape`, negative or not."""
    return dims(len(shape), allow_none=False, allow_tuple=False)


def unary(domain="real", min_dims=0, max_side=4, min_side=1, layouts=NON_CONTIGUOUS, **params):
    """draw(data) -> ([array], params): one array (non-contiguous when it has a dim, unless
    `layouts` allows "contiguous"); `params` are strategies or functions of the array's shape
    returning one."""
    def draw(data):
        shape = data.draw(shapes(min_dims=min_dims, min_side=min_side, max_side=max_side))
        return [data.draw(non_contiguous(shape, domain, layouts))], drawn_params(data, shape, params)
    return draw


def drawn_params(data, shape, params):
    """Each of `params` (a strategy, or a function of `shape` returning one) drawn once."""
    return {k: data.draw(s(shape) if callable(s) else s) for k, s in params.items()}


def index_arrays(size, shape):
    """int64 indices into an axis of `size` (negative ones too), repeats likely."""
    return hnp.arrays(np.int64, shape, elements=st.integers(-size, size - 1))
