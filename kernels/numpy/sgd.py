"""SGD's parameter step, in place, in NumPy (or CuPy):

    sgd_update_(p, g, lr)       p <- p - lr * g

g is the step's direction after the optimizer's weight decay, momentum and maximize
(tinytorch/optim/sgd.py). Two passes: the product lr * g into a temporary, then the subtraction,
each rounded (torch rounds p + (-lr) g once: its add_ with alpha is a fused multiply-add, which
kernels/cpu/sgd.py reproduces).
"""
from ..shapes import check_sgd_update
from .arrays import array_module


def sgd_update_(p, g, lr):
    check_sgd_update("sgd_update_", p, g)
    p -= array_module(p).multiply(g, lr)
