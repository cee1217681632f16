"""Fused linear, GELU-then-linear and embedding: one Function each, next to their naive twins."""
from .. import backends
from ..autograd import Function
from ..device import array_module
from ..kernels.numpy.arrays import column_sums
from .fused_activation import gelu_array, gelu_backward_array, gelu_naive


class Linear(Function):
    """y = x W^T + b for x (..., in), W (out, in), b (out,) or None.

    With the leading dims of x flattened into rows X (M, in) and G = dL/dy as (M, out):
    dX = G W,  dW = G^T X,  db = sum over rows of G. One matrix product each, however many
    leading dims x has (no per-batch products summed afterwards), by the kernel "matmul" (NumPy's
    BLAS, MKL's or cuBLAS, see tinytorch.backends).
    """

    @staticmethod
    def forward(ctx, x, w, b):
        need_x, need_w = ctx.needs_input_grad[:2]
        ctx.x, ctx.w, ctx.x_shape = (x if need_w else None), (w if need_x else None), x.shape
        return linear_array(x, w, b)

    @staticmethod
    def backward(ctx, g):
        need_x, need_w, need_b = ctx.needs_input_grad
        x, w = ctx.x, ctx.w
        g_rows = g.reshape(-1, g.shape[-1])
        dx = matmul(g_rows, w).reshape(ctx.x_shape) if need_x else None
        dw = matmul(g_rows.T, x.reshape(-1, x.shape[-1])) if need_w else None
        db = column_sums(g_rows) if need_b else None
        return dx, dw, db


def matmul(a, b):
    """a @ b for 2-D arrays, by the matmul kernel tinytorch.backends picks."""
    return backends.kernel("matmul", a)(a, b)


def linear_array(x, w, b):
    """x W^T + b for arrays x (..., in), W (out, in), b (out,) or None: one matrix product."""
    y = matmul(x.reshape(-1, x.shape[-1]), w.T)
    if b is not None:
        y += b
    return y.reshape(x.shape[:-1] + (w.shape[0],))


class GELULinear(Function):
    """y = GELU(h) W^T + b for h (..., in), W (out, in), b (out,) or None: a transformer MLP's
    second half, linear(gelu(h)), as one Function that keeps h alone for the backward.

    Run as two ops, the activation A = GELU(h), an array as large as h (4x the model width),
    stays alive from the forward to the backward because dW needs it. Here it is freed after
    the forward's product and recomputed in the backward from the gate that GELU's backward
    computes anyway (llm.c's GELU recompute): for the tanh form one pass of the kernel
    gelu_backward_and_forward_ gives both dH and A. With rows H (M, in), A = GELU(H) and
    G = dL/dy (M, out):

        dA = G W,   dH = dA * GELU'(H),   dW = G^T A,   db = sum over rows of G.

    `approximate` is GELU's (see fused_activation.GELU).
    """

    @staticmethod
    def forward(ctx, h, w, b, approximate):
        ctx.h, ctx.approximate = h, approximate
        ctx.w = w if ctx.needs_input_grad[0] else None
        return linear_array(gelu_array(h, approximate), w, b)

    @staticmethod
    def backward(ctx, g):
        need_h, need_w, need_b = ctx.needs_input_grad[:3]
        h, w = ctx.h, ctx.w
        g_rows = g.reshape(-1, g.shape[-1])
        dh = a = dw = None
        if need_h:
            da = matmul(g_rows, w).reshape(h.shape)
            if need_w and ctx.approximate == "tanh":
                dh, a = backends.kernel("gelu_backward_and_forward_", da)(da, h)
            else:
                dh = gelu_backward_array(da, h, ctx.approximate)
        if need_w:
            if a is None:
                a = gelu_array(h, ctx.approximate)
            dw = matmul(g_rows.T, a.reshape(-1, h.shape[-1]))
        db = column_sums(g_rows) if need_b else None
        return dh, dw, db, None


class Embedding(Function):
    """y = W[idx] (rows of W (V, D) picked by integer idx of any shape -> idx.shape + (D,)).

    Each W[v] appears wherever idx == v, so dW[v] = sum of the output gradients at those places:
    a scatter-add, where repeated indices accumulate. The padding row receives no gradient;
    with scale_grad_by_freq each index's gradient is divided by its count in idx.
    """

    @staticmethod
    def forward(ctx, w, idx, padding_idx, scale_grad_by_freq):
        ctx.idx, ctx.shape, ctx.padding_idx, ctx.scale_grad_by_freq = idx, w.shape, padding_idx, scale_grad_by_freq
        return array_module(w).take(w, idx, axis=0)

    @staticmethod
    def backward(ctx, g):
        xp = array_module(g)
        idx = ctx.idx.reshape(-1)
        g_rows = g.reshape(-1, ctx.shape[1])
        if ctx.scale_grad_by_freq:
            counts = xp.bincount(idx, minlength=ctx.shape[0])
            g_rows = g_rows / counts[idx, None].astype(g.dtype)
        dw = backends.kernel("embedding_backward", g_rows)(idx, g_rows, ctx.shape[0])
        if ctx.padding_idx is not None:
            dw[ctx.padding_idx] = 0
        return dw, None, None, None


# ---- naive twins ----

def linear_naive(input, weight, bias=None):
    y = input @ weight.T
    return y + bias if bias is not None else y


def gelu_linear_naive(input, weight, bias=None, approximate="none"):
    return linear_naive(gelu_naive(input, approximate=approximate), weight, bias)


def embedding_naive(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                    sparse=False):
    """weight[input]: indexing's own backward scatter-adds (padding_idx: its row is cut off the graph)."""
    if padding_idx is None:
        return weight[input]
    is_pad = (input == padding_idx).unsqueeze(-1)
    return weight.detach()[input].where(is_pad, weight[input])
