"""NAdam: Adam with Nesterov momentum (Dozat 2016), as torch computes it."""
import numpy as np

from ..device import array_module
from ..kernels.numpy.adam import update_moments_
from ..tensor import Tensor
from .optimizer import Optimizer, check_betas, check_nonnegative, refuse_unsupported


class NAdam(Optimizer):
    """torch.optim.NAdam. At step t, with g the gradient (negated if maximize) and psi = momentum_decay:

        p <- p * (1 - lr * weight_decay)  (decoupled_weight_decay)   or   g <- g + weight_decay * p
        mu_t = beta1 * (1 - 0.96^(t psi) / 2),   mu_{t+1} likewise,   P_t = mu_1 ... mu_t
        m <- m + (1 - beta1) * (g - m),   v <- beta2 * v + (1 - beta2) * g * g
        s = sqrt(v / (1 - beta2^t)) + eps
        p <- p - lr (1 - mu_t) / (1 - P_t) * g / s - lr mu_{t+1} / (1 - P_t mu_{t+1}) * m / s

    State per parameter: 'step' and 'mu_product' (P_t; float32 CPU scalar tensors, the product
    rounded to float32 at each step as torch's), 'exp_avg' (m), 'exp_avg_sq' (v).
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        for what, value in (("learning rate", lr), ("epsilon value", eps), ("weight_decay value", weight_decay),
                            ("momentum_decay value", momentum_decay)):
            check_nonnegative(what, value)
        check_betas(betas)
        refuse_unsupported("NAdam", capturable=capturable, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def _update(self, group, param, state):
        p, g = param._data, param.grad._data
        xp = array_module(p)
        lr, (beta1, beta2), decay = group["lr"], group["betas"], group["momentum_decay"]
        if not state:
            state["step"] = Tensor._wrap(np.zeros((), np.float32))
            state["mu_product"] = Tensor._wrap(np.ones((), np.float32))
            state["exp_avg"] = Tensor._wrap(xp.zeros_like(p))
            state["exp_avg_sq"] = Tensor._wrap(xp.zeros_like(p))
        state["step"]._data += 1
        step = float(state["step"]._data)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * decay))
        mu_product = state["mu_product"]._data
        mu_product *= mu
        tmp = self._scratch_like(p)
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        g = update_moments_(p, g, m, v, lr, beta1, beta2, group["weight_decay"], group["decoupled_weight_decay"],
                            group["maximize"], tmp)
        denom = xp.divide(v, 1 - beta2 ** step, out=tmp)
        xp.sqrt(denom, out=denom)
        denom += group["eps"]
        product = float(mu_product)
        p += (-lr * (1.0 - mu) / (1.0 - product)) * (g / denom)
        p += ((-lr * mu_next) / (1.0 - product * mu_next)) * (m / denom)
