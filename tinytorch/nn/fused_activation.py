"""Fused activations: softmax, log_softmax, GELU, SiLU and dropout, each one Function with a
closed-form backward, next to its `*_naive` twin built from Tensor primitives.

tanh, sigmoid and relu are already single Functions in the core (`ops/elementwise.py`, with
their derivatives in the docstrings); their naive twins are here.
"""
import math

import numpy as np

from .. import backends
from ..autograd import Function
from ..device import array_module
from ..kernels.numpy.arrays import row_blocks
from ..ops.elementwise import _sigmoid
from ..random.layout import empty_like_order
from .special import _erfc_series, normal_cdf_block

GELU_TANH_K = math.sqrt(2 / math.pi)
GELU_TANH_C = 0.044715


def softmax_array(x, axis):
    """exp(x - max) / sum exp(x - max) along `axis`; subtracting the max keeps every exp <= 1."""
    xp = array_module(x)
    e = x - x.max(axis=axis, keepdims=True)
    xp.exp(e, out=e)
    e /= e.sum(axis=axis, keepdims=True)
    return e


def softmax_backward_array(g, y, axis):
    """dx = y * (g - sum(g * y)): the softmax Jacobian dy_i/dx_j = y_i (delta_ij - y_j) applied to g."""
    gy = g * y
    gy -= y * gy.sum(axis=axis, keepdims=True)
    return gy


class Softmax(Function):
    """y = softmax(x) along `axis`.  Backward: dx = y * (g - sum_j g_j y_j)  (see softmax_backward_array).

    Along the last axis the kernels softmax_forward and softmax_backward run (tinytorch.backends
    picks them); along another axis the *_array code here.
    """

    @staticmethod
    def forward(ctx, x, axis):
        last = axis == x.ndim - 1
        y = backends.kernel("softmax_forward", x)(x) if last else softmax_array(x, axis)
        ctx.y, ctx.axis, ctx.last = y, axis, last
        return y

    @staticmethod
    def backward(ctx, g):
        if ctx.last:
            return backends.kernel("softmax_backward", g)(g, ctx.y), None
        return softmax_backward_array(g, ctx.y, ctx.axis), None


class LogSoftmax(Function):
    """y = x - m - log sum_j e^{x_j - m} along `axis` (m = max x, so nothing overflows).

    Backward: dy_i/dx_j = delta_ij - softmax_j, so dx = g - softmax * sum_i g_i, softmax = e^y.
    """

    @staticmethod
    def forward(ctx, x, axis):
        xp = array_module(x)
        y = x - x.max(axis=axis, keepdims=True)
        y -= xp.log(xp.exp(y).sum(axis=axis, keepdims=True))
        ctx.y, ctx.axis = y, axis
        return y

    @staticmethod
    def backward(ctx, g):
        xp = array_module(g)
        return g - xp.exp(ctx.y) * g.sum(axis=ctx.axis, keepdims=True), None


class GELU(Function):
    """Gaussian error linear unit, elementwise.

    exact:  y = x Phi(x), Phi the standard normal CDF (special.normal_cdf);
            dy/dx = Phi(x) + x phi(x), phi = Phi' = exp(-x^2 / 2) / sqrt(2 pi).
    tanh:   y = x (1 + tanh u) / 2 = x a,  u = k (x + c x^3), k = sqrt(2/pi), c = 0.044715,
            a = (1 + tanh u) / 2 = sigmoid(2u) in [0, 1]. Since (1 - tanh^2 u) / 2 = 2 a (1 - a),
            dy/dx = a + x da/dx = a (1 + 2 (1 - a) x k (1 + 3 c x^2)).

    Only x is kept (the graph holds it anyway): backward recomputes Phi(x) or a, as torch does,
    rather than keeping a second array of x's size alive until then. The tanh form runs the
    kernels gelu_forward and gelu_backward; the exact one runs here, in place over cache-sized blocks.
    """

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.x, ctx.approximate = x, approximate
        return gelu_array(x, approximate)

    @staticmethod
    def backward(ctx, g):
        return gelu_backward_array(g, ctx.x, ctx.approximate), None


def gelu_array(x, approximate):
    """GELU(x) for an array x of any shape (see GELU); float16 and bfloat16 in float32, rounded once."""
    if x.dtype.itemsize < 4:
        return gelu_array(x.astype("float32"), approximate).astype(x.dtype)
    if approximate == "tanh":
        return backends.kernel("gelu_forward", x)(x)
    xp = array_module(x)
    x = xp.ascontiguousarray(x)
    y = xp.empty_like(x)
    flat_x, flat_y = x.reshape(-1), y.reshape(-1)
    for part, scratch in row_blocks(x.size, (), xp, x.dtype, 2):
        normal_cdf_block(flat_x[part], flat_y[part], *scratch)
        flat_y[part] *= flat_x[part]
    return y


def gelu_backward_array(g, x, approximate):
    """dx = g * GELU'(x) (see GELU), recomputing the gate from x (in float32 for narrower floats)."""
    if x.dtype.itemsize < 4:
        return gelu_backward_array(g.astype("float32"), x.astype("float32"), approximate).astype(x.dtype)
    if approximate == "tanh":
        return backends.kernel("gelu_backward", g)(g, x)
    xp = array_module(g)
    shape, x = x.shape, xp.ascontiguousarray(x).reshape(-1)
    g = xp.ascontiguousarray(g).reshape(-1)
    dx = xp.empty_like(x)
    for part, (cdf, s, p) in row_blocks(x.size, (), xp, x.dtype, 3):
        out = dx[part]
        normal_cdf_block(x[part], cdf, s, p)
        _gelu_exact_slope(x[part], cdf, out)
        out *= g[part]
    return dx.reshape(shape)


def _gelu_exact_slope(x, cdf, out):
    """out = Phi(x) + x phi(x), phi(x) = exp(-x^2 / 2 - log sqrt(2 pi))."""
    xp = array_module(x)
    xp.multiply(x, x, out=out)
    out *= -0.5
    out -= 0.5 * math.log(2 * math.pi)
    xp.exp(out, out=out)
    out *= x
    out += cdf


class SiLU(Function):
    """y = x sigmoid(x);  dy/dx = s (1 + x (1 - s)), s = sigmoid(x) (computed without overflow)."""

    @staticmethod
    def forward(ctx, x):
        s = _sigmoid(array_module(x), x)
        ctx.x, ctx.s = x, s
        return x * s

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.x, ctx.s
        return g * s * (1 + x * (1 - s))


class Dropout(Function):
    """y = x * keep / (1 - p), keep_i = [u_i < 1 - p] with u_i ~ U[0, 1) a double from `generator`,
    drawn as torch's CPU dropout draws its noise: empty_like(x).bernoulli_(1 - p), in the memory
    order of empty_like(x) (random/layout.py), then divided by 1 - p in x's dtype; p = 1 draws
    nothing and drops everything. dy/dx = keep / (1 - p). Only the boolean mask is kept for
    backward. Both products run the kernel masked_scale on x (or the gradient) laid out in the
    mask's order, the output taking x's layout back.

    channel_axes=k drops whole channels instead (torch's feature_dropout, behind dropout1d/2d/3d):
    keep has shape x.shape[:k] + (1, ...), one draw per entry of the first k axes (k = 2 for
    (N, C, *), 1 for an unbatched (C, *)), drawn in C order as torch draws into its fresh
    contiguous noise tensor, and broadcast over the remaining axes forward and backward."""

    @staticmethod
    def forward(ctx, x, p, generator, channel_axes=None):
        xp = array_module(x)
        ctx.order = empty_like_order(x) if channel_axes is None else None
        shape = (tuple(x.shape[axis] for axis in ctx.order) if channel_axes is None
                 else x.shape[:channel_axes] + (1,) * (x.ndim - channel_axes))
        if p < 1:
            keep, scale = generator.bernoulli(shape, 1 - p, np.bool_), x.dtype.type(1) / x.dtype.type(1 - p)
        else:
            keep, scale = xp.zeros(shape, dtype=bool), x.dtype.type(0)
        ctx.keep, ctx.scale = keep, scale
        return _times_noise(ctx, x)

    @staticmethod
    def backward(ctx, g):
        return _times_noise(ctx, g), None, None, None


def _times_noise(ctx, a):
    """a * keep * scale: one product per element in the mask's order, or channels broadcast."""
    if ctx.order is None:
        return a * (ctx.keep * ctx.scale)
    ordered = a.transpose(ctx.order)
    product = backends.kernel("masked_scale", ordered)(ordered, ctx.keep, ctx.scale)
    return product.transpose(sorted(range(a.ndim), key=ctx.order.__getitem__))


# ---- naive twins: the same functions from Tensor primitives, differentiated by autograd ----

def softmax_naive(input, dim):
    """Lecture 4's softmax: counts = exp(x - max), probs = counts / counts.sum()."""
    counts = (input - input.max(dim, keepdim=True).values.detach()).exp()
    return counts / counts.sum(dim, keepdim=True)


def log_softmax_naive(input, dim):
    z = input - input.max(dim, keepdim=True).values.detach()
    return z - z.exp().sum(dim, keepdim=True).log()


def tanh_naive(input):
    """tanh x = 1 - 2 / (e^{2x} + 1) (no inf/inf for large x)."""
    return 1 - 2 / ((2 * input).exp() + 1)


def sigmoid_naive(input):
    return 1 / (1 + (-input).exp())


def relu_naive(input):
    return input * (input > 0)


def silu_naive(input):
    return input * sigmoid_naive(input)


def gelu_naive(input, approximate="none"):
    x = input
    if approximate == "tanh":
        return 0.5 * x * (1 + (GELU_TANH_K * (x + GELU_TANH_C * x * x * x)).tanh())
    return x * _normal_cdf_naive(x)


def _normal_cdf_naive(x):
    """special.normal_cdf's series, in Tensor ops: erfc(z) = t exp(P(t) - z^2), t = 1/(1 + z/2)."""
    t_min, powers = _erfc_series(x._data.dtype)
    z = x.abs() * (1 / math.sqrt(2))
    t = 1 / (1 + z / 2)
    s = (t.clamp(min=t_min) - t_min) * (2 / (1 - t_min)) - 1
    p = powers[0]
    for c in powers[1:]:
        p = p * s + c
    half_tail = t * (p - z * z).exp() / 2
    return half_tail.where(x < 0, 1 - half_tail)


def dropout_naive(input, p=0.5, training=True, inplace=False):
    """x * noise, noise = bernoulli_(1 - p) / (1 - p) in a tensor laid out like torch's
    empty_like(x): Dropout's mask, drawn in the same order from the same generator."""
    order = empty_like_order(input._data)
    inverse = sorted(range(len(order)), key=order.__getitem__)
    return _times_noise_naive(input, p, training, lambda q: input.new_empty(
        [input.shape[axis] for axis in order]).bernoulli_(q).permute(inverse))


def feature_dropout_naive(input, p=0.5, training=True):
    """Dropout of whole channels of (N, C, *) input: the noise is a fresh contiguous (N, C, 1, ...)
    tensor (Dropout with channel_axes=2), broadcast over the positions."""
    return _times_noise_naive(input, p, training, lambda q: input.new_empty(
        tuple(input.shape[:2]) + (1,) * (input.ndim - 2)).bernoulli_(q))


def _times_noise_naive(input, p, training, bernoulli):
    """input * bernoulli(1 - p) / (1 - p), bernoulli(q) a 0/1 noise tensor drawn with keep
    probability q; input itself when not training or p = 0."""
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0
    return input * (bernoulli(1 - p) / (1 - p))
