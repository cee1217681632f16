"""Adamax: Adam with the infinity norm (Kingma & Ba 2015, section 7), as torch computes it."""
import numpy as np

from ..device import array_module
from ..kernels.numpy.adam import lerp_
from ..tensor import Tensor
from .optimizer import Optimizer, check_betas, check_nonnegative, refuse_unsupported


class Adamax(Optimizer):
    """torch.optim.Adamax. At step t, with g the gradient (negated if maximize):

        g <- g + weight_decay * p
        m <- m + (1 - beta1) * (g - m)            (torch's lerp)
        u <- max(beta2 * u, |g| + eps)
        p <- p - lr / (1 - beta1^t) * m / u

    State per parameter: 'step' (a float32 CPU scalar tensor), 'exp_avg' (m), 'exp_inf' (u).
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        for what, value in (("learning rate", lr), ("epsilon value", eps), ("weight_decay value", weight_decay)):
            check_nonnegative(what, value)
        check_betas(betas)
        refuse_unsupported("Adamax", capturable=capturable, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def _update(self, group, param, state):
        p, g = param._data, param.grad._data
        xp = array_module(p)
        beta1, beta2 = group["betas"]
        if not state:
            state["step"] = Tensor._wrap(np.zeros((), np.float32))
            state["exp_avg"] = Tensor._wrap(xp.zeros_like(p))
            state["exp_inf"] = Tensor._wrap(xp.zeros_like(p))
        if group["maximize"]:
            g = -g
        state["step"]._data += 1
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        tmp = self._scratch_like(p)
        exp_avg, exp_inf = state["exp_avg"]._data, state["exp_inf"]._data
        lerp_(exp_avg, g, 1 - beta1, tmp)
        exp_inf *= beta2
        bound = xp.abs(g, out=tmp)
        bound += group["eps"]
        xp.maximum(exp_inf, bound, out=exp_inf)
        clr = group["lr"] / (1 - beta1 ** float(state["step"]._data))
        update = xp.divide(exp_avg, exp_inf, out=tmp)
        update *= clr
        p -= update
