"""Fused activations: softmax, log_softmax, GELU, SiLU and dropout, each one Function with a
closed-form backward, next to its `*_naive` twin built from Tensor primitives.

tanh, sigmoid and relu are already single Functions in the core (`ops/elementwise.py`, with
their derivatives in the docstrings); their naive twins are here.
"""
import math

import numpy as np

from ..autograd import Function
from ..device import array_module
from ..ops.elementwise import _sigmoid
from ..random.layout import draw_in_order, empty_like_order
from .fused_common import exp_rows, row_blocks
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


def softmax_rows_forward(x):
    """softmax over the last axis of x (..., C), a block of rows at a time, straight into the
    output (the oracle's interface, kernels/reference.py); see fused_common.exp_rows."""
    xp = array_module(x)
    flat = x.reshape(-1, x.shape[-1])
    y = xp.empty(flat.shape, x.dtype)
    for rows, _ in row_blocks(flat.shape[0], flat.shape[1], xp):
        _, total = exp_rows(flat[rows], y[rows])
        with np.errstate(divide="ignore", invalid="ignore"):  # a row of -inf: 0/0 = nan, as torch
            y[rows] *= (1 / total)[:, None]
    return y.reshape(x.shape)


def softmax_rows_backward(dout, out):
    """dx = out * (dout - sum(dout * out)) over the last axis, a block of rows at a time."""
    xp = array_module(out)
    g, y = dout.reshape(-1, out.shape[-1]), out.reshape(-1, out.shape[-1])
    dx = xp.empty(y.shape, y.dtype)
    for rows, _ in row_blocks(y.shape[0], y.shape[1], xp):
        d = dx[rows]
        xp.subtract(g[rows], xp.einsum("ij,ij->i", g[rows], y[rows])[:, None], out=d)
        d *= y[rows]
    return dx.reshape(out.shape)


class Softmax(Function):
    """y = softmax(x) along `axis`.  Backward: dx = y * (g - sum_j g_j y_j)  (see softmax_backward_array).

    `kernels` is the backend's (softmax_forward, softmax_backward) for the float32 last-axis
    case, or None: then the last axis runs softmax_rows_* and any other axis the *_array code.
    """

    @staticmethod
    def forward(ctx, x, axis, kernels=None):
        last = axis == x.ndim - 1
        forward = kernels[0] if kernels else (softmax_rows_forward if last else None)
        y = forward(x) if forward else softmax_array(x, axis)
        ctx.y, ctx.axis, ctx.kernels, ctx.last = y, axis, kernels, last
        return y

    @staticmethod
    def backward(ctx, g):
        if ctx.kernels:
            return ctx.kernels[1](g, ctx.y), None, None
        if ctx.last:
            return softmax_rows_backward(g, ctx.y), None, None
        return softmax_backward_array(g, ctx.y, ctx.axis), None, None


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

    Only x is kept (the graph holds it anyway): backward recomputes Phi(x) or a, as torch
    does, rather than keeping a second array of x's size alive until then. Both passes run
    in place over cache-sized blocks. `kernels` is the backend's (gelu_forward, gelu_backward)
    for the float32 tanh form (one pass each), or None.
    """

    @staticmethod
    def forward(ctx, x, approximate, kernels=None):
        if not kernels:
            x = array_module(x).ascontiguousarray(x)
        ctx.x, ctx.approximate, ctx.kernels = x, approximate, kernels
        return gelu_array(x, approximate, kernels)

    @staticmethod
    def backward(ctx, g):
        return gelu_backward_array(g, ctx.x, ctx.approximate, ctx.kernels), None, None


def gelu_array(x, approximate, kernels=None):
    """GELU(x) for an array x of any shape (see GELU), in cache-sized blocks or by kernels[0]."""
    if kernels:
        return kernels[0](x)
    xp = array_module(x)
    x = xp.ascontiguousarray(x)
    y = xp.empty_like(x)
    flat_x, flat_y = x.reshape(-1), y.reshape(-1)
    gate = _gelu_tanh_gate if approximate == "tanh" else normal_cdf_block
    for part, scratch in row_blocks(x.size, (), xp, x.dtype, 2):
        gate(flat_x[part], flat_y[part], *scratch)
        flat_y[part] *= flat_x[part]
    return y


def gelu_backward_array(g, x, approximate, kernels=None):
    """dx = g * GELU'(x) (see GELU), recomputing the gate from x, or by kernels[1]."""
    if kernels:
        return kernels[1](g, x)
    xp = array_module(g)
    shape, x = x.shape, xp.ascontiguousarray(x).reshape(-1)
    g = xp.ascontiguousarray(g).reshape(-1)
    dx = xp.empty_like(x)
    tanh = approximate == "tanh"
    for part, (gate, s, p) in row_blocks(x.size, (), xp, x.dtype, 3):
        out = dx[part]
        if tanh:
            _gelu_tanh_gate(x[part], gate, s, p)
            _gelu_tanh_slope(x[part], gate, out, s)
        else:
            normal_cdf_block(x[part], gate, s, p)
            _gelu_exact_slope(x[part], gate, out)
        out *= g[part]
    return dx.reshape(shape)


def _gelu_tanh_gate(x, a, *_scratch):
    """a = (1 + tanh(k x (1 + c x^2))) / 2, in place into a (the scratch arrays go unused)."""
    xp = array_module(x)
    xp.multiply(x, x, out=a)
    a *= GELU_TANH_C * GELU_TANH_K
    a += GELU_TANH_K
    a *= x
    xp.tanh(a, out=a)
    a *= 0.5
    a += 0.5


def _gelu_tanh_slope(x, a, out, scratch):
    """out = a (1 + 2 (1 - a) x k (1 + 3 c x^2)) (see GELU); scratch is shaped like x."""
    xp = array_module(x)
    xp.multiply(x, x, out=out)
    out *= 6 * GELU_TANH_C * GELU_TANH_K
    out += 2 * GELU_TANH_K
    out *= x
    xp.subtract(1, a, out=scratch)
    out *= scratch
    out += 1
    out *= a


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
    backward."""

    @staticmethod
    def forward(ctx, x, p, generator):
        xp = array_module(x)
        if p < 1:
            keep = draw_in_order(x, empty_like_order(x), lambda shape: generator.bernoulli(shape, 1 - p, np.bool_))
            scale = x.dtype.type(1) / x.dtype.type(1 - p)
        else:
            keep, scale = xp.zeros(x.shape, dtype=bool), x.dtype.type(0)
        ctx.keep, ctx.scale = keep, scale
        return x * (keep * scale)

    @staticmethod
    def backward(ctx, g):
        dx = g * ctx.keep
        dx *= ctx.scale
        return dx, None, None


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
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0
    order = empty_like_order(input._data)
    inverse = sorted(range(len(order)), key=order.__getitem__)
    noise = input.new_empty([input.shape[axis] for axis in order]).bernoulli_(1 - p).permute(inverse)
    return input * (noise / (1 - p))
