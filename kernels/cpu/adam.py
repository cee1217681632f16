"""Adam and AdamW's parameter update, in place, in one pass on the CPU with Numba.

The NumPy version (kernels/numpy/adam.py, the oracle) makes about ten passes over each
parameter-sized array per step (the lerp, the square, the square root, the division...),
each a read and a write of memory; this kernel reads p, g, m, v once and writes p, m, v once,
with torch's formulas in torch's order (torch.optim.Adam, foreach=False):

    g <- -g if maximize;  g <- g + wd p (L2 penalty)  or  p <- p (1 - lr wd) (decoupled: AdamW)
    m <- m + (1 - beta1) (g - m)                (torch's lerp; for 1 - beta1 >= 0.5 it computes
                                                 g - (g - m) beta1, exact at weight 1)
    v <- beta2 v + (1 - beta2) g^2
    p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

amsgrad is not here (the optimizer runs its NumPy code for it).
"""
import math

from numba import njit, prange

from .target import FASTMATH
from .threads import use_threads_for


@njit(fastmath=FASTMATH - {"afn", "arcp"}, parallel=True, cache=True)
def _adam_update(p, g, m, v, lr, beta1, beta2, eps, weight_decay, decoupled, maximize, step):
    t = p.dtype.type
    decay = t(1 - lr * weight_decay) if decoupled else t(1)
    l2 = t(0) if decoupled else t(weight_decay)
    sign = t(-1) if maximize else t(1)
    weight = t(1 - beta1)
    big_weight = 1 - beta1 >= 0.5
    b1, b2, one_minus_b2 = t(beta1), t(beta2), t(1 - beta2)
    step_size = t(lr / (1 - beta1 ** step))
    bias2_sqrt = t(math.sqrt(1 - beta2 ** step))
    epsilon = t(eps)
    for i in prange(p.shape[0]):
        pi = p[i] * decay
        gi = sign * g[i] + l2 * pi
        mi = gi - (gi - m[i]) * b1 if big_weight else m[i] + weight * (gi - m[i])
        vi = b2 * v[i] + one_minus_b2 * gi * gi
        m[i] = mi
        v[i] = vi
        p[i] = pi - step_size * mi / (math.sqrt(vi) / bias2_sqrt + epsilon)


def adam_update_(p, g, m, v, lr, beta1, beta2, eps, weight_decay, decoupled, maximize, step):
    """One Adam step on a parameter, in place: p, m, v updated from the gradient g.

    p, g, m, v: contiguous arrays of one shape and floating dtype (they are read as flat
    vectors); step: the step number t after this step's increment (1 on the first step).
    """
    if not (p.shape == g.shape == m.shape == v.shape) or len({a.dtype for a in (p, g, m, v)}) != 1:
        raise ValueError(f"adam_update_: p, g, m, v must share one shape and dtype, got "
                         f"{[(a.shape, str(a.dtype)) for a in (p, g, m, v)]}")
    if not all(a.flags.c_contiguous for a in (p, g, m, v)):
        raise ValueError("adam_update_: p, g, m, v must be C-contiguous (they are updated in place as flat vectors)")
    use_threads_for(p.size)
    _adam_update(p.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1), float(lr), float(beta1), float(beta2),
                 float(eps), float(weight_decay), bool(decoupled), bool(maximize), float(step))
