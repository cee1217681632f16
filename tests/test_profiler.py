"""tinytorch.profiler: per-op forward/backward counts, times and bytes, and clean restoration."""
import tinytorch
from tinytorch import profiler
from tinytorch.ops import elementwise, linalg


def _step(x, w):
    loss = (x @ w).tanh().sum()
    loss.backward()
    return loss


def test_counts_each_op_and_pass():
    x = tinytorch.randn(8, 16, requires_grad=True)
    w = tinytorch.randn(16, 4, requires_grad=True)
    with profiler.profile() as prof:
        for _ in range(3):
            _step(x, w)
    rows = {(name, which): (calls, secs, nbytes) for name, which, calls, secs, nbytes in prof.key_averages()}
    assert rows[("MatMul", "forward")][0] == 3
    assert rows[("MatMul", "backward")][0] == 3
    assert rows[("Tanh", "forward")][0] == 3
    # forward of x @ w returns an (8, 4) float32 array per call
    assert rows[("MatMul", "forward")][2] == 3 * 8 * 4 * 4
    # backward returns dx (8, 16) and dw (16, 4)
    assert rows[("MatMul", "backward")][2] == 3 * (8 * 16 + 16 * 4) * 4
    assert all(secs >= 0 for _, secs, _ in rows.values())


def test_table_is_sorted_and_names_ops():
    x = tinytorch.randn(32, 32, requires_grad=True)
    with profiler.profile() as prof:
        _step(x, x)
    table = prof.table()
    assert "MatMul" in table and "backward" in table and "ms wall" in table
    totals = [r[3] for r in prof.key_averages()]
    assert totals == sorted(totals, reverse=True)


def test_functions_are_restored_after_exit(tmp_path):
    forward, backward = linalg.MatMul.forward, elementwise.Tanh.backward
    with profiler.profile() as prof:
        assert linalg.MatMul.forward is not forward
    assert linalg.MatMul.forward is forward and elementwise.Tanh.backward is backward
    x = tinytorch.randn(4, 4, requires_grad=True)
    _step(x, x)  # runs unprofiled
    assert not any(calls for _, _, calls, _, _ in prof.key_averages())
    prof.export(tmp_path / "profile.txt")
    assert (tmp_path / "profile.txt").read_text().startswith("op")
