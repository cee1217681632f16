"""Matrix multiplication with batching, broadcasting and the vector cases of torch.matmul."""
from ..autograd import Function
from ..device import array_module
from .errors import shapes_error


def check_matmul_shapes(a_shape, b_shape):
    """Raise a ShapeError naming both shapes unless torch.matmul accepts them."""
    if len(a_shape) == 0 or len(b_shape) == 0:
        raise shapes_error("matmul", a_shape, b_shape, why="are invalid: both arguments need at least 1 dimension")
    k_a = a_shape[-1]
    k_b = b_shape[0] if len(b_shape) == 1 else b_shape[-2]
    if k_a != k_b:
        raise shapes_error("matmul", a_shape, b_shape,
                           why=f"cannot be multiplied (inner dimensions {k_a} and {k_b} differ)")
    batch_a, batch_b = a_shape[:-2], b_shape[:-2]
    for x, y in zip(reversed(batch_a), reversed(batch_b)):
        if x != y and x != 1 and y != 1:
            raise shapes_error("matmul", a_shape, b_shape, why="have batch dimensions that cannot be broadcast")


def product(a, b):
    """a @ b in the operands' dtype. NumPy's bfloat16 (ml_dtypes) matmul accumulates in float32 and
    returns float32; rounding that once to bfloat16 is what torch's CPU kernels give. (Gradients need
    no such step: the engine casts each one to its input's dtype.)"""
    out = a @ b
    return out if out.dtype == a.dtype else out.astype(a.dtype)


class MatMul(Function):
    """Y = A @ B;  dL/dA = G @ B^T,  dL/dB = A^T @ G.

    Vectors are lifted to matrices first (a as a row, b as a column) and the gradient dropped
    back; batch dimensions broadcast, and the engine sums the gradient over them. When B is a
    plain matrix shared by a batch of A, dL/dB is one matrix product over the flattened batch.
    """

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad
        ctx.a, ctx.b, ctx.ndims = (a if need_b else None), (b if need_a else None), (a.ndim, b.ndim)
        return product(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.a, ctx.b
        a_ndim, b_ndim = ctx.ndims
        need_a, need_b = ctx.needs_input_grad
        if a_ndim == 1 and b_ndim == 1:
            return (g * b if need_a else None), (g * a if need_b else None)
        xp = array_module(g)
        if a_ndim == 1:
            g = xp.expand_dims(g, -2)
        if b_ndim == 1:
            g = xp.expand_dims(g, -1)
        ga = gb = None
        if need_a:
            b2 = b[:, None] if b_ndim == 1 else b
            ga = g @ b2.swapaxes(-1, -2)
            if a_ndim == 1:
                ga = ga.reshape(ga.shape[:-2] + (ga.shape[-1],)) if ga.ndim > 2 else ga.reshape(-1)
        if need_b:
            a2 = a[None, :] if a_ndim == 1 else a
            if b_ndim <= 2 and a2.ndim > 2:
                k = a2.shape[-1]
                gb = a2.reshape(-1, k).T @ g.reshape(-1, g.shape[-1])
            else:
                gb = a2.swapaxes(-1, -2) @ g
            if b_ndim == 1:
                gb = gb[..., 0]
        return ga, gb


class Addmm(Function):
    """Y = beta * C + alpha * (A @ B) for matrices A (n, k), B (k, p) and C broadcastable to (n, p);
    with beta = 0, C is ignored (its nan and inf too, as in torch).

    dL/dC = beta * G (the engine sums it back to C's shape),  dL/dA = alpha * G @ B^T,
    dL/dB = alpha * A^T @ G."""

    @staticmethod
    def forward(ctx, c, a, b, beta, alpha):
        need_a, need_b = ctx.needs_input_grad[1:3]
        ctx.a, ctx.b, ctx.beta, ctx.alpha = (a if need_b else None), (b if need_a else None), beta, alpha
        out = product(a, b)
        if alpha != 1:
            out *= alpha
        if beta:
            out = out + (c if beta == 1 else beta * c)
        return out

    @staticmethod
    def backward(ctx, g):
        need_c, need_a, need_b = ctx.needs_input_grad[:3]
        alpha = ctx.alpha
        scaled = g if alpha == 1 else g * alpha
        grad_c = (g if ctx.beta == 1 else g * ctx.beta) if need_c else None
        grad_a = scaled @ ctx.b.swapaxes(-1, -2) if need_a else None
        grad_b = ctx.a.swapaxes(-1, -2) @ scaled if need_b else None
        return grad_c, grad_a, grad_b, None, None


class Baddbmm(Addmm):
    """Y = beta * C + alpha * (A @ B) for batches of matrices A (b, n, k), B (b, k, p): Addmm's
    forward and backward, batched."""
