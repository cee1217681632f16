"""Softmax along the last axis, forward and backward, in NumPy (or CuPy) over cache-sized row blocks.

    softmax_forward(x)            x (..., C) -> out = exp(x - c) / sum exp(x - c), c >= the row's max
    softmax_backward(dout, out)   -> dx = out * (dout - sum(dout * out))

The forward shifts a block of rows by one shared max (arrays.exp_rows) and writes straight into
the output; a row of -inf gives nan (0/0), as torch's softmax does.
"""
import numpy as np

from ..shapes import check_softmax_backward, check_softmax_forward
from .arrays import array_module, exp_rows, row_blocks


def softmax_forward(x):
    check_softmax_forward("softmax_forward", x)
    xp = array_module(x)
    flat = x.reshape(-1, x.shape[-1])
    y = xp.empty(flat.shape, x.dtype)
    for rows, _ in row_blocks(flat.shape[0], flat.shape[1], xp):
        _, total = exp_rows(flat[rows], y[rows])
        with np.errstate(divide="ignore", invalid="ignore"):
            y[rows] *= (1 / total)[:, None]
    return y.reshape(x.shape)


def softmax_backward(dout, out):
    check_softmax_backward("softmax_backward", dout, out)
    xp = array_module(out)
    g, y = dout.reshape(-1, out.shape[-1]), out.reshape(-1, out.shape[-1])
    dx = xp.empty(y.shape, y.dtype)
    for rows, _ in row_blocks(y.shape[0], y.shape[1], xp):
        d = dx[rows]
        xp.subtract(g[rows], xp.einsum("ij,ij->i", g[rows], y[rows])[:, None], out=d)
        d *= y[rows]
    return dx.reshape(out.shape)
