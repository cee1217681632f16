"""Tensors print exactly as torch prints them: repr = str, format, the print options, Parameter.

Every case builds the same tensor in both libraries (`m` is tinytorch or torch) and compares the
strings; torch's differ only in naming its dtypes `torch.x` where tinytorch names `tinytorch.x`
(the cases keep that longer name from changing where a suffix line breaks, but for one test).
"""
import math

import numpy as np
import pytest
import torch
from torch._tensor_str import get_printoptions as torch_printoptions

import tinytorch
from tinytorch.printing import get_printoptions

from devices import on_devices

RNG = np.random.default_rng(0)
NAN, INF = math.nan, math.inf


def data(*shape, scale=1.0, dtype=np.float32):
    """Fixed random normal values (the same array for both libraries)."""
    return (RNG.standard_normal(shape) * scale).astype(dtype)


MATRIX, CUBE, QUAD = data(4, 5), data(2, 3, 4), data(2, 2, 2, 2)
BIG_VECTOR, BIG_MATRIX, BIG_CUBE, WIDE = data(1001), data(100, 100), data(10, 10, 11), data(7, 2000)
TALL, LONG_ROW, WIDE_ROWS = data(2000, 3), data(30), data(3, 30)
MIXED = data(30) * np.logspace(-6, 6, 30, dtype=np.float32)
HALF, DOUBLE = data(6, dtype=np.float16), data(3, 4, dtype=np.float64)
BIG_INTS = RNG.integers(-10**12, 10**12, size=(4, 3))

CASES = {
    # 0-dim
    "scalar": lambda m: m.tensor(2.1360),
    "scalar_int_valued": lambda m: m.tensor(2.0),
    "scalar_zero": lambda m: m.tensor(0.0),
    "scalar_negative_zero": lambda m: m.tensor(-0.0),
    "scalar_small": lambda m: m.tensor(1e-5),
    "scalar_large": lambda m: m.tensor(1e10),
    "scalar_nan": lambda m: m.tensor(NAN),
    "scalar_neg_inf": lambda m: m.tensor(-INF),
    "scalar_int": lambda m: m.tensor(3),
    "scalar_bool": lambda m: m.tensor(True),
    "scalar_float64": lambda m: m.tensor(0.1, dtype=m.float64),
    "scalar_int32": lambda m: m.tensor(-7, dtype=m.int32),
    # vectors: fixed, integer-valued, scientific notation and its thresholds
    "vector": lambda m: m.tensor([1.5, -2.25, 3.0]),
    "int_valued": lambda m: m.tensor([1.0, 2.0]),
    "int_valued_negative": lambda m: m.tensor([-10.0, 2.0, 300.0]),
    "zeros": lambda m: m.zeros(3),
    "negative_zero_first": lambda m: m.tensor([-0.0, 1.0, 2.0]),
    "negative_zero_fixed": lambda m: m.tensor([0.0, -0.0, -0.5]),
    "mixed_magnitudes": lambda m: m.tensor([2.1360, 1e-5]),
    "all_small": lambda m: m.tensor([1e-5, 1e-6]),
    "min_just_below_1e-4": lambda m: m.tensor([1e-4, 0.5]),
    "ratio_1000_fixed": lambda m: m.tensor([1000.5, 1.0005]),
    "ratio_over_1000": lambda m: m.tensor([1001.0, 1.0]),
    "max_over_1e8": lambda m: m.tensor([123456789.0]),
    "int_valued_sci": lambda m: m.tensor([1e9, 1.0]),
    "huge_and_tiny": lambda m: m.tensor([1e30, -1e-30, 0.0]),
    "nan_inf_ints": lambda m: m.tensor([NAN, 1.0, INF, -INF]),
    "nan_fraction": lambda m: m.tensor([NAN, 1.5]),
    "nan_inf_only": lambda m: m.tensor([NAN, INF, 0.0]),
    "nan_inf_sci": lambda m: m.tensor([NAN, 1e-7, 2.0, -INF]),
    "mixed_wrapping": lambda m: m.tensor(MIXED),
    "long_row_wraps": lambda m: m.tensor(LONG_ROW),
    "ints_wrap": lambda m: m.arange(100),
    # ints and bools
    "ints": lambda m: m.tensor([1, -20, 300]),
    "big_ints": lambda m: m.tensor(BIG_INTS),
    "int32": lambda m: m.tensor([[1, 2], [3, -4]], dtype=m.int32),
    "int16": lambda m: m.tensor([5, -6], dtype=m.int16),
    "uint8": lambda m: m.tensor([0, 255, 7], dtype=m.uint8),
    "bools": lambda m: m.tensor([True, False, True]),
    "bool_matrix": lambda m: m.tensor([[True], [False]]),
    # n-d
    "matrix": lambda m: m.tensor(MATRIX),
    "matrix_wide_rows": lambda m: m.tensor(WIDE_ROWS),
    "cube": lambda m: m.tensor(CUBE),
    "four_d": lambda m: m.tensor(QUAD),
    "column": lambda m: m.tensor(MATRIX[:, :1]),
    # summarised (more than 1000 elements)
    "big_vector": lambda m: m.tensor(BIG_VECTOR),
    "big_arange": lambda m: m.arange(2000),
    "big_matrix": lambda m: m.tensor(BIG_MATRIX),
    "big_cube": lambda m: m.tensor(BIG_CUBE),
    "big_wide": lambda m: m.tensor(WIDE),
    "big_tall": lambda m: m.tensor(TALL),
    "big_ones": lambda m: m.ones(1001),
    "big_ints_matrix": lambda m: m.arange(3000).reshape(30, 100) * 1000,
    "big_bools": lambda m: m.arange(1500) % 3 == 0,
    # dtypes
    "float64": lambda m: m.tensor(DOUBLE),
    "float16": lambda m: m.tensor(HALF),
    "float16_int_valued": lambda m: m.tensor([1.0, 2048.0], dtype=m.float16),
    "float64_precise": lambda m: m.tensor([0.1, 0.123456789], dtype=m.float64),
    # empty
    "empty": lambda m: m.tensor([]),
    "empty_0x3": lambda m: m.zeros(0, 3),
    "empty_int": lambda m: m.tensor([], dtype=m.int64),
    "empty_bool": lambda m: m.zeros(0, dtype=m.bool),
    "empty_float64_3d": lambda m: m.zeros(2, 0, 3, dtype=m.float64),
    "empty_int32_2d": lambda m: m.zeros(1, 0, dtype=m.int32),
    # autograd suffixes
    "requires_grad": lambda m: m.tensor([1.0, 2.0], requires_grad=True),
    "requires_grad_scalar": lambda m: m.tensor(0.5, requires_grad=True),
    "grad_fn_mul": lambda m: m.tensor([1.0, 2.0], requires_grad=True) * 2,
    "grad_fn_sum": lambda m: m.tensor([1.0, 2.5], requires_grad=True).sum(),
    "grad_fn_add": lambda m: m.tensor(MATRIX, requires_grad=True) + 1,
    "grad_fn_tanh_float64": lambda m: m.tensor(DOUBLE, requires_grad=True).tanh(),
    "suffixes_wrap": lambda m: m.arange(12, dtype=m.float64).requires_grad_(),
    "suffixes_wrap_after_rows": lambda m: m.tensor(LONG_ROW.astype(np.float64), requires_grad=True),
    "detached": lambda m: (m.tensor([1.0, 2.0], requires_grad=True) * 3).detach(),
}


def torch_repr(t):
    return repr(t).replace("torch.", "tinytorch.")


@pytest.mark.parametrize("case", list(CASES))
def test_repr_is_torchs(case):
    mine, theirs = CASES[case](tinytorch), CASES[case](torch)
    assert repr(mine) == torch_repr(theirs)
    assert str(mine) == repr(mine)


@pytest.fixture
def print_options():
    """set_printoptions in both libraries inside the test, restored afterwards."""
    saved = get_printoptions()
    assert saved == torch_printoptions()

    def set_both(**options):
        tinytorch.set_printoptions(**options)
        torch.set_printoptions(**options)
    yield set_both
    tinytorch.set_printoptions(**saved)
    torch.set_printoptions(**saved)


OPTION_CASES = [
    ({"precision": 2}, "matrix"),
    ({"precision": 8}, "float64_precise"),
    ({"precision": 0}, "vector"),
    ({"precision": 6}, "mixed_magnitudes"),
    ({"threshold": 5}, "ints_wrap"),
    ({"threshold": 5}, "cube"),
    ({"threshold": 0}, "scalar"),
    ({"edgeitems": 1}, "big_matrix"),
    ({"edgeitems": 5}, "big_cube"),
    ({"edgeitems": 0}, "big_matrix"),
    ({"edgeitems": 0}, "big_vector"),
    ({"edgeitems": 0}, "vector"),
    ({"linewidth": 40}, "long_row_wraps"),
    ({"linewidth": 40}, "suffixes_wrap"),
    ({"linewidth": 10}, "ints"),
    ({"profile": "short"}, "big_matrix"),
    ({"profile": "full"}, "big_vector"),
    ({"profile": "full", "precision": 2}, "ints_wrap"),
    ({"sci_mode": True}, "vector"),
    ({"sci_mode": True}, "int_valued"),
    ({"sci_mode": True}, "zeros"),
    ({"sci_mode": True}, "ints"),
    ({"sci_mode": False}, "mixed_magnitudes"),
    ({"sci_mode": False}, "max_over_1e8"),
]


@pytest.mark.parametrize("options, case", OPTION_CASES, ids=[f"{o}-{c}" for o, c in OPTION_CASES])
def test_print_options_change_the_repr_as_torchs_do(print_options, options, case):
    print_options(**options)
    assert get_printoptions() == torch_printoptions()
    assert repr(CASES[case](tinytorch)) == torch_repr(CASES[case](torch))


def test_set_printoptions_resets_sci_mode_and_profiles_reset_options(print_options):
    print_options(precision=2, sci_mode=True, linewidth=50)
    print_options(threshold=10)
    assert get_printoptions() == torch_printoptions() == {
        "precision": 2, "threshold": 10, "edgeitems": 3, "linewidth": 50, "sci_mode": None}
    print_options(profile="default")
    assert get_printoptions() == torch_printoptions() == {
        "precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


def test_unknown_profile_is_refused_naming_the_profiles(print_options):
    with pytest.raises(ValueError, match="'default', 'short', 'full'.*'wide'"):
        tinytorch.set_printoptions(profile="wide")
    assert get_printoptions() == torch_printoptions()


def test_default_dtype_decides_the_dtype_suffix():
    try:
        for m in (tinytorch, torch):
            m.set_default_dtype(m.float64)
        for case in ("vector", "float64", "scalar_float64", "empty", "empty_float64_3d", "cube", "requires_grad"):
            assert repr(CASES[case](tinytorch)) == torch_repr(CASES[case](torch)), case
        # "dtype=tinytorch.float32" is 4 characters longer than torch's: here that passes linewidth
        assert repr(CASES["matrix"](tinytorch)) == torch_repr(CASES["matrix"](torch)).replace(
            "]], dtype=", "]],\n       dtype=")
    finally:
        for m in (tinytorch, torch):
            m.set_default_dtype(m.float32)


FORMAT_CASES = {
    "float": (lambda m: m.tensor(0.1), ["", ".3f", ".2e", "10.4f"]),
    "float64": (lambda m: m.tensor(2.5, dtype=m.float64), ["", ".1f", "g"]),
    "int": (lambda m: m.tensor(42), ["", "5d", "x"]),
    "bool": (lambda m: m.tensor(True), [""]),
    "requires_grad": (lambda m: m.tensor(1.25, requires_grad=True) * 2, ["", ".2f"]),
    "vector": (lambda m: m.tensor([1.0, 2.5]), [""]),
    "parameter": (lambda m: m.nn.Parameter(m.tensor(0.5)), [""]),
}


@pytest.mark.parametrize("case", list(FORMAT_CASES))
def test_format_is_torchs(case):
    build, specs = FORMAT_CASES[case]
    mine, theirs = build(tinytorch), build(torch)
    for spec in specs:
        assert format(mine, spec) == format(theirs, spec).replace("torch.", "tinytorch."), spec
    assert f"{mine}" == f"{theirs}".replace("torch.", "tinytorch.")


@pytest.mark.parametrize("build", [lambda m: m.tensor([1.0, 2.5]), lambda m: m.nn.Parameter(m.tensor(0.5))],
                         ids=["vector", "parameter"])
def test_format_spec_on_a_non_scalar_raises_torchs_error(build):
    with pytest.raises(TypeError) as theirs:
        format(build(torch), ".2f")
    with pytest.raises(TypeError) as mine:
        format(build(tinytorch), ".2f")
    assert str(mine.value) == str(theirs.value)


@pytest.mark.parametrize("requires_grad", [True, False])
@pytest.mark.parametrize("case", ["vector", "matrix", "scalar", "big_vector"])
def test_parameter_repr_is_torchs(case, requires_grad):
    mine = tinytorch.nn.Parameter(CASES[case](tinytorch), requires_grad=requires_grad)
    theirs = torch.nn.Parameter(CASES[case](torch), requires_grad=requires_grad)
    assert repr(mine) == str(mine) == torch_repr(theirs)


@on_devices
@pytest.mark.parametrize("case", ["vector", "big_matrix", "scalar_int"])
def test_device_suffix_off_the_cpu(device, case):
    """Off the CPU the contents are the same, followed by `device='cuda:0'`."""
    expected = torch_repr(CASES[case](torch))
    if device != "cpu":
        expected = expected[:-1] + ", device='cuda:0')"
    assert repr(CASES[case](tinytorch).to(device)) == expected


@on_devices
def test_device_comes_before_the_other_suffixes(device):
    t = tinytorch.tensor([1.0, 2.0], dtype=tinytorch.float64, device=device, requires_grad=True)
    on = ", device='cuda:0'" if device != "cpu" else ""
    assert repr(t) == f"tensor([1., 2.]{on}, dtype=tinytorch.float64, requires_grad=True)"
