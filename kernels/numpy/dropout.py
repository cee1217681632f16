"""Dropout's product by its noise, forward and backward, in NumPy (or CuPy):

    masked_scale(x, keep, scale)        x * (scale where keep, else 0)

torch's dropout multiplies x by noise = bernoulli_(1 - p) / (1 - p), whose entries are scale =
1 / (1 - p) (rounded in x's dtype) where kept and 0 elsewhere; its backward multiplies the gradient
by the same noise. A product, not a selection: a dropped inf or NaN gives NaN (inf * 0), as in torch.
keep: bool, x's shape.
"""
import numpy as np

from ..shapes import check_masked_scale


def masked_scale(x, keep, scale):
    check_masked_scale("masked_scale", x, keep)
    with np.errstate(invalid="ignore"):  # a dropped inf: NaN by definition, not a warning
        return x * (keep * scale)
