"""Adam and AdamW (Kingma & Ba 2015; Loshchilov & Hutter 2019), as torch computes them."""
import numpy as np

from .. import backends
from ..device import array_module
from ..kernels.numpy.adam import apply_step_, update_moments_
from ..tensor import Tensor
from .optimizer import Optimizer, check_betas, check_nonnegative, refuse_unsupported


class Adam(Optimizer):
    """torch.optim.Adam. At step t, with g the gradient (negated if maximize):

        p <- p * (1 - lr * weight_decay)        (decoupled_weight_decay: AdamW)
        g <- g + weight_decay * p               (otherwise: L2 penalty in the gradient)
        m <- m + (1 - beta1) * (g - m)          (torch's lerp)
        v <- beta2 * v + (1 - beta2) * g * g
        v_hat <- max(v_hat, v)                  (amsgrad; the denominator then uses v_hat)
        p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    State per parameter: 'step' (a float32 CPU scalar tensor), 'exp_avg' (m),
    'exp_avg_sq' (v) and, with amsgrad, 'max_exp_avg_sq'. Everything is updated in place, by
    the kernel adam_update_ (one pass with the Numba kernels) for a contiguous parameter without
    amsgrad, else by its NumPy halves around amsgrad's maximum. `foreach` and `fused` are
    accepted and ignored.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        check_nonnegative("learning rate", lr)
        check_nonnegative("epsilon value", eps)
        check_nonnegative("weight_decay value", weight_decay)
        check_betas(betas)
        refuse_unsupported(type(self).__name__, capturable=capturable, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _update(self, group, param, state):
        p, g = param._data, param.grad._data
        xp = array_module(p)
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if not state:
            state["step"] = Tensor._wrap(np.zeros((), np.float32))
            state["exp_avg"] = Tensor._wrap(xp.zeros_like(p))
            state["exp_avg_sq"] = Tensor._wrap(xp.zeros_like(p))
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = Tensor._wrap(xp.zeros_like(p))
        state["step"]._data += 1
        step = float(state["step"]._data)
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        args = (lr, beta1, beta2, eps, wd, group["decoupled_weight_decay"], group["maximize"], step)
        if not group["amsgrad"] and p.flags.c_contiguous and g.flags.c_contiguous:
            backends.kernel("adam_update_", p)(p, g, m, v, *args)
            return
        tmp = self._scratch_like(p)
        update_moments_(p, g, m, v, lr, beta1, beta2, wd, group["decoupled_weight_decay"], group["maximize"], tmp)
        if group["amsgrad"]:
            v = xp.maximum(state["max_exp_avg_sq"]._data, v, out=state["max_exp_avg_sq"]._data)
        apply_step_(p, m, v, lr, beta1, beta2, eps, step, tmp)


class AdamW(Adam):
    """torch.optim.AdamW: Adam with decoupled weight decay p <- p * (1 - lr * weight_decay),
    applied before the moment update (default weight_decay 1e-2)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
