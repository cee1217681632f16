"""RAdam: Adam with the variance of its adaptive rate rectified (Liu et al. 2020), as torch computes it."""
import numpy as np

from ..device import array_module
from ..kernels.numpy.adam import update_moments_
from ..tensor import Tensor
from .optimizer import Optimizer, check_betas, check_nonnegative, refuse_unsupported


class RAdam(Optimizer):
    """torch.optim.RAdam. At step t, with g the gradient (negated if maximize):

        p <- p * (1 - lr * weight_decay)  (decoupled_weight_decay)   or   g <- g + weight_decay * p
        m <- m + (1 - beta1) * (g - m),   v <- beta2 * v + (1 - beta2) * g * g
        rho_inf = 2 / (1 - beta2) - 1,    rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        p <- p - lr * m / (1 - beta1^t) * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r_t     (rho_t > 5)
        p <- p - lr * m / (1 - beta1^t)                                               (otherwise)
        with r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t)).

    State per parameter: 'step' (a float32 CPU scalar tensor), 'exp_avg' (m), 'exp_avg_sq' (v).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        for what, value in (("learning rate", lr), ("epsilon value", eps), ("weight_decay value", weight_decay)):
            check_nonnegative(what, value)
        check_betas(betas)
        refuse_unsupported("RAdam", capturable=capturable, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))

    def _update(self, group, param, state):
        p, g = param._data, param.grad._data
        xp = array_module(p)
        lr, (beta1, beta2) = group["lr"], group["betas"]
        if not state:
            state["step"] = Tensor._wrap(np.zeros((), np.float32))
            state["exp_avg"] = Tensor._wrap(xp.zeros_like(p))
            state["exp_avg_sq"] = Tensor._wrap(xp.zeros_like(p))
        state["step"]._data += 1
        step = float(state["step"]._data)
        tmp = self._scratch_like(p)
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        update_moments_(p, g, m, v, lr, beta1, beta2, group["weight_decay"], group["decoupled_weight_decay"],
                        group["maximize"], tmp)
        bias_correction1, bias_correction2 = 1 - beta1 ** step, 1 - beta2 ** step
        update = xp.divide(m, bias_correction1, out=tmp)
        update *= lr
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if rho_t > 5.0:
            adaptive = xp.sqrt(v)
            adaptive += group["eps"]
            xp.reciprocal(adaptive, out=adaptive)
            adaptive *= bias_correction2 ** 0.5
            update *= adaptive
            update *= ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        p -= update
