"""Gradient clipping and flat-vector views of parameters (torch.nn.utils); `rnn`: padded and packed
sequences."""
import math

from ...autograd import no_grad
from ...creation import tensor
from ...device import array_module
from ...functions import cat
from ...tensor import Tensor
from . import rnn  # noqa: F401  (torch.nn.utils.rnn)


def _as_list(parameters):
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _vector_norm(a, p):
    """||a||_p of a raw array viewed as one vector (p = inf gives max |a|)."""
    xp = array_module(a)
    flat = a.reshape(-1)
    if p == math.inf:
        return xp.abs(flat).max() if flat.size else xp.zeros((), a.dtype)
    if p == 2:
        return xp.sqrt(xp.dot(flat, flat))
    if p == 1:
        return xp.abs(flat).sum()
    return (xp.abs(flat) ** p).sum() ** (1.0 / p)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients together so that their joint norm is at most max_norm.

    total = || (||g_1||, ..., ||g_k||) ||_p  (the p-norm of all gradients as one vector);
    every g is multiplied in place by min(1, max_norm / (total + 1e-6)).
    Returns `total` (before clipping) as a 0-d tensor of the gradients' dtype.
    """
    norm_type = float(norm_type)
    grads = [p.grad._data for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return tensor(0.0)
    xp = array_module(grads[0])
    norms = xp.stack([_vector_norm(g, norm_type).astype(grads[0].dtype) for g in grads])
    total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} for gradients is non-finite "
                           "(nan or inf), so it cannot be clipped; pass error_if_nonfinite=False to skip this check")
    real = total.dtype.type
    scale = xp.minimum(real(max_norm) / (total + real(1e-6)), real(1.0))
    for g in grads:
        g *= scale.astype(g.dtype)
    return Tensor._wrap(total)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        if p.grad is not None:
            g = p.grad._data
            array_module(g).clip(g, -clip_value, clip_value, out=g)


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated into one 1-D tensor (a copy)."""
    params = _as_list(parameters)
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D `vec` into the parameters (the inverse of the above)."""
    params = _as_list(parameters)
    needed = sum(p.numel() for p in params)
    if vec.dim() != 1 or vec.numel() != needed:
        raise ValueError(f"vector_to_parameters: expected a 1-D vector of {needed} elements, got shape {tuple(vec.shape)}")
    offset = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p.copy_(vec[offset:offset + n].reshape(p.shape))
            offset += n
