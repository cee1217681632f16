"""The LSTM layer's loop kernels (lstm_forward_, lstm_backward_): the Numba entry, in one call with MKL's
products or in a Python loop with NumPy's, leaves what the NumPy entry leaves, for padded and packed
steps in both directions, with and without an output gradient; bad steps are refused."""
import numpy as np
import pytest

from tinytorch import backends
from tinytorch.kernels.cpu import lstm as cpu_lstm
from tinytorch.kernels.cpu import mkl_matmul
from tinytorch.kernels.numpy import lstm as numpy_lstm
from tinytorch.nn.fused_rnn import time_steps

LIBRARIES = ["numpy", pytest.param("mkl", marks=pytest.mark.skipif(
    not mkl_matmul.available(), reason="the optional mkl extra is not installed (pip install -e '.[mkl]', x86-64)"))]
BATCH, HIDDEN = 5, 33
STEPS = {"padded": (None, False), "padded, reversed": (None, True),
         "packed": ((5, 5, 3, 2, 2, 1), False), "packed, reversed": ((5, 4, 4, 2, 1), True)}


def make_layer(batch_sizes, reverse, rng):
    """steps, and the arrays of one layer of BATCH sequences: (forward args, backward args without steps)."""
    n_rows = 4 * BATCH if batch_sizes is None else sum(batch_sizes)
    steps = np.asarray(time_steps((n_rows // BATCH, BATCH) if batch_sizes is None else (n_rows,), batch_sizes,
                                  reverse), np.int64)
    normal = lambda *shape: rng.standard_normal(shape).astype(np.float32)  # noqa: E731
    unwritten = lambda *shape: np.full(shape, np.nan, np.float32)  # noqa: E731
    forward = (normal(n_rows, 4 * HIDDEN), normal(HIDDEN, 4 * HIDDEN) * 0.3, normal(BATCH, HIDDEN),
               normal(BATCH, HIDDEN), unwritten(n_rows, HIDDEN), unwritten(n_rows, HIDDEN), unwritten(n_rows, HIDDEN))
    gates = rng.random((n_rows, 4 * HIDDEN)).astype(np.float32)
    gates[:, 2 * HIDDEN:3 * HIDDEN] = 2 * gates[:, 2 * HIDDEN:3 * HIDDEN] - 1
    backward = (gates, normal(n_rows, HIDDEN), np.tanh(normal(n_rows, HIDDEN)), normal(4 * HIDDEN, HIDDEN) * 0.3,
                normal(n_rows, HIDDEN), normal(BATCH, HIDDEN), normal(BATCH, HIDDEN), unwritten(n_rows, 4 * HIDDEN))
    return steps, forward, backward


def run_both(name, steps, args, library):
    """The arrays the NumPy entry and the Numba entry leave, each run on copies of args."""
    with backends.using(cpu_matmul=library):
        matmul = backends.kernel("matmul", np.empty(0, np.float32))
    left = []
    for module in (numpy_lstm, cpu_lstm):
        copies = tuple(None if a is None else a.copy() for a in args)
        getattr(module, name)(steps, *copies, matmul)
        left.append(copies)
    return left


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("layout", STEPS)
def test_forward_loop_matches_the_numpy_entry(layout, library):
    steps, forward, _ = make_layer(*STEPS[layout], np.random.default_rng(0))
    expected, got = run_both("lstm_forward_", steps, forward, library)
    for name, e, g in zip(("gates", "hh_t", "h", "c", "y", "cells", "tanh_cells"), expected, got):
        np.testing.assert_allclose(g, e, rtol=2e-5, atol=2e-6, err_msg=name)


@pytest.mark.parametrize("library", LIBRARIES)
@pytest.mark.parametrize("with_dy", [True, False])
@pytest.mark.parametrize("layout", STEPS)
def test_backward_loop_matches_the_numpy_entry(layout, with_dy, library):
    steps, _, backward = make_layer(*STEPS[layout], np.random.default_rng(1))
    args = backward if with_dy else backward[:4] + (None,) + backward[5:]
    expected, got = run_both("lstm_backward_", steps, args, library)
    for name, e, g in zip(("dh", "dc", "d_pre"), expected[5:], got[5:]):
        np.testing.assert_allclose(g, e, rtol=2e-5, atol=2e-5, err_msg=name)


@pytest.mark.skipif(not mkl_matmul.available(), reason="the optional mkl extra is not installed")
def test_with_mkl_the_loop_is_one_call_and_with_numpy_a_python_loop(monkeypatch):
    steps, forward, backward = make_layer(None, False, np.random.default_rng(2))
    ran = []
    monkeypatch.setattr(cpu_lstm, "run_forward", lambda *args: ran.append("python"))
    monkeypatch.setattr(cpu_lstm, "_forward_loop", lambda *args: ran.append("one call"))
    for library in ("mkl", "numpy"):
        with backends.using(cpu_matmul=library):
            cpu_lstm.lstm_forward_(steps, *forward, backends.kernel("matmul", forward[0]))
    assert ran == ["one call", "python"]


@pytest.mark.parametrize("module", [numpy_lstm, cpu_lstm], ids=["numpy", "cpu"])
def test_steps_outside_the_arrays_are_refused(module):
    steps, forward, backward = make_layer(None, False, np.random.default_rng(3))
    with pytest.raises(ValueError, match=r"lstm_forward_: each step \(first row, rows\) must lie in the 20 rows "
                                         r"with at most 5 rows"):
        module.lstm_forward_(np.array([[18, 5]]), *forward, np.matmul)
    with pytest.raises(ValueError, match=r"lstm_backward_: steps must be an integer array \(S, 2\)"):
        module.lstm_backward_(steps.astype(np.float32), *backward, np.matmul)
    with pytest.raises(ValueError, match=r"lstm_forward_: hh_t must have shape \(33, 132\), got \(33, 33\)"):
        module.lstm_forward_(steps, forward[0], forward[1][:, :HIDDEN], *forward[2:], np.matmul)
