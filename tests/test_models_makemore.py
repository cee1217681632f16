"""The makemore CLI: every model end to end on a small word list, checkpoints, samples, bad input."""
import json
import os
import re
import subprocess
import sys

import pytest

import tinytorch as torch
from tinytorch.models.makemore import main

QUICK = ["--max-steps", "4", "--eval-interval", "2", "--num-samples", "5", "--diagnostics-steps", "3"]


@pytest.fixture(scope="module")
def small_names(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "names300.txt"
    words = torch.data.get_path("names.txt").read_text().split()
    path.write_text("\n".join(words[::100]) + "\n")
    return path


def samples(output):
    """The words printed after the 'N samples' header."""
    lines = output.splitlines()
    start = max(i for i, line in enumerate(lines) if " samples (seed " in line)
    return lines[start + 1:]


@pytest.mark.parametrize("model", ["bigram-counts", "bigram", "mlp", "mlp-bn", "backprop-ninja", "wavenet",
                                   "transformer"])
def test_trains_writes_its_files_and_sample_only_reproduces_the_samples(small_names, tmp_path, capsys, model):
    out = tmp_path / model
    assert main(["--model", model, "--input", str(small_names), "--out", str(out), *QUICK]) == 0
    trained = samples(capsys.readouterr().out)
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("train_loss", "val_loss", "test_loss", "steps", "seconds", "params"):
        assert key in metrics
    assert metrics["steps"] == (0 if model == "bigram-counts" else 4)
    assert (out / "model.safetensors").is_file() and (out / "config.json").is_file()
    assert (out / "loss_curve.png").is_file() == (model != "bigram-counts")
    assert (out / "diagnostics.png").is_file() == (model == "mlp-bn")
    assert len(trained) == 5
    for _ in range(2):
        assert main(["--model", model, "--out", str(out), "--sample-only", "--num-samples", "5"]) == 0
        assert samples(capsys.readouterr().out) == trained


def test_backprop_ninja_prints_the_gradient_check(small_names, tmp_path, capsys):
    assert main(["--model", "backprop-ninja", "--input", str(small_names), "--out", str(tmp_path), *QUICK]) == 0
    checks = [line for line in capsys.readouterr().out.splitlines() if "| approximate:" in line]
    assert len(checks) == 28 and all("approximate: True " in line for line in checks)
    assert json.loads((tmp_path / "metrics.json").read_text())["gradient_check_passed"] is True


def test_non_ascii_characters_join_the_vocabulary(tmp_path, capsys):
    words = ["zoë", "josé", "łukasz", "anaïs", "søren", "emma", "olivia", "ava", "mia", "noah", "liam", "chloé"]
    path = tmp_path / "accents.txt"
    path.write_text("\n".join(words), encoding="utf-8")
    assert main(["--model", "mlp", "--input", str(path), "--out", str(tmp_path / "out"), *QUICK]) == 0
    chars = json.loads((tmp_path / "out" / "config.json").read_text(encoding="utf-8"))["chars"]
    assert set("ëéłïø") <= set(chars)


def one_line_error(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    return err


@pytest.mark.parametrize("content, message", [
    (b"", "no words"),
    (b"anna\n", "leaves the"),
    (b"anna\n\xff\xfe\n", "not UTF-8"),
])
def test_bad_input_files_end_with_one_line(tmp_path, capsys, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    err = one_line_error(capsys, ["--model", "mlp", "--input", str(path), "--out", str(tmp_path / "out")])
    assert message in err


def test_missing_input_and_missing_checkpoint_end_with_one_line(tmp_path, capsys):
    assert "no such file" in one_line_error(capsys, ["--model", "mlp", "--input", str(tmp_path / "nope.txt")])
    assert "train first" in one_line_error(capsys, ["--model", "mlp", "--out", str(tmp_path), "--sample-only"])


@pytest.mark.parametrize("argv, message", [
    (["--model", "gpt5"], "invalid choice: 'gpt5'"),
    (["--model", "mlp", "--max-steps", "-3"], "--max-steps: must be an integer >= 1, got -3"),
])
def test_bad_arguments_end_with_one_line(capsys, argv, message):
    assert message in one_line_error(capsys, argv)


def test_module_entry_point_reports_errors_without_traceback(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    command = [sys.executable, "-m", "tinytorch.models.makemore", "--model", "wavenet", "--input", str(empty)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120,
                          env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    assert done.returncode == 2
    assert done.stderr.strip() == f"makemore: {empty}: no words (the file is empty or holds only blank lines)"


def test_profile_writes_the_per_op_table(small_names, tmp_path):
    assert main(["--model", "mlp", "--input", str(small_names), "--out", str(tmp_path), *QUICK, "--profile", "3"]) == 0
    table = (tmp_path / "profile.txt").read_text()
    assert "MatMul" in table and "CrossEntropy" in table and "backward" in table


def test_a_folder_holding_a_run_is_refused_unless_overwrite_is_given(small_names, tmp_path, capsys):
    argv = ["--model", "bigram", "--input", str(small_names), "--out", str(tmp_path), *QUICK]
    assert main(argv) == 0
    capsys.readouterr()
    weights = (tmp_path / "model.safetensors").read_bytes()
    err = one_line_error(capsys, argv)
    assert f"--out {tmp_path} already holds a run (model.safetensors, config.json, metrics.json" in err
    assert err.endswith("give --overwrite to replace it") and (tmp_path / "model.safetensors").read_bytes() == weights
    assert main(["--model", "mlp", "--input", str(small_names), "--out", str(tmp_path), *QUICK, "--overwrite"]) == 0
    assert json.loads((tmp_path / "config.json").read_text())["model"] == "mlp"


def test_temperature_zero_samples_the_most_likely_characters(small_names, tmp_path, capsys):
    assert main(["--model", "mlp", "--input", str(small_names), "--out", str(tmp_path), *QUICK]) == 0
    capsys.readouterr()
    greedy = []
    for seed in ("1", "2"):
        assert main(["--model", "mlp", "--out", str(tmp_path), "--sample-only", "--temperature", "0",
                     "--seed", seed]) == 0
        greedy.append(samples(capsys.readouterr().out))
    assert greedy[0] == greedy[1] and len(set(greedy[0])) == 1  # the same word every time, whatever the seed


@pytest.mark.parametrize("argv, message", [
    (["--temperature", "-1"], r"--temperature: must be a finite number >= 0 \(0: greedy\), got '-1'"),
    (["--max-steps", "0"], "--max-steps: must be an integer >= 1, got 0"),
    (["--batch-size", "100000"], r"--batch-size must be at most the [\d,]+ training examples \(0: all of them\), "
                                 "got 100000"),
])
def test_bad_numbers_end_with_one_line_naming_the_flag(small_names, tmp_path, capsys, argv, message):
    err = one_line_error(capsys, ["--model", "mlp", "--input", str(small_names), "--out", str(tmp_path / "o"), *argv])
    assert re.search(message, err) and not (tmp_path / "o").exists()


@pytest.mark.parametrize("config", ["{not json", '{"model": "mlp", "chars": 5}', "[1, 2]", "[" * 100_000])
def test_a_damaged_config_json_is_one_line_naming_the_file(small_names, tmp_path, capsys, config):
    assert main(["--model", "mlp", "--input", str(small_names), "--out", str(tmp_path), *QUICK]) == 0
    capsys.readouterr()
    (tmp_path / "config.json").write_text(config)
    err = one_line_error(capsys, ["--model", "mlp", "--out", str(tmp_path), "--sample-only"])
    assert f"{tmp_path / 'config.json'} is not a makemore config.json" in err
