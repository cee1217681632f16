"""Layer normalization over the last axis, forward and backward, in NumPy (or CuPy) over row blocks.

    layernorm_forward(x, w, b, eps)            x (..., C), w, b (C,) -> (out, mean (...), rstd (...))
    layernorm_backward(dout, x, w, mean, rstd) -> (dx, dw, db)

With xhat = (x - mean) rstd and gh = dout * w, per row: dx = rstd (gh - mean(gh) - xhat mean(gh xhat)),
dw = sum over rows of dout * xhat, db = sum over rows of dout (kernels/reference.py derives it).
Each block of rows is read once per pass; xhat is recomputed from x, mean and rstd in backward.
"""
from ..shapes import check_layernorm_backward, check_layernorm_forward
from .arrays import array_module, column_sums, row_blocks, row_sums


def layernorm_forward(x, w, b, eps=1e-5):
    check_layernorm_forward("layernorm_forward", x, w, b)
    xp = array_module(x)
    width = x.shape[-1]
    rows_of_x = x.reshape(-1, width)
    y = xp.empty(rows_of_x.shape, x.dtype)
    mean, rstd = xp.empty(rows_of_x.shape[0], x.dtype), xp.empty(rows_of_x.shape[0], x.dtype)
    for rows, _ in row_blocks(rows_of_x.shape[0], width, xp):
        out = y[rows]
        mu = row_sums(rows_of_x[rows]) / width
        xp.subtract(rows_of_x[rows], mu[:, None], out=out)
        r = 1 / xp.sqrt(xp.einsum("ij,ij->i", out, out) / width + x.dtype.type(eps))
        out *= r[:, None]
        out *= w
        out += b
        mean[rows], rstd[rows] = mu, r
    return y.reshape(x.shape), mean.reshape(x.shape[:-1]), rstd.reshape(x.shape[:-1])


def layernorm_backward(dout, x, w, mean, rstd):
    check_layernorm_backward("layernorm_backward", dout, x, w, mean, rstd)
    xp = array_module(x)
    width = x.shape[-1]
    x2, g2 = x.reshape(-1, width), dout.reshape(-1, width)
    mean, rstd = mean.reshape(-1), rstd.reshape(-1)
    dx = xp.empty(x2.shape, x.dtype)
    dw, db = xp.zeros(width, x.dtype), xp.zeros(width, x.dtype)
    for rows, (xhat, gh) in row_blocks(x2.shape[0], width, xp, x.dtype, 2):
        g, r = g2[rows], rstd[rows, None]
        xp.subtract(x2[rows], mean[rows, None], out=xhat)
        xhat *= r
        dw += xp.einsum("ij,ij->j", g, xhat)
        db += column_sums(g)
        xp.multiply(g, w, out=gh)
        out = dx[rows]
        xp.subtract(gh, (row_sums(gh) / width)[:, None], out=out)
        xhat *= xp.einsum("ij,ij->i", gh, xhat)[:, None] / width
        out -= xhat
        out *= r
    return dx.reshape(x.shape), dw, db
