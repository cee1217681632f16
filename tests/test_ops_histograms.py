"""histc, histogram and bincount against torch: counts, edges, dtypes, the edge rules (the last
bin holds max, values outside are left out, empty ranges widen), weights, density, and the
errors for bad input. Every case is one lambda run with m = tinytorch and m = torch."""
import numpy as np
import pytest
import torch

import tinytorch
from devices import on_devices
from harness import assert_same, run_both
from tinytorch.ops.histograms import linspace

RNG = np.random.default_rng(4)
ACTIVATIONS = np.tanh(RNG.standard_normal((32, 200)) * 2).astype(np.float32)  # lecture 4's saturated tanh
GAUSS = RNG.standard_normal(500).astype(np.float32)
GAUSS64 = RNG.standard_normal(300)
WEIGHTS = RNG.uniform(0, 2, 500).astype(np.float32)
STEPS = np.arange(0, 10.5, 0.5, dtype=np.float32)  # values on the bin edges of 0..10 in 5, 10 or 20 bins
INTS = RNG.integers(0, 12, 200)


def t(m, array, **kw):
    return m.tensor(array, **kw)


HISTC = {
    "default_bins": lambda m: m.histc(t(m, GAUSS)),
    "bins_10": lambda m: m.histc(t(m, GAUSS), bins=10),
    "range_leaves_out_the_rest": lambda m: m.histc(t(m, GAUSS), bins=8, min=-1, max=0.5),
    "values_on_edges": lambda m: m.histc(t(m, STEPS), bins=20, min=0, max=10),
    "max_in_last_bin": lambda m: m.histc(t(m, [0.0, 1.0, 2.0, 3.0]), bins=3, min=0, max=3),
    "constant_widens_by_1": lambda m: m.histc(m.full((5,), 2.0), bins=4),
    "min_equals_max_given": lambda m: m.histc(t(m, [1.0, 2.0, 3.0]), bins=3, min=1, max=1),
    "empty": lambda m: m.histc(m.zeros(0), bins=4),
    "nan_left_out": lambda m: m.histc(t(m, [float("nan"), 0.5, 1.5]), bins=2, min=0, max=2),
    "matrix": lambda m: m.histc(t(m, ACTIVATIONS), bins=50, min=-1, max=1),
    "scalar": lambda m: m.histc(t(m, 3.0), bins=2),
    "float64": lambda m: m.histc(t(m, GAUSS64), bins=7),
    "float16": lambda m: m.histc(t(m, GAUSS[:50].astype(np.float16)), bins=6),
    "method": lambda m: t(m, GAUSS).histc(5, -2, 2),
    "tensor_bounds": lambda m: t(m, GAUSS).histc(5, min=m.tensor(-2.0), max=m.tensor(2.0)),
    "input_requires_grad": lambda m: m.histc(t(m, GAUSS, requires_grad=True), bins=5),
}

HISTOGRAM = {
    "lecture4_view_50": lambda m: m.histogram(t(m, ACTIVATIONS).view(-1), 50),
    "lecture4_density": lambda m: m.histogram(t(m, ACTIVATIONS).view(-1), 50, density=True),
    "default_bins": lambda m: m.histogram(t(m, GAUSS)),
    "range": lambda m: m.histogram(t(m, GAUSS), 10, range=(-1.0, 2.0)),
    "int_range": lambda m: m.histogram(t(m, GAUSS), bins=4, range=[0, 3]),
    "weights": lambda m: m.histogram(t(m, GAUSS), 12, weight=t(m, WEIGHTS)),
    "weights_density": lambda m: m.histogram(t(m, GAUSS), 12, weight=t(m, WEIGHTS), density=True),
    "values_on_edges": lambda m: m.histogram(t(m, STEPS), 20),
    "bin_tensor": lambda m: m.histogram(t(m, GAUSS), t(m, [-3.0, -1.0, 0.0, 0.25, 2.0])),
    "bin_tensor_density": lambda m: m.histogram(t(m, GAUSS), t(m, [-3.0, -1.0, 0.0, 0.25, 2.0]), density=True),
    "repeated_edges": lambda m: m.histogram(t(m, STEPS), t(m, [0.0, 1.0, 1.0, 10.0])),
    "constant_widens_by_half": lambda m: m.histogram(m.full((4,), 3.0), 4),
    "empty_is_0_to_1": lambda m: m.histogram(m.zeros(0), 4),
    "nan_left_out": lambda m: m.histogram(t(m, [float("nan"), 0.5, 1.5]), 2, range=(0.0, 2.0)),
    "density_of_nothing_is_nan": lambda m: m.histogram(t(m, GAUSS), 3, range=(10.0, 11.0), density=True),
    "matrix_with_matrix_weight": lambda m: m.histogram(t(m, ACTIVATIONS[:4, :5]), 3, weight=t(m, ACTIVATIONS[4:8, :5])),
    "float64": lambda m: m.histogram(t(m, GAUSS64), 9, density=True),
    "float64_weights": lambda m: m.histogram(t(m, GAUSS64), 9, weight=t(m, GAUSS64 ** 2)),
    "method": lambda m: t(m, GAUSS).histogram(6, range=(-2.0, 2.0)),
    "method_bin_tensor": lambda m: t(m, GAUSS).histogram(t(m, [-1.0, 0.0, 1.0])),
}

BINCOUNT = {
    "counts": lambda m: m.bincount(t(m, INTS)),
    "minlength_longer": lambda m: m.bincount(t(m, [1, 3, 1]), minlength=8),
    "minlength_shorter": lambda m: m.bincount(t(m, INTS), minlength=2),
    "float32_weights": lambda m: m.bincount(t(m, INTS), weights=t(m, WEIGHTS[:200])),
    "float64_weights": lambda m: m.bincount(t(m, INTS), t(m, GAUSS64[:200])),
    "int_weights_give_float64": lambda m: m.bincount(t(m, [0, 2, 2]), weights=t(m, [5, 6, 7])),
    "float16_weights_give_float64": lambda m: m.bincount(t(m, [0, 2, 2]), t(m, [0.5, 1.5, 2.0], dtype=m.float16)),
    "empty": lambda m: m.bincount(m.zeros(0, dtype=m.int64)),
    "empty_minlength": lambda m: m.bincount(m.zeros(0, dtype=m.int64), minlength=3),
    "empty_with_weights_is_int64": lambda m: m.bincount(m.zeros(0, dtype=m.int64), m.zeros(0), minlength=2),
    "uint8": lambda m: m.bincount(t(m, [0, 255, 3], dtype=m.uint8)),
    "int32": lambda m: m.bincount(t(m, INTS, dtype=m.int32)),
    "int16": lambda m: m.bincount(t(m, [4, 4], dtype=m.int16), minlength=6),
    "method": lambda m: t(m, INTS).bincount(minlength=20),
    "method_weights": lambda m: t(m, [2, 0]).bincount(t(m, [0.25, 4.0])),
}

CASES = {**{f"histc_{k}": v for k, v in HISTC.items()}, **{f"histogram_{k}": v for k, v in HISTOGRAM.items()},
         **{f"bincount_{k}": v for k, v in BINCOUNT.items()}}


@pytest.mark.parametrize("case", list(CASES))
def test_matches_torch(case):
    run_both(CASES[case], case)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bins", [1, 2, 7, 50, 100, 127, 333, 1000])
def test_bin_edges_are_torchs_bit_for_bit(bins, dtype):
    """int bins: the edges are torch.linspace(lo, hi, bins + 1) in the input's dtype, exactly."""
    data = (GAUSS * 3.7 + 0.3).astype(dtype)
    mine = tinytorch.histogram(tinytorch.tensor(data), bins).bin_edges.numpy()
    theirs = torch.histogram(torch.from_numpy(data), bins).bin_edges.numpy()
    assert mine.dtype == theirs.dtype and np.array_equal(mine, theirs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linspace_is_torchs_bit_for_bit(dtype):
    for start, end, steps in [(0.3, 7.1, 128), (-2.5, 1e-3, 33), (-1.0, 1.0, 1001), (1e5, 1e5 + 1, 17)]:
        theirs = torch.linspace(start, end, steps, dtype=torch.float32 if dtype == np.float32 else torch.float64)
        assert np.array_equal(linspace(start, end, steps, dtype), theirs.numpy()), (start, end, steps)


def test_histogram_returns_torchs_named_tuple():
    mine, theirs = HISTOGRAM["method"](tinytorch), HISTOGRAM["method"](torch)
    assert type(mine).__name__ == "histogram" and type(mine).__module__ == "tinytorch.return_types"
    assert_same((mine.hist, mine.bin_edges), (theirs.hist, theirs.bin_edges))
    hist, bin_edges = mine
    assert hist is mine.hist and bin_edges is mine.bin_edges
    assert repr(mine) == repr(theirs).replace("torch.", "tinytorch.")


def test_results_are_outside_the_graph():
    """No backward exists for these (torch's histogram and weighted bincount mark theirs with a
    grad_fn that raises; here they simply do not require grad)."""
    x = tinytorch.tensor(GAUSS, requires_grad=True)
    w = tinytorch.tensor(WEIGHTS[:200], requires_grad=True)
    results = [x.histc(4), *x.histogram(4, weight=x * 2), tinytorch.tensor(INTS).bincount(w)]
    assert not any(r.requires_grad for r in results)


MISUSES = {
    "histc_int_input": lambda m: m.histc(t(m, [1, 2, 3])),
    "histc_zero_bins": lambda m: m.histc(t(m, GAUSS), bins=0),
    "histc_min_above_max": lambda m: m.histc(t(m, GAUSS), bins=3, min=3, max=1),
    "histc_nan_data": lambda m: m.histc(t(m, [float("nan"), 1.0])),
    "histc_inf_data": lambda m: m.histc(t(m, [float("inf"), 1.0])),
    "histc_inf_bound": lambda m: m.histc(t(m, [1.0]), min=float("-inf"), max=3),
    "histc_float_bins": lambda m: m.histc(t(m, GAUSS), bins=3.5),
    "histc_list_input": lambda m: m.histc([1.0, 2.0]),
    "histogram_float16": lambda m: m.histogram(t(m, [1.0], dtype=m.float16), 4),
    "histogram_int_input": lambda m: m.histogram(t(m, [1, 2]), 4),
    "histogram_zero_bins": lambda m: m.histogram(t(m, GAUSS), 0),
    "histogram_negative_bins": lambda m: m.histogram(t(m, GAUSS), -2),
    "histogram_reversed_range": lambda m: m.histogram(t(m, GAUSS), 4, range=(3.0, 0.0)),
    "histogram_range_of_3": lambda m: m.histogram(t(m, GAUSS), 4, range=(0.0, 1.0, 2.0)),
    "histogram_infinite_range": lambda m: m.histogram(t(m, GAUSS), 4, range=(0.0, float("inf"))),
    "histogram_nan_data": lambda m: m.histogram(t(m, [float("nan"), 1.0]), 4),
    "histogram_weight_dtype": lambda m: m.histogram(t(m, GAUSS), 4, weight=t(m, WEIGHTS, dtype=m.float64)),
    "histogram_weight_length": lambda m: m.histogram(t(m, GAUSS), 4, weight=t(m, WEIGHTS[:10])),
    "histogram_bins_dtype": lambda m: m.histogram(t(m, GAUSS), t(m, [0, 1, 2])),
    "histogram_bins_2d": lambda m: m.histogram(t(m, GAUSS), t(m, [[0.0, 1.0, 2.0]])),
    "histogram_bins_empty": lambda m: m.histogram(t(m, GAUSS), m.zeros(0)),
    "histogram_bins_one_edge": lambda m: m.histogram(t(m, GAUSS), t(m, [1.0])),
    "histogram_float_bins": lambda m: m.histogram(t(m, GAUSS), 2.5),
    "histogram_list_bins": lambda m: m.histogram(t(m, GAUSS), bins=[0.0, 1.0]),
    "histogram_range_with_bin_tensor": lambda m: m.histogram(t(m, GAUSS), t(m, [0.0, 1.0]), range=(0.0, 1.0)),
    "histogram_list_weight": lambda m: m.histogram(t(m, [1.0, 2.0]), 2, weight=[1.0, 2.0]),
    "bincount_float_input": lambda m: m.bincount(t(m, [1.0, 2.0])),
    "bincount_bool_input": lambda m: m.bincount(t(m, [True, False])),
    "bincount_negative": lambda m: m.bincount(t(m, [-1, 2])),
    "bincount_2d": lambda m: m.bincount(t(m, [[1, 2]])),
    "bincount_0d": lambda m: m.bincount(t(m, 3)),
    "bincount_negative_minlength": lambda m: m.bincount(t(m, [1]), minlength=-1),
    "bincount_float_minlength": lambda m: m.bincount(t(m, [1]), minlength=2.5),
    "bincount_weights_length": lambda m: m.bincount(t(m, [1, 2]), weights=m.ones(3)),
    "bincount_weights_2d": lambda m: m.bincount(t(m, [1, 2]), weights=m.ones(2, 1)),
}


@pytest.mark.parametrize("case", list(MISUSES))
def test_bad_input_raises_torchs_exception_naming_the_op(case):
    with pytest.raises(Exception) as theirs:
        MISUSES[case](torch)
    with pytest.raises(type(theirs.value)) as mine:
        MISUSES[case](tinytorch)
    assert case.split("_")[0] in str(mine.value)


ON_DEVICE = {
    "histc": lambda m, d: m.histc(t(m, STEPS).to(d), bins=20, min=0, max=10),
    "histogram_weights_density": lambda m, d: m.histogram(t(m, GAUSS).to(d), 12, weight=t(m, WEIGHTS).to(d),
                                                          density=True),
    "histogram_bin_tensor": lambda m, d: m.histogram(t(m, GAUSS).to(d), t(m, [-3.0, 0.0, 0.25, 2.0]).to(d)),
    "bincount_weights": lambda m, d: m.bincount(t(m, INTS).to(d), t(m, WEIGHTS[:200]).to(d), minlength=15),
}


@on_devices
@pytest.mark.parametrize("case", list(ON_DEVICE))
def test_on_each_device(case, device):
    """tinytorch on the device against torch on the CPU (torch has histogram on the CPU only)."""
    assert_same(ON_DEVICE[case](tinytorch, device), ON_DEVICE[case](torch, "cpu"), case, device=device)
