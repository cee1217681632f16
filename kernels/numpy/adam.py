"""Adam and AdamW's parameter update, in place, in NumPy (or CuPy), with torch's formulas in torch's
order (torch.optim.Adam, foreach=False):

    g <- -g if maximize;  g <- g + wd p (L2 penalty)  or  p <- p (1 - lr wd) (decoupled: AdamW)
    m <- m + (1 - beta1) (g - m)                (torch's lerp: g - (g - m) beta1 for 1 - beta1 >= 0.5)
    v <- beta2 v + (1 - beta2) g^2
    p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    adam_update_(p, g, m, v, lr, beta1, beta2, eps, weight_decay, decoupled, maximize, step)

`step` is t after this step's increment. amsgrad (v_hat = max(v_hat, v) in the denominator) is
the optimizer's: it calls the two halves, update_moments_ and apply_step_, around its maximum.
"""
from .arrays import array_module


def adam_update_(p, g, m, v, lr, beta1, beta2, eps, weight_decay, decoupled, maximize, step):
    tmp = array_module(p).empty_like(p)
    g = update_moments_(p, g, m, v, lr, beta1, beta2, weight_decay, decoupled, maximize, tmp)
    apply_step_(p, m, v, lr, beta1, beta2, eps, step, tmp)


def update_moments_(p, g, m, v, lr, beta1, beta2, weight_decay, decoupled, maximize, tmp):
    """The weight decay (into p or g) and the moments m, v, in place; returns the gradient used."""
    xp = array_module(p)
    if maximize:
        g = -g
    if weight_decay != 0:
        if decoupled:
            p *= 1 - lr * weight_decay
        else:
            g = g + weight_decay * p
    lerp_(m, g, 1 - beta1, tmp)
    v *= beta2
    xp.multiply(g, g, out=tmp)
    tmp *= 1 - beta2
    v += tmp
    return g


def apply_step_(p, m, v, lr, beta1, beta2, eps, step, tmp):
    """p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps), in place."""
    xp = array_module(p)
    step_size = lr / (1 - beta1 ** step)
    denom = xp.sqrt(v, out=tmp)
    denom /= (1 - beta2 ** step) ** 0.5
    denom += eps
    update = xp.divide(m, denom, out=tmp)
    update *= -step_size
    p += update


def lerp_(start, end, weight, tmp):
    """start <- start + weight * (end - start), in place, with torch's two formulas (the one
    for weight >= 0.5 is exact at weight = 1). `tmp` is scratch space shaped like start."""
    xp = array_module(start)
    xp.subtract(end, start, out=tmp)
    if abs(weight) < 0.5:
        tmp *= weight
        start += tmp
    else:
        tmp *= 1 - weight
        xp.subtract(end, tmp, out=start)
