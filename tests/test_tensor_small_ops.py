"""The shortcuts small ops take (issue 16: a get_batch loop's `i + block_size`, `data[i:j]`,
iterating a tensor, `stack`) give torch's results: values, dtypes, integer wraparound, views that
in-place writes see, and gradients where the input requires them. Each scenario runs with
m = torch and m = tinytorch (harness.run_both)."""
import pytest

from harness import Scenarios, run_both

scenario = Scenarios()

INT_DTYPES = ("uint8", "int16", "int32", "int64")
# (tensor value, Python int): in range, negative results, and past the dtype's range both ways
INT_OPERANDS = ((5, 8), (127, 1), (5, -10), (100, 3), (3, 200), (2 ** 31 - 1, 1), (-2 ** 31, -1), (2 ** 62, 4))
INT_OPS = {"t + s": lambda t, s: t + s, "s + t": lambda t, s: s + t, "t - s": lambda t, s: t - s,
           "s - t": lambda t, s: s - t, "t * s": lambda t, s: t * s, "s * t": lambda t, s: s * t}


@pytest.mark.torch
@pytest.mark.parametrize("dtype", INT_DTYPES)
@pytest.mark.parametrize("op", INT_OPS)
def test_zero_dim_integer_arithmetic_with_python_ints_wraps_as_torch(dtype, op):
    def fn(m):
        results = []
        for value, scalar in INT_OPERANDS:
            t = m.tensor(value).to(getattr(m, dtype))
            results.append(INT_OPS[op](t, scalar))
        return results, [r.dtype == getattr(m, dtype) for r in results]
    run_both(fn, f"{op} ({dtype})")


@scenario
def a_scalar_no_int64_holds_is_refused(m):
    with pytest.raises((RuntimeError, OverflowError)):
        m.tensor(5) + 2 ** 70
    return True


@scenario
def integer_results_keep_their_own_rules_for_floats_and_division(m):
    i = m.tensor(7)
    return i + 0.5, i * 2.5, i / 2, i // 2, i % 3, 2 ** i


@scenario
def slice_with_tensor_bounds_is_a_view_in_place_writes_see(m):
    data = m.arange(20)
    i = m.tensor(3)
    window = data[i:i + 8]
    window[0] = 100
    return window, data, data._version, window._version


@scenario
def iterating_gives_zero_dim_views(m):
    x = m.arange(6).reshape(3, 2)
    rows = list(x)
    rows[1][0] = -1
    scalars = list(m.arange(4))
    scalars[2].add_(10)
    return rows, x, x._version, [s.dim() for s in scalars], scalars


@scenario
def iterating_a_tensor_that_requires_grad_records_unbind(m):
    x = m.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    rows = list(x)
    (rows[0] * 2 + rows[2] ** 2).sum().backward()
    return x.grad, rows[1].grad_fn.name().split("::")[-1]


@scenario
def iterating_under_no_grad_records_nothing(m):
    x = m.ones(3, requires_grad=True)
    with m.no_grad():
        items = list(x)
    return [t.grad_fn is None for t in items]  # (torch marks these views requires_grad; tinytorch does not)


@scenario
def get_batch_as_the_lecture_writes_it(m):
    m.manual_seed(1337)
    data = m.arange(1000) % 65
    ix = m.randint(len(data) - 8, (4,))
    x = m.stack([data[i:i + 8] for i in ix])
    y = m.stack([data[i + 1:i + 8 + 1] for i in ix])
    return x, y


@scenario
def stack_at_every_axis(m):
    pieces = [m.arange(24).reshape(2, 3, 4) * k for k in range(3)]
    return [m.stack(pieces, dim=d) for d in range(-4, 4)]


@scenario
def stack_promotes_mixed_dtypes_and_backpropagates(m):
    a = m.tensor([1.0, 2.0], requires_grad=True)
    b = m.tensor([3, 4])
    c = m.tensor([0.5, 0.25], dtype=m.float64, requires_grad=True)
    s = m.stack([a, b, c], dim=1)
    (s * m.arange(6, dtype=m.float64).reshape(2, 3)).sum().backward()
    return s, s.dtype, a.grad, c.grad


@scenario
def stack_of_zero_dim_tensors(m):
    return m.stack([m.tensor(1.5), m.tensor(2.5)]), m.stack([m.tensor(1), m.tensor(2)], dim=-1)


@pytest.mark.torch
@scenario.each
def test_scenario_matches_torch(fn):
    run_both(fn)

