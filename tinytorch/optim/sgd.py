"""Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay."""
from .. import backends
from ..kernels.numpy.sgd import sgd_update_
from ..tensor import Tensor
from .optimizer import Optimizer, check_nonnegative, refuse_unsupported


class SGD(Optimizer):
    """torch.optim.SGD. With g the gradient (negated if maximize):

        g <- g + weight_decay * p
        b <- g (first step),  b <- momentum * b + (1 - dampening) * g (later steps)
        g <- g + momentum * b (nesterov)  or  g <- b
        p <- p - lr * g       (kernel sgd_update_: with the Numba kernels, one pass rounded as torch's)

    State per parameter: 'momentum_buffer' (when momentum != 0).
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        check_nonnegative("learning rate", lr)
        check_nonnegative("momentum value", momentum)
        check_nonnegative("weight_decay value", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening")
        refuse_unsupported("SGD", differentiable=differentiable)
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))

    def _update(self, group, param, state):
        p, g = param._data, param.grad._data
        momentum, dampening = group["momentum"], group["dampening"]
        if group["maximize"]:
            g = -g
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                state["momentum_buffer"] = buf = Tensor._wrap(g.copy())
            else:
                b = buf._data
                b *= momentum
                b += g if dampening == 0 else (1 - dampening) * g
            g = g + momentum * buf._data if group["nesterov"] else buf._data
        update = backends.kernel("sgd_update_", p) if p.flags.c_contiguous else sgd_update_
        update(p, g, group["lr"])
