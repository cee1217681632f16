"""Adagrad (Duchi, Hazan & Singer 2011), as torch computes it."""
import numpy as np

from ..device import array_module
from ..tensor import Tensor
from .optimizer import Optimizer, check_nonnegative, refuse_unsupported


class Adagrad(Optimizer):
    """torch.optim.Adagrad. At step t, with g the gradient (negated if maximize):

        g <- g + weight_decay * p
        lr_t = lr / (1 + (t - 1) * lr_decay)
        s <- s + g * g
        p <- p - lr_t * g / (sqrt(s) + eps)

    State per parameter, created with the optimizer (as torch's): 'step' (a float32 CPU scalar
    tensor) and 'sum' (s), which starts at initial_accumulator_value.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        for what, value in (("learning rate", lr), ("lr_decay value", lr_decay), ("weight_decay value", weight_decay),
                            ("initial_accumulator_value value", initial_accumulator_value), ("epsilon value", eps)):
            check_nonnegative(what, value)
        refuse_unsupported("Adagrad", differentiable=differentiable)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, maximize=maximize))
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["step"] = Tensor._wrap(np.zeros((), np.float32))
                self.state[p]["sum"] = Tensor._wrap(array_module(p._data).full_like(
                    p._data, group["initial_accumulator_value"]))

    def _update(self, group, param, state):
        p, g = param._data, param.grad._data
        xp = array_module(p)
        state["step"]._data += 1
        step = float(state["step"]._data)
        if group["maximize"]:
            g = -g
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        tmp = self._scratch_like(p)
        total = state["sum"]._data
        total += xp.multiply(g, g, out=tmp)
        std = xp.sqrt(total, out=tmp)
        std += group["eps"]
        update = xp.divide(g, std, out=std)
        update *= clr
        p -= update
