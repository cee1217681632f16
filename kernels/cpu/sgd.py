"""SGD's parameter step p <- p - lr * g, in place, in one pass on the CPU with Numba.

The NumPy entry (kernels/numpy/sgd.py) writes lr * g to a temporary and subtracts it: two passes
over memory and two roundings. This reads p and g once, writes p once, and rounds as torch does:
torch's p.add_(g, alpha=-lr) is one fused multiply-add per element (its vectorized CPU kernel calls
fmadd), fma(-lr, g, p) with -lr rounded to p's dtype, which vectormath.fma gives bit for bit
(compiled without fast-math: nothing else is contracted or reordered). In parallel over the
elements when the parameter fills more than one thread (threads.py).
"""
from numba import njit, prange

from ..shapes import check_sgd_update
from .threads import use_threads_for
from .vectormath import fma


@njit(parallel=True, cache=True)
def _sgd_update(p, g, minus_lr):
    for i in prange(p.shape[0]):
        p[i] = fma(minus_lr, g[i], p[i])


def sgd_update_(p, g, lr):
    """p <- fma(-lr, g, p) in place; p C-contiguous (it is updated as a flat vector), g of p's shape and dtype."""
    check_sgd_update("sgd_update_", p, g)
    if not p.flags.c_contiguous:
        raise ValueError(f"sgd_update_: p {p.shape} must be C-contiguous (it is updated in place as a flat vector)")
    use_threads_for(p.size)
    _sgd_update(p.reshape(-1), g.ravel(), p.dtype.type(-lr))
