"""`make demo` runs tinytorch.demo: a (here shortened) shakespeare-char-cpu training run and a sample."""
import json

from tinytorch import demo


def test_demo_trains_the_char_gpt_and_prints_a_sample(tmp_path, capsys):
    import tinytorch.backends as backends
    before = backends.kernels, backends.cpu_matmul
    demo.main(["--out", str(tmp_path), "--max_iters=4", "--eval_interval=2", "--eval_iters=1", "--warmup_iters=1",
               "--lr_decay_iters=4"])
    out = capsys.readouterr().out
    assert "Sample" in out
    sample = out.split("Sample", 1)[1]
    assert len(sample.strip()) > 100
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["steps"] == 4 and metrics["final_val_loss"] > 0
    assert metrics["kernels"] == backends.kernels                             # tinytorch's defaults
    assert metrics["cpu_matmul"] == backends.matmul_library()
    assert (backends.kernels, backends.cpu_matmul) == before


def test_demo_run_twice_writes_a_new_folder_each_time(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    quick = ["--max_iters=2", "--eval_interval=2", "--eval_iters=1", "--warmup_iters=1", "--lr_decay_iters=2",
             "--n_layer=1", "--n_embd=32", "--block_size=16", "--kernels", "numpy"]
    demo.main(quick)
    demo.main(quick)
    assert "Output in runs/demo-2." in capsys.readouterr().out
    assert all((tmp_path / "runs" / name / "metrics.json").is_file() for name in ("demo", "demo-2"))
