"""Bad input raises what torch raises (the same exception class, and where torch's message says
what went wrong, its words), and shape errors name the op and both shapes."""
import math
import re

import numpy as np
import pytest

import tinytorch

torch = pytest.importorskip("torch")


def X(m):
    return m.ones(2, 3)


MISUSES = {
    # shapes
    "add_broadcast": lambda m: X(m) + m.ones(3, 2),
    "mul_broadcast_scalar_side": lambda m: m.ones(4) * m.ones(2, 3),
    "where_broadcast": lambda m: m.where(m.ones(3, 3).bool(), X(m), X(m)),
    "masked_fill_shape": lambda m: X(m).masked_fill(m.ones(3, 3).bool(), 0.0),
    "inplace_broadcast": lambda m: m.ones(3).add_(m.ones(2, 3)),
    "matmul_inner": lambda m: X(m) @ m.ones(2, 3),
    "matmul_vectors": lambda m: m.ones(3) @ m.ones(4),
    "matmul_batch": lambda m: m.ones(2, 2, 3) @ m.ones(3, 3, 1),
    "matmul_0d": lambda m: m.tensor(1.0) @ X(m),
    "matmul_dtypes": lambda m: m.ones(2, 2, dtype=m.long) @ m.ones(2, 2),
    "cat_shapes": lambda m: m.cat([X(m), m.ones(3, 3)], 1),
    "cat_ndim": lambda m: m.cat([X(m), m.ones(3)]),
    "cat_dim_out_of_range": lambda m: m.cat([X(m), X(m)], 2),
    "stack_shapes": lambda m: m.stack([X(m), m.ones(3, 2)]),
    "stack_empty": lambda m: m.stack([]),
    "view_not_viewable": lambda m: X(m).t().view(6),
    "view_numel": lambda m: X(m).view(4),
    "reshape_numel": lambda m: X(m).reshape(5),
    "reshape_two_inferred": lambda m: X(m).reshape(-1, -1),
    "expand_size": lambda m: X(m).expand(3, 3),
    "expand_fewer_dims": lambda m: X(m).expand(3),
    "split_sections": lambda m: X(m).split([1, 1], dim=1),
    "chunk_zero": lambda m: X(m).chunk(0),
    "roll_mismatch": lambda m: X(m).roll((1, 1), 0),
    "repeat_fewer_dims": lambda m: X(m).repeat(2),
    "permute_duplicate": lambda m: X(m).permute(0, 0),
    "permute_length": lambda m: X(m).permute(0),
    "flatten_order": lambda m: m.ones(2, 3, 4).flatten(2, 1),
    "t_3d": lambda m: m.ones(2, 2, 2).t(),
    "tril_1d": lambda m: m.ones(3).tril(),
    "gather_index_shape": lambda m: X(m).gather(1, m.tensor([[0], [1], [0]])),
    "gather_index_dtype": lambda m: X(m).gather(1, m.tensor([[0.0]])),
    "topk_too_big": lambda m: X(m).topk(5),
    "topk_negative": lambda m: X(m).topk(-1),
    # reductions over nothing, and over dims torch refuses
    "max_empty_dim": lambda m: m.zeros(0, 3).max(0),
    "min_empty_dim": lambda m: m.zeros(3, 0).min(-1),
    "argmax_empty_dim": lambda m: m.zeros(0, 3).argmax(0),
    "argmin_empty": lambda m: m.zeros(0).argmin(),
    "amax_empty_dim": lambda m: m.zeros(0, 3).amax(0),
    "amin_empty_dims": lambda m: m.zeros(2, 0, 3).amin((0, 1)),
    "amax_empty_all": lambda m: m.zeros(0, 3).amax(),
    "norm_inf_empty": lambda m: m.zeros(0).norm(float("inf")),
    "logsumexp_empty_dims": lambda m: X(m).logsumexp(()),
    "logsumexp_dim_none": lambda m: X(m).logsumexp(None),
    "var_of_int": lambda m: m.tensor([1, 2]).var(),
    "std_of_bool": lambda m: m.tensor([True, False]).std(),
    "sum_dtype_str": lambda m: X(m).sum(dtype="float64"),
    # dims out of range: IndexError, as in torch
    "sum_dim": lambda m: X(m).sum(2),
    "sum_dims_tuple": lambda m: X(m).sum((0, 3)),
    "sum_repeated_dim": lambda m: X(m).sum((0, 0)),
    "mean_dim": lambda m: X(m).mean(-3),
    "var_dims": lambda m: X(m).var((0, 3)),
    "max_dim": lambda m: X(m).max(-3),
    "argmax_dim": lambda m: X(m).argmax(2),
    "logsumexp_dim": lambda m: X(m).logsumexp(5),
    "cumsum_dim": lambda m: X(m).cumsum(2),
    "transpose_dim": lambda m: X(m).transpose(0, 2),
    "unsqueeze_dim": lambda m: X(m).unsqueeze(3),
    "squeeze_dim": lambda m: X(m).squeeze(2),
    "size_dim": lambda m: X(m).size(2),
    "sort_dim": lambda m: X(m).sort(dim=2),
    "stack_dim": lambda m: m.stack([X(m), X(m)], 4),
    # indexing
    "index_out_of_bounds": lambda m: X(m)[5],
    "index_too_many": lambda m: X(m)[0, 0, 0],
    "index_tensor_out_of_bounds": lambda m: X(m)[m.tensor([5])],
    "index_mask_shape": lambda m: X(m)[m.tensor([True, False, True])],
    "index_float_tensor": lambda m: X(m)[m.tensor([1.0])],
    # dtypes and values
    "where_float_condition": lambda m: m.where(m.ones(2, 3), X(m), X(m)),
    "masked_fill_float_mask": lambda m: X(m).masked_fill(m.ones(3), 0.0),
    "mean_of_int": lambda m: m.tensor([1, 2]).mean(),
    "neg_of_bool": lambda m: -m.tensor([True]),
    "inplace_float_into_int": lambda m: m.tensor([1, 2]).add_(1.5),
    "iadd_float_into_int": lambda m: m.tensor([1, 2]).__iadd__(m.tensor([0.5, 0.5])),
    "div_rounding_mode": lambda m: X(m).div(2, rounding_mode="round"),
    "floor_divide_int_by_zero": lambda m: m.tensor([3, 4]) // 0,
    "remainder_int_by_zero": lambda m: m.tensor([3, 4]) % m.tensor([1, 0]),
    "rfloordiv_int_by_zero": lambda m: 5 // m.tensor([2, 0]),
    "div_floor_int_by_zero": lambda m: m.div(m.tensor([3]), 0, rounding_mode="floor"),
    "div_trunc_int_by_zero": lambda m: m.tensor([3], dtype=m.int32).div(0, rounding_mode="trunc"),
    "floor_divide_bool": lambda m: m.tensor([True]) // m.tensor([True]),
    "bitwise_and_float": lambda m: X(m) & X(m),
    "bitwise_xor_int_and_float": lambda m: m.tensor([1, 2]) ^ m.ones(2),
    "masked_fill_str": lambda m: X(m).masked_fill(X(m).bool(), "a"),
    "where_str": lambda m: m.where(X(m).bool(), X(m), "a"),
    "clamp_no_bounds": lambda m: X(m).clamp(),
    "one_hot_negative": lambda m: m.nn.functional.one_hot(m.tensor([-1])),
    "one_hot_too_small": lambda m: m.nn.functional.one_hot(m.tensor([3]), 2),
    "multinomial_negative": lambda m: m.multinomial(m.tensor([-1.0, 2.0]), 1),
    "multinomial_too_many": lambda m: m.multinomial(m.tensor([1.0, 2.0]), 3),
    "multinomial_3d": lambda m: m.multinomial(m.ones(2, 2, 2), 1),
    # creation
    "randint_empty_range": lambda m: m.randint(5, 2, (3,)),
    "arange_zero_step": lambda m: m.arange(0, 5, 0),
    "arange_wrong_sign": lambda m: m.arange(0, 10, -1),
    "arange_nan": lambda m: m.arange(float("nan")),
    "linspace_negative_steps": lambda m: m.linspace(0, 1, -1),
    "eye_negative": lambda m: m.eye(-1),
    "full_str": lambda m: m.full((2,), "a"),
    "zeros_like_list": lambda m: m.zeros_like([1, 2]),
    "zeros_negative": lambda m: m.zeros(-1),
    "zeros_float_size": lambda m: m.zeros(2.5),
    "zeros_str_dtype": lambda m: m.zeros(2, dtype="float32"),
    "tensor_ragged": lambda m: m.tensor([[1, 2], [3]]),
    "tensor_str": lambda m: m.tensor("abc"),
    "cat_empty": lambda m: m.cat([]),
    "unknown_device": lambda m: m.zeros(2, device="tpu"),
    "device_bad_index": lambda m: m.device("cuda:x"),
    "device_negative_index": lambda m: m.device("cuda:-1"),
    "device_two_indices": lambda m: m.device("cuda:0:1"),
    "device_leading_zero": lambda m: m.device("cuda:01"),
    "device_index_twice": lambda m: m.device("cuda:0", 1),
    "device_bool": lambda m: m.device(True),
    "tensor_int_beyond_int64": lambda m: m.tensor([2 ** 70]),
    "tensor_int_2_to_63": lambda m: m.tensor([2 ** 63]),
    "tensor_int_below_int64": lambda m: m.tensor([-2 ** 63 - 1]),
    "tensor_int_beyond_int64_nested": lambda m: m.tensor([[1], [2 ** 64]]),
    "tensor_int_beyond_int32": lambda m: m.tensor([2 ** 40], dtype=m.int32),
    "tensor_nan_to_int": lambda m: m.tensor([math.nan], dtype=m.long),
    "tensor_none": lambda m: m.tensor([None]),
    "tensor_dict": lambda m: m.tensor({1: 2}),
    "tensor_nested_str": lambda m: m.tensor(["a"]),
    # conversion
    "item_of_many": lambda m: X(m).item(),
    "bool_of_many": lambda m: bool(X(m)),
    "len_of_0d": lambda m: len(m.tensor(1.0)),
    "iter_of_0d": lambda m: iter(m.tensor(1.0)),
    "numpy_of_grad_tensor": lambda m: m.ones(2, requires_grad=True).numpy(),
    "mul_by_str": lambda m: X(m) * "a",
}


@pytest.mark.torch
@pytest.mark.parametrize("name", list(MISUSES))
def test_misuse_raises_torch_exception_class(name):
    misuse = MISUSES[name]
    with pytest.raises(Exception) as from_torch:
        misuse(torch)
    with pytest.raises(from_torch.type):
        misuse(tinytorch)


# (misuse, words of torch's message that tinytorch's must contain too)
TORCH_WORDS = {
    "floor_divide_int_by_zero": (lambda m: m.tensor([3, 4]) // 0, "ZeroDivisionError"),
    "div_trunc_int_by_zero": (lambda m: m.tensor([3]).div(m.tensor([0]), rounding_mode="trunc"), "ZeroDivisionError"),
    "max_empty_dim": (lambda m: m.zeros(0, 3).max(0), "max(): Expected reduction dim 0 to have non-zero size."),
    "argmax_empty": (lambda m: m.zeros(0).argmax(),
                     "argmax(): Expected reduction dim to be specified for input.numel() == 0."),
    "amin_empty_dims_as_given": (lambda m: m.zeros(3, 0, 2).amin((-1, -2)),
                                 "amin(): Expected reduction dim -2 to have non-zero size."),
    "amax_empty_all": (lambda m: m.zeros(0, 3).amax(),
                       "amax(): Expected reduction dim to be specified for input.numel() == 0."),
    "device_bad_index": (lambda m: m.device("cuda:x"), "Invalid device string: 'cuda:x'"),
    "zeros_device_bad_index": (lambda m: m.zeros(2, device="cuda:x"), "Invalid device string: 'cuda:x'"),
    "device_empty": (lambda m: m.device(""), "Device string must not be empty"),
    "device_gpu": (lambda m: m.device("gpu"), "device type at start of device string: gpu"),
    "device_negative_int": (lambda m: m.device(-1), "Device index must not be negative"),
    "tensor_int_beyond_int64": (lambda m: m.tensor([2 ** 70]), "Overflow when unpacking long long"),
    "tensor_int_beyond_int32": (lambda m: m.tensor([2 ** 40], dtype=m.int32),
                                "value cannot be converted to type int32 without overflow"),
    "tensor_none": (lambda m: m.tensor([None]), "Could not infer dtype of NoneType"),
    "var_of_int": (lambda m: m.tensor([1, 2]).var(), "std and var only support floating point and complex dtypes"),
    "pow_int_negative": (lambda m: m.tensor([2]) ** -1, "Integers to negative integer powers are not allowed"),
    "logsumexp_empty_dims": (lambda m: X(m).logsumexp(()),
                             "output with shape [] doesn't match the broadcast shape [1, 1]"),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", list(TORCH_WORDS))
def test_message_has_torchs_words(name):
    misuse, words = TORCH_WORDS[name]
    for m in (torch, tinytorch):
        with pytest.raises(Exception, match=re.escape(words)):
            misuse(m)


@pytest.mark.parametrize("misuse, shapes", [
    (lambda m: X(m) @ m.ones(2, 3), ["(2, 3)", "(2, 3)"]),
    (lambda m: m.ones(2, 2, 3) @ m.ones(3, 3, 1), ["(2, 2, 3)", "(3, 3, 1)"]),
    (lambda m: m.ones(3) @ m.ones(4), ["(3,)", "(4,)"]),
    (lambda m: m.matmul(m.ones(5, 4), m.ones(3)), ["(5, 4)", "(3,)"]),
    (lambda m: X(m) + m.ones(3, 2), ["add", "(2, 3)", "(3, 2)"]),
    (lambda m: X(m) * m.ones(4), ["mul", "(2, 3)", "(4,)"]),
    (lambda m: m.maximum(X(m), m.ones(4)), ["maximum", "(2, 3)", "(4,)"]),
    (lambda m: m.cat([X(m), m.ones(3, 3)], 1), ["cat", "(2, 3)", "(3, 3)"]),
    (lambda m: m.stack([X(m), m.ones(3, 2)]), ["stack", "(2, 3)", "(3, 2)"]),
    (lambda m: X(m).view(4), ["view", "(2, 3)", "(4,)"]),
    (lambda m: X(m).reshape(5, 1), ["reshape", "(2, 3)", "(5, 1)"]),
    (lambda m: X(m).expand(3, 3), ["expand", "(2, 3)", "(3, 3)"]),
    (lambda m: m.where(m.ones(3, 3).bool(), X(m), X(m)), ["where", "(3, 3)", "(2, 3)"]),
    (lambda m: X(m).masked_fill(m.ones(3, 3).bool(), 0.0), ["masked_fill", "(3, 3)", "(2, 3)"]),
    (lambda m: m.ones(3).add_(m.ones(2, 3)), ["add_", "(2, 3)", "(3,)"]),
    (lambda m: X(m).gather(1, m.tensor([[0], [1], [0]])), ["gather", "(2, 3)", "(3, 1)"]),
], ids=lambda v: v[0] if isinstance(v, list) else "")
def test_shape_errors_name_the_op_and_both_shapes(misuse, shapes):
    with pytest.raises(RuntimeError) as err:
        misuse(tinytorch)
    for text in shapes:
        assert text in str(err.value), f"{text!r} missing from: {err.value}"


def test_dim_errors_say_the_valid_range():
    with pytest.raises(IndexError, match=r"range of \[-2, 1\], but got 2"):
        tinytorch.ones(2, 3).sum(2)


def test_unsupported_torch_name_says_so():
    with pytest.raises(AttributeError, match="torch.fft"):
        tinytorch.fft


def test_tensor_from_object_array_is_rejected():
    with pytest.raises(TypeError, match="dtype"):
        tinytorch.tensor(np.array([object()]))
