"""micrograd's moons demo, run in full: it must reproduce karpathy/micrograd demo.ipynb (REFERENCE_NUMBERS row 1)."""
import json

import numpy as np
import pytest

from tinytorch import micrograd_demo
from tinytorch.micrograd_demo import make_moons

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("micrograd")
    return out, micrograd_demo.run(out, progress=False)


def test_demo_reaches_100_percent_train_accuracy(demo_run):
    _, metrics = demo_run
    assert metrics["params"] == 337
    assert metrics["train_accuracy"] == 1.0


def test_demo_reproduces_micrograd_notebook_numbers(demo_run):
    _, metrics = demo_run
    published = {0: (0.8958, 0.50), 1: (1.7236, 0.81), 10: (0.2451, 0.91), 22: (0.1173, 0.97), 40: (0.0602, 1.0)}
    for step, (loss, accuracy) in published.items():
        row = metrics["history"][step]
        assert (round(row["loss"], 4), row["accuracy"]) == (loss, accuracy), step
    assert round(metrics["train_loss"], 6) == 0.010978
    assert metrics["first_step_at_100pct"] == 40
    assert all(row["accuracy"] == 1.0 for row in metrics["history"][70:])


def test_demo_writes_plots_and_metrics(demo_run):
    out, metrics = demo_run
    for name in ("decision_boundary.png", "loss_curve.png"):
        assert (out / name).read_bytes()[:8] == PNG_MAGIC, name
    assert json.loads((out / "metrics.json").read_text())["train_loss"] == metrics["train_loss"]


def test_make_moons_puts_noiseless_points_on_two_half_circles():
    X, y = make_moons(n_samples=101, noise=0.0, rng=np.random.RandomState(0))
    assert X.shape == (101, 2) and X.dtype == np.float64 and y.dtype == np.int64
    assert (y == 0).sum() == 50 and (y == 1).sum() == 51
    outer, inner = X[y == 0], X[y == 1]
    assert np.allclose(np.hypot(outer[:, 0], outer[:, 1]), 1.0) and (outer[:, 1] >= -1e-12).all()
    assert np.allclose(np.hypot(inner[:, 0] - 1, inner[:, 1] - 0.5), 1.0) and (inner[:, 1] <= 0.5 + 1e-12).all()


def test_make_moons_is_shuffled_and_seeded():
    X1, y1 = make_moons(rng=np.random.RandomState(1337))
    X2, y2 = make_moons(rng=np.random.RandomState(1337))
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)
    assert not (np.array_equal(y1[:50], np.zeros(50)) and np.array_equal(y1[50:], np.ones(50)))


def test_cli_rejects_bad_steps_with_a_one_line_message(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        micrograd_demo.main(["--out", str(tmp_path), "--steps", "0"])
    assert exit_info.value.code == 2
    assert "--steps: must be an integer >= 1, got 0" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_cli_reports_an_unwritable_out_folder_in_one_line(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with pytest.raises(SystemExit) as exit_info:
        micrograd_demo.main(["--out", str(blocker / "out")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"micrograd_demo: cannot write to {blocker / 'out'}") and err.count("\n") == 1


def test_cli_refuses_a_folder_holding_a_run_unless_overwrite_is_given(demo_run, capsys):
    out, _ = demo_run
    finished = (out / "metrics.json").read_bytes()
    with pytest.raises(SystemExit) as exit_info:
        micrograd_demo.main(["--out", str(out), "--steps", "1"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err == (f"micrograd_demo: --out {out} already holds a run (decision_boundary.png, loss_curve.png, "
                   "metrics.json); give --overwrite to replace it\n")
    assert (out / "metrics.json").read_bytes() == finished


def test_cli_overwrites_when_told_to(tmp_path):
    micrograd_demo.main(["--out", str(tmp_path), "--steps", "1"])
    micrograd_demo.main(["--out", str(tmp_path), "--steps", "2", "--overwrite"])
    assert json.loads((tmp_path / "metrics.json").read_text())["steps"] == 2


def test_cli_rejects_a_seed_numpy_cannot_take(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        micrograd_demo.main(["--out", str(tmp_path), "--seed", "-1"])
    assert exit_info.value.code == 2
    assert "argument --seed: must be an integer in 0..4294967295, got -1" in capsys.readouterr().err
