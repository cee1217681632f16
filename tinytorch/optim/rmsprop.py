"""RMSprop (Hinton's lecture 6e; Graves 2013 for the centered form), as torch computes it."""
import numpy as np

from ..device import array_module
from ..kernels.numpy.adam import lerp_
from ..tensor import Tensor
from .optimizer import Optimizer, check_nonnegative, refuse_unsupported


class RMSprop(Optimizer):
    """torch.optim.RMSprop. At each step, with g the gradient (negated if maximize):

        g <- g + weight_decay * p
        v <- alpha * v + (1 - alpha) * g * g
        m_g <- m_g + (1 - alpha) * (g - m_g)          (centered; torch's lerp)
        s <- sqrt(v - m_g^2) + eps  (centered)   or   sqrt(v) + eps
        b <- momentum * b + g / s,  p <- p - lr * b   (momentum > 0)   or   p <- p - lr * g / s

    State per parameter: 'step' (a float32 CPU scalar tensor), 'square_avg' (v), and
    'momentum_buffer' (b, when momentum > 0), 'grad_avg' (m_g, when centered).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        for what, value in (("learning rate", lr), ("epsilon value", eps), ("momentum value", momentum),
                            ("weight_decay value", weight_decay), ("alpha value", alpha)):
            check_nonnegative(what, value)
        refuse_unsupported("RMSprop", capturable=capturable, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                                      weight_decay=weight_decay, maximize=maximize))

    def _update(self, group, param, state):
        p, g = param._data, param.grad._data
        xp = array_module(p)
        alpha, momentum = group["alpha"], group["momentum"]
        if not state:
            state["step"] = Tensor._wrap(np.zeros((), np.float32))
            state["square_avg"] = Tensor._wrap(xp.zeros_like(p))
            if momentum > 0:
                state["momentum_buffer"] = Tensor._wrap(xp.zeros_like(p))
            if group["centered"]:
                state["grad_avg"] = Tensor._wrap(xp.zeros_like(p))
        state["step"]._data += 1
        if group["maximize"]:
            g = -g
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        tmp = self._scratch_like(p)
        square_avg = state["square_avg"]._data
        square_avg *= alpha
        xp.multiply(g, g, out=tmp)
        tmp *= 1 - alpha
        square_avg += tmp
        if group["centered"]:
            grad_avg = state["grad_avg"]._data
            lerp_(grad_avg, g, 1 - alpha, tmp)
            avg = xp.multiply(grad_avg, grad_avg, out=tmp)
            xp.subtract(square_avg, avg, out=avg)
            xp.sqrt(avg, out=avg)
        else:
            avg = xp.sqrt(square_avg, out=tmp)
        avg += group["eps"]
        step = xp.divide(g, avg, out=avg)
        if momentum > 0:
            buf = state["momentum_buffer"]._data
            buf *= momentum
            buf += step
            xp.multiply(buf, group["lr"], out=step)
        else:
            step *= group["lr"]
        p -= step
