"""tinytorch.utils.tensorboard: SummaryWriter logs scalars to CSV; read_scalars / plot_scalars read them."""
import csv
import subprocess
import sys

import numpy as np
import pytest

import tinytorch
from tinytorch.compat import NotSupportedError
from tinytorch.utils.tensorboard import SummaryWriter, plot_scalars, read_scalars


def rows(log_dir, name="scalars.csv"):
    with open(log_dir / name, newline="") as f:
        return list(csv.reader(f))


def test_add_scalar_writes_tag_step_value_rows(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("train/loss", tinytorch.tensor(2.5), 0)
        w.add_scalar("train/loss", np.float32(1.25), 10)
        w.add_scalar("lr", 3e-4, global_step=10, walltime=123.0)
        w.add_scalar("untimed", 1)
    table = rows(tmp_path)
    assert table[0] == ["wall_time", "tag", "step", "value"]
    assert [r[1:] for r in table[1:]] == [["train/loss", "0", "2.5"], ["train/loss", "10", "1.25"],
                                          ["lr", "10", "0.0003"], ["untimed", "0", "1.0"]]
    assert table[3][0] == "123.0"


def test_rows_wait_for_flush_until_the_queue_fills(tmp_path):
    w = SummaryWriter(tmp_path, max_queue=3)
    w.add_scalar("a", 1.0, 0)
    assert not (tmp_path / "scalars.csv").exists()
    w.add_scalar("a", 2.0, 1)
    w.add_scalar("a", 3.0, 2)
    assert len(rows(tmp_path)) == 4
    w.add_scalar("a", 4.0, 3)
    w.flush()
    assert len(rows(tmp_path)) == 5


def test_logging_after_close_and_reusing_a_log_dir_append(tmp_path):
    w = SummaryWriter(tmp_path)
    w.add_scalar("a", 1.0, 0)
    w.close()
    w.add_scalar("a", 2.0, 1)
    w.close()
    with SummaryWriter(tmp_path) as again:
        again.add_scalar("a", 3.0, 2)
    assert read_scalars(tmp_path) == {"a": ([0, 1, 2], [1.0, 2.0, 3.0])}
    assert rows(tmp_path).count(["wall_time", "tag", "step", "value"]) == 1


def test_add_scalars_and_add_text(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_scalars("loss", {"train": 1.0, "val": 2.0}, 5)
        w.add_text("sample", "To be, or not", 5)
    assert read_scalars(tmp_path) == {"loss/train": ([5], [1.0]), "loss/val": ([5], [2.0])}
    assert rows(tmp_path, "text.csv")[1][1:] == ["sample", "5", "To be, or not"]


def test_default_log_dir_is_under_runs_with_the_comment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_lr0.1")
    assert w.get_logdir().startswith("runs") and w.get_logdir().endswith("_lr0.1")
    assert (tmp_path / w.get_logdir()).is_dir()


def test_bad_values_and_unsupported_summaries_say_so(tmp_path):
    w = SummaryWriter(tmp_path)
    with pytest.raises(ValueError, match=r"add_scalar\('x'\): expected a one-element tensor, got shape \(2,\)"):
        w.add_scalar("x", tinytorch.zeros(2))
    with pytest.raises(ValueError, match="expected a number, got str"):
        w.add_scalar("x", "high")
    with pytest.raises(NotSupportedError, match="'SummaryWriter.add_histogram' yet"):
        w.add_histogram("w", tinytorch.zeros(3), 0)
    assert not hasattr(w, "add_graph")


def test_plot_scalars_writes_a_png(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for step in range(5):
            w.add_scalar("loss", 1 / (step + 1), step)
    out = plot_scalars(tmp_path)
    assert out.endswith("scalars.png") and open(out, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match=r"no tags \['acc'\]"):
        plot_scalars(tmp_path, tags=["acc"])


def test_plot_cli_writes_a_png_and_reports_a_missing_run_in_one_line(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("loss", 1.0, 0)
    out = tmp_path / "curve.png"
    ok = subprocess.run([sys.executable, "-m", "tinytorch.utils.tensorboard", str(tmp_path), "--out", str(out)],
                        capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and out.exists() and "Warning" not in ok.stderr, ok.stderr
    bad = subprocess.run([sys.executable, "-m", "tinytorch.utils.tensorboard", str(tmp_path / "nope")],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "no scalars.csv in" in bad.stderr and "Traceback" not in bad.stderr
