"""Fused normalizations: layer_norm and batch_norm, one Function each, next to their naive twins.

Both standardize x over some axes and then scale and shift it:

    mu = mean(x), var = mean((x - mu)^2) (biased), rstd = 1 / sqrt(var + eps),
    xhat = (x - mu) rstd,  y = xhat * w + b.

Derivation of the backward, with n the number of elements averaged and gh = dL/dxhat = g * w:
d mu / dx_i = 1/n and d rstd / dx_i = -rstd^3 (x_i - mu) / n, so

    d xhat_j / d x_i = rstd ([i = j] - 1/n - xhat_i xhat_j / n),
    dL/dx_i = rstd (gh_i - mean(gh) - xhat_i mean(gh * xhat)),

and dw = sum of g * xhat, db = sum of g over the other axes. layer_norm averages over the
trailing axes of each sample, batch_norm over the batch (and length) for each channel.
"""
import functools
import operator

from .. import backends
from ..autograd import Function, no_grad
from ..device import array_module
from ..kernels.numpy.arrays import one_block, row_blocks


def _sum_over(axes, *arrays):
    """sum over `axes` of the product of `arrays` (keeping no dims), by einsum: without
    materialising the product, and faster than NumPy's reductions over short rows."""
    letters = "abcdefghij"[:arrays[0].ndim]
    kept = "".join(c for i, c in enumerate(letters) if i not in axes)
    return array_module(arrays[0]).einsum(",".join([letters] * len(arrays)) + f"->{kept}", *arrays)


class LayerNorm(Function):
    """y = xhat * w + b with statistics over the trailing dims of x of total size D (each
    sample's row); w and b have shape normalized_shape (product D) or are None (then ones and
    zeros stand in). Forward and backward (the module doc's formula) are the kernels
    layernorm_forward and layernorm_backward over the rows (M, D).
    """

    @staticmethod
    def forward(ctx, x, w, b, width, eps):
        xp = array_module(x)
        rows = x.reshape(-1, width)
        w_row = xp.ones(width, x.dtype) if w is None else w.reshape(width)
        b_row = xp.zeros(width, x.dtype) if b is None else b.reshape(width)
        y, mean, rstd = backends.kernel("layernorm_forward", rows)(rows, w_row, b_row, eps)
        ctx.rows, ctx.w, ctx.mean, ctx.rstd = rows, w_row, mean, rstd
        ctx.shapes = (x.shape, None if w is None else w.shape, None if b is None else b.shape)
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        x_shape, w_shape, b_shape = ctx.shapes
        g_rows = g.reshape(ctx.rows.shape)
        dx, dw, db = backends.kernel("layernorm_backward", g_rows)(g_rows, ctx.rows, ctx.w, ctx.mean, ctx.rstd)
        dw = None if w_shape is None else dw.reshape(w_shape)
        db = None if b_shape is None else db.reshape(b_shape)
        return dx.reshape(x_shape), dw, db, None, None


class BatchNorm(Function):
    """y = xhat * w + b per channel of x (N, C) or (N, C, L, ...); w, b: (C,) or None.

    training: statistics over every axis but the channel one (n = N * L * ... values each),
    and the running statistics, when given, move in place towards them:
    running_mean <- (1 - momentum) running_mean + momentum mean,
    running_var  <- (1 - momentum) running_var + momentum var * n / (n - 1)  (unbiased, as torch).
    eval: the running statistics stand in for mean and var (then xhat is affine in x).

    Per channel everything is affine: with xc = x - mean and s = rstd * w, y = xc s + b, and
    the backward (the module doc's formula, sums over the n values of a channel) is

        dw = rstd sum(g xc),  db = sum(g),
        training: dx = s (g - sum(g) / n - xhat sum(g xhat) / n) = g s + xc d + e,
                  d = -s rstd^2 sum(g xc) / n,  e = -s sum(g) / n;
        eval:     dx = g s.

    A small x is centred once, whole, in its own memory layout (a channels-last view stays
    channels-last), and xc is kept for backward. A large one runs over blocks of samples that
    stay in cache, one pass over memory for the statistics (or sums) and one for the output,
    and keeps only x (which the graph holds anyway): xc is recomputed per block.
    """

    @staticmethod
    def forward(ctx, x, w, b, running_mean, running_var, training, momentum, eps):
        xp = array_module(x)
        axes, channel, n = _channels(x)
        mean = _sum_over(axes, x) / n if training else running_mean.astype(x.dtype)
        kept = x - channel(mean) if one_block(x.size, xp) else None
        if training:
            var = _added(_sum_over(axes, xc, xc) for _, xc in _centered(x, mean, kept)) / n
            if running_mean is not None:
                running_mean *= 1 - momentum
                running_mean += momentum * mean
                running_var *= 1 - momentum
                running_var += (momentum * n / (n - 1)) * var
        else:
            var = running_var.astype(x.dtype)
        rstd = 1 / xp.sqrt(var + eps)
        scale = rstd if w is None else rstd * w
        y = xp.empty_like(x)
        for rows, xc in _centered(x, mean, kept):
            out = y[rows]
            xp.multiply(xc, channel(scale), out=out)
            if b is not None:
                out += channel(b)
        ctx.x, ctx.xc, ctx.mean, ctx.rstd, ctx.scale, ctx.training = x, kept, mean, rstd, scale, training
        return y

    @staticmethod
    def backward(ctx, g):
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        x, kept, mean, rstd, scale = ctx.x, ctx.xc, ctx.mean, ctx.rstd, ctx.scale
        xp = array_module(g)
        axes, channel, n = _channels(x)
        sum_g = sum_gxc = None
        if need_b or need_w or (need_x and ctx.training):
            sums = [(_sum_over(axes, g[rows]), _sum_over(axes, g[rows], xc)) for rows, xc in _centered(x, mean, kept)]
            sum_g, sum_gxc = _added(s for s, _ in sums), _added(s for _, s in sums)
        dx = None
        if need_x:
            dx = xp.empty_like(g)
            for rows, xc in _centered(x, mean, kept) if ctx.training else [(slice(None), None)]:
                out = dx[rows]
                xp.multiply(g[rows], channel(scale), out=out)
                if ctx.training:
                    out += xc * channel(scale * rstd * rstd * sum_gxc * (-1 / n))
                    out += channel(scale * sum_g * (-1 / n))
        dw = sum_gxc * rstd if need_w else None
        return dx, dw, (sum_g if need_b else None), None, None, None, None, None


def _channels(x):
    """(axes summed over, a reshape of (C,) vectors that broadcasts against x, values per channel)."""
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    return (0,) + tuple(range(2, x.ndim)), (lambda v: v.reshape(shape)), x.size // x.shape[1]


def _added(parts):
    """The sum of an iterable of arrays (the first one itself when there is only one)."""
    return functools.reduce(operator.add, parts)


def _centered(x, mean, kept):
    """(rows, x[rows] - mean) over blocks of samples: `kept` whole if given, else computed a
    block at a time into one scratch array."""
    if kept is not None:
        yield slice(None), kept
        return
    xp = array_module(x)
    for rows, (xc,) in row_blocks(x.shape[0], x.shape[1:], xp, x.dtype, 1):
        xp.subtract(x[rows], mean.reshape((1, x.shape[1]) + (1,) * (x.ndim - 2)), out=xc)
        yield rows, xc


# ---- naive twins ----

def _standardize_naive(x, dims, eps):
    mean = x.mean(dims, keepdim=True)
    diff = x - mean
    var = (diff * diff).mean(dims, keepdim=True)
    return diff / (var + eps).sqrt(), mean, var


def layer_norm_naive(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    dims = tuple(range(-len(normalized_shape), 0))
    y, _, _ = _standardize_naive(input, dims, eps)
    y = y * weight if weight is not None else y
    return y + bias if bias is not None else y


def batch_norm_naive(input, running_mean, running_var, weight=None, bias=None, training=False,
                     momentum=0.1, eps=1e-5):
    """Lecture 4's batch norm: bnmean, bnvar over the batch, then gain and bias."""
    dims = (0,) + tuple(range(2, input.ndim))
    shape = (1, input.shape[1]) + (1,) * (input.ndim - 2)
    if training:
        y, mean, var = _standardize_naive(input, dims, eps)
        if running_mean is not None:
            n = input.numel() // input.shape[1]
            with no_grad():
                running_mean.mul_(1 - momentum).add_(mean.reshape(-1) * momentum)
                running_var.mul_(1 - momentum).add_(var.reshape(-1) * (momentum * n / (n - 1)))
    else:
        y = (input - running_mean.reshape(shape)) / (running_var.reshape(shape) + eps).sqrt()
    y = y * weight.reshape(shape) if weight is not None else y
    return y + bias.reshape(shape) if bias is not None else y
