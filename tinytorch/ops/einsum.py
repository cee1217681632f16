"""Einstein summation: torch.einsum's equations parsed into one label per dim, and the op.

    out[o] = sum over the labels missing from o of  prod_k A_k[l_k]

where l_k are operand k's labels and o the output's. Labels of size 1 broadcast against the same
label elsewhere, and an ellipsis stands for the same dims in every operand, broadcast from the
right (as torch does).
"""
import string

from ..autograd import Function
from ..device import array_module


def parse(equation, shapes):
    """(labels of each operand, labels of the output), one letter per dim, the ellipsis replaced
    by letters the equation does not use. Raises torch's errors for a bad equation."""
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) < len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    if len(terms) > len(shapes):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    spare = [c for c in string.ascii_letters if c not in equation]
    ellipsis_dims = [_ellipsis_dims(term, len(shape), k) for k, (term, shape) in enumerate(zip(terms, shapes))]
    widest = max(ellipsis_dims, default=0)
    if widest > len(spare):
        raise RuntimeError(f"einsum(): too many dimensions under the ellipsis ({widest})")
    covered = "".join(spare[:widest])
    inputs = [term.replace("...", covered[widest - n:]) for term, n in zip(terms, ellipsis_dims)]
    if not arrow:
        once = sorted(c for c in set("".join(terms)) if c != "." and "".join(terms).count(c) == 1)
        return inputs, covered + "".join(once)
    _check_term(rhs, "output")
    output = rhs.replace("...", covered)
    for c in output:
        if output.count(c) > 1:
            raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
        if not any(c in term for term in inputs):
            raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input operand")
    return inputs, output


def _check_term(term, which):
    if term.count("...") > 1 or "." in term.replace("...", "", 1):
        raise RuntimeError(f"einsum(): found '.' for {which} that is not part of any ellipsis ('...')")
    for c in term.replace("...", ""):
        if c not in string.ascii_letters:
            raise RuntimeError(f"einsum(): invalid subscript given at index {term.index(c)} in the equation string, "
                               "subscripts must be in [a-zA-Z]")


def _ellipsis_dims(term, ndim, k):
    """How many of operand k's dims its ellipsis covers."""
    _check_term(term, f"operand {k}")
    named = len(term.replace("...", ""))
    if "..." not in term and named != ndim or named > ndim:
        why = "" if "..." in term else " and no ellipsis was given"
        raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) does not match the number "
                           f"of dimensions ({ndim}) for operand {k}{why}")
    return ndim - named


def label_sizes(inputs, shapes):
    """{label: size}: sizes of one label must agree, or be 1 (broadcast), across operands, and
    agree exactly when it repeats within one operand (a diagonal)."""
    sizes = {}
    for k, (labels, shape) in enumerate(zip(inputs, shapes)):
        own = {}
        for c, n in zip(labels, shape):
            if own.setdefault(c, n) != n:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {k} but the sizes don't match, "
                                   f"{n} != {own[c]}")
            if sizes.get(c, 1) not in (1, n) and n != 1:
                raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes: subscript {c} has sizes "
                                   f"{sizes[c]} and {n}")
            sizes[c] = max(sizes.get(c, 1), n)
    return sizes


class Einsum(Function):
    """out = einsum(inputs -> output) of the operands, contracted pairwise through BLAS where it
    can be (NumPy's and CuPy's einsum with optimize=True: tensordot/matmul).

    d out[o] / d A_k[l_k] = sum over the labels in neither o nor l_k of prod_{m != k} A_m[l_m], so

        dL/dA_k = einsum(g, A_m for m != k  ->  l_k),

    the same kind of sum. Two details: a label of A_k found in no other operand and not in the
    output was summed over A_k alone, so every element along it gets the same gradient (a
    broadcast); and a label repeated in l_k (a diagonal, 'ii->i') receives the gradient on that
    diagonal only, zeros elsewhere. Operands are broadcast to the labels' sizes first; the
    engine sums each gradient back to its operand's shape.
    """

    @staticmethod
    def forward(ctx, inputs, output, *operands):
        xp = array_module(operands[0])
        sizes = label_sizes(inputs, [a.shape for a in operands])
        full = [xp.broadcast_to(a, tuple(sizes[c] for c in labels)) for a, labels in zip(operands, inputs)]
        out = xp.einsum(f"{','.join(inputs)}->{output}", *full, optimize=True)
        if any(xp.may_share_memory(out, a) for a in operands):  # a permutation alone: not a view here
            out = out.copy()
        ctx.labels, ctx.out_labels, ctx.sizes, ctx.full = inputs, output, sizes, tuple(full)
        return out

    @staticmethod
    def backward(ctx, g):
        grads = [None, None]
        for k, need in enumerate(ctx.needs_input_grad[2:]):
            grads.append(_operand_gradient(ctx, g, k) if need else None)
        return tuple(grads)


def _operand_gradient(ctx, g, k):
    xp = array_module(g)
    inputs, sizes, full = ctx.labels, ctx.sizes, ctx.full
    others = [m for m in range(len(inputs)) if m != k]
    seen = ctx.out_labels + "".join(inputs[m] for m in others)
    unique = "".join(dict.fromkeys(inputs[k]))
    reached = "".join(c for c in unique if c in seen)
    spec = ",".join([ctx.out_labels] + [inputs[m] for m in others]) + "->" + reached
    grad = xp.einsum(spec, g, *[full[m] for m in others], optimize=True)
    if reached != unique:  # labels summed in A_k alone: the same gradient along them
        grad = xp.broadcast_to(grad.reshape([sizes[c] if c in reached else 1 for c in unique]),
                               [sizes[c] for c in unique])
    if unique == inputs[k]:
        return grad
    placed = xp.zeros(full[k].shape, dtype=g.dtype)  # a repeated label: the gradient goes on the diagonal
    strides = [sum(s for label, s in zip(inputs[k], placed.strides) if label == c) for c in unique]
    xp.lib.stride_tricks.as_strided(placed, grad.shape, strides)[...] = grad
    return placed
