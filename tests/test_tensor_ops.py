"""Every op of the table in op_cases.py, two ways: its gradient against float64 central
differences, and its forward and every input's gradient against torch (harness.check_op)."""
import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st

import tinytorch
from devices import on_devices
from harness import check_op, leaf, leaves, run_both
from op_cases import OPS, basic_index_inputs, int_array_inputs, mask_index_inputs
from strategies import arrays, non_contiguous, shapes, shrunk_to_broadcast
from tinytorch.testing import gradcheck

op_params = pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)


@op_params
@given(data=st.data())
def test_gradient_matches_central_differences(op, data):
    arrays, params = op.draw(data)
    inputs = leaves(tinytorch, arrays)

    def fn(*xs):
        return op.fn(tinytorch, *xs, **params)

    if op.differentiable:
        assert gradcheck(fn, *inputs)
    else:
        out = fn(*inputs)
        assert not any(o.requires_grad for o in (out if isinstance(out, tuple) else (out,)))


@pytest.mark.torch
@on_devices
@op_params
@given(data=st.data())
def test_forward_and_gradients_match_torch(op, device, data):
    arrays, params = op.draw(data)
    check_op(lambda *ts: op.fn(tinytorch, *ts, **params), lambda *ts: (op.torch_fn or op.fn)(torch, *ts, **params),
             *arrays, device=device, atol=1e-10, rtol=1e-9)


@given(data=st.data())
def test_first_inputs_are_non_contiguous_whenever_they_can_be(data):
    shape = data.draw(shapes())
    array = data.draw(non_contiguous(shape))
    assert array.size <= 1 or not array.flags.c_contiguous
    assert not leaf(tinytorch, array).is_contiguous() or array.size <= 1


@pytest.mark.torch
@pytest.mark.parametrize("draw_key", [basic_index_inputs, int_array_inputs, mask_index_inputs],
                         ids=["basic", "int_array", "bool_mask"])
@given(data=st.data())
def test_setitem_under_no_grad_matches_torch(draw_key, data):
    """x[key] = value on a leaf that requires grad, under no_grad; then the leaf is used again."""
    (x, *index), params = draw_key(data)
    if draw_key is int_array_inputs:  # torch leaves the winner among repeated targets unspecified
        index = [np.unique(index[0] % x.shape[0])]
    target_shape = x[params["key"] if params else (index[0],)].shape
    value = data.draw(arrays(data.draw(shrunk_to_broadcast(target_shape))))

    def assign(m):
        t = leaf(m, x)
        key = params["key"] if params else (leaf(m, index[0]),)
        with m.no_grad():
            t[key] = leaf(m, value, requires_grad=False)
        (t * t).sum().backward()
        return t, t.grad, t.is_leaf, t.requires_grad
    run_both(assign)


def test_split_gradient_is_laid_out_like_its_input():
    """The heads of a fused qkv projection, (B, T, 3, H, E) seen as (3, B, H, T, E) and unbound:
    the gradient the split hands back is laid out like its input, so permuting it back to
    (B, T, 3, H, E) gives a contiguous array, and the view to (B, T, 3 H E) needs no copy."""
    from tinytorch.autograd import Context
    from tinytorch.ops.movement import Split
    x = np.arange(2 * 5 * 3 * 2 * 4, dtype=float).reshape(2, 5, 3, 2, 4).transpose(2, 0, 3, 1, 4)
    ctx = Context()
    pieces = Split.forward(ctx, x, (1, 1, 1), 0)
    grads = [-pieces[0], None, 2 * pieces[2]]
    dx = Split.backward(ctx, *grads)[0]
    np.testing.assert_array_equal(dx, np.concatenate([grads[0], np.zeros_like(pieces[1]), grads[2]]))
    assert dx.transpose(1, 3, 0, 2, 4).flags.c_contiguous
