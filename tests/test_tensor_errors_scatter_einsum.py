"""Bad input to the scatter, window, product, contraction and distance ops raises what torch raises
(the same exception class), and where torch's message says what went wrong, its words."""
import re

import pytest

import tinytorch

torch = pytest.importorskip("torch")


def X(m):
    return m.ones(2, 3)


def IDX(m):
    return m.tensor([[0, 1, 0]])


MISUSES = {
    "scatter_index_dtype": lambda m: X(m).scatter(0, IDX(m).float(), X(m)),
    "scatter_index_too_big": lambda m: X(m).scatter(1, m.zeros(3, 3, dtype=m.long), m.ones(3, 3)),
    "scatter_index_out_of_range": lambda m: X(m).scatter(0, IDX(m) + 2, X(m)),
    "scatter_negative_index": lambda m: X(m).scatter(0, -IDX(m) - 1, X(m)),
    "scatter_src_dtype": lambda m: X(m).scatter(0, IDX(m), X(m).double()),
    "scatter_bad_reduce": lambda m: X(m).scatter(0, IDX(m), X(m), reduce="max"),
    "scatter_reduce_bad_reduce": lambda m: X(m).scatter_reduce(0, IDX(m), X(m), "maximum"),
    "scatter_add_ndim": lambda m: X(m).scatter_add(0, m.tensor([0, 1]), X(m)),
    "index_add_source_shape": lambda m: X(m).index_add(0, m.tensor([0]), X(m)),
    "index_add_out_of_range": lambda m: X(m).index_add(0, m.tensor([2]), m.ones(1, 3)),
    "narrow_too_long": lambda m: X(m).narrow(1, 2, 2),
    "narrow_start": lambda m: X(m).narrow(1, -4, 1),
    "unfold_too_big": lambda m: X(m).unfold(1, 4, 1),
    "unfold_step": lambda m: X(m).unfold(1, 2, 0),
    "diagonal_same_dims": lambda m: X(m).diagonal(0, 1, 1),
    "cumprod_dim": lambda m: X(m).cumprod(2),
    "cummax_dim": lambda m: X(m).cummax(-3),
    "lerp_dtype": lambda m: X(m).lerp(X(m).double(), 0.5),
    "lerp_shapes": lambda m: X(m).lerp(m.ones(3, 2), 0.5),
    "addmm_inner": lambda m: m.addmm(m.ones(2, 2), X(m), X(m)),
    "addmm_not_matrix": lambda m: m.addmm(m.ones(2), m.ones(2), m.ones(2, 2)),
    "addmm_input_shape": lambda m: m.addmm(m.ones(3, 3), X(m), X(m).t()),
    "baddbmm_batches": lambda m: m.baddbmm(m.ones(2, 2, 2), m.ones(2, 2, 3), m.ones(3, 3, 2)),
    "outer_2d": lambda m: m.outer(X(m), m.ones(3)),
    "tensordot_sizes": lambda m: m.tensordot(X(m), X(m), dims=([1], [0])),
    "tensordot_lengths": lambda m: m.tensordot(X(m), X(m), dims=([0, 1], [0])),
    "einsum_too_many_operands": lambda m: m.einsum("ij->i", X(m), X(m)),
    "einsum_too_few_operands": lambda m: m.einsum("ij,jk->ik", X(m)),
    "einsum_subscripts": lambda m: m.einsum("ijk->i", X(m)),
    "einsum_output_unknown": lambda m: m.einsum("ij->ix", X(m)),
    "einsum_output_repeated": lambda m: m.einsum("ij->ii", X(m)),
    "einsum_diagonal_sizes": lambda m: m.einsum("ii->i", X(m)),
    "einsum_broadcast": lambda m: m.einsum("ij,ij->ij", X(m), m.ones(3, 3)),
    "einsum_dtypes": lambda m: m.einsum("ij,jk->ik", X(m), X(m).t().double()),
    "cdist_columns": lambda m: m.cdist(X(m), m.ones(2, 4)),
    "cdist_1d": lambda m: m.cdist(m.ones(3), m.ones(3)),
    "cdist_negative_p": lambda m: m.cdist(X(m), X(m), p=-1.0),
    "cdist_int": lambda m: m.cdist(X(m).long(), X(m).long()),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", MISUSES)
def test_misuse_raises_torch_exception_class(name):
    misuse = MISUSES[name]
    with pytest.raises(Exception) as from_torch:
        misuse(torch)
    with pytest.raises(from_torch.type):
        misuse(tinytorch)


TORCH_WORDS = {  # (misuse, words of torch's message that tinytorch's must contain too)
    "scatter_index_out_of_range": (MISUSES["scatter_index_out_of_range"],
                                   "index 2 is out of bounds for dimension 0 with size 2"),
    "unfold_too_big": (MISUSES["unfold_too_big"], "maximum size for tensor at dimension 1 is 3 but size is 4"),
    "narrow_too_long": (MISUSES["narrow_too_long"], "start (2) + length (2) exceeds dimension size (3)."),
    "einsum_output_unknown": (MISUSES["einsum_output_unknown"],
                              "einsum(): output subscript x does not appear in the equation for any input operand"),
    "einsum_diagonal_sizes": (MISUSES["einsum_diagonal_sizes"],
                              "einsum(): subscript i is repeated for operand 0 but the sizes don't match, 3 != 2"),
    "einsum_too_few_operands": (MISUSES["einsum_too_few_operands"],
                                "einsum(): fewer operands were provided than specified in the equation"),
    "cdist_columns": (MISUSES["cdist_columns"], "X1 and X2 must have the same number of columns. X1: 3 X2: 4"),
    "diagonal_same_dims": (MISUSES["diagonal_same_dims"], "diagonal dimensions cannot be identical 1, 1"),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", TORCH_WORDS)
def test_message_has_torchs_words(name):
    misuse, words = TORCH_WORDS[name]
    for m in (torch, tinytorch):
        with pytest.raises(Exception, match=re.escape(words)):
            misuse(m)
