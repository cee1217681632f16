"""`make demo` runs tinytorch.demo: a (here shortened) shakespeare-char-cpu training run and a sample."""
import json

from tinytorch import demo


def test_demo_trains_the_char_gpt_and_prints_a_sample(tmp_path, capsys):
    import tinytorch.backends as backends
    from tinytorch.cpu_matmul import mkl_available
    before = backends.kernels, backends.cpu_matmul
    demo.main(["--out", str(tmp_path), "--max_iters=4", "--eval_interval=2", "--eval_iters=1", "--warmup_iters=1",
               "--lr_decay_iters=4"])
    out = capsys.readouterr().out
    assert "Sample" in out
    sample = out.split("Sample", 1)[1]
    assert len(sample.strip()) > 100
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["steps"] == 4 and metrics["final_val_loss"] > 0
    assert metrics["kernels"] == "numba"                                     # the demo's settings,
    assert metrics["cpu_matmul"] == ("mkl" if mkl_available() else "numpy")
    assert (backends.kernels, backends.cpu_matmul) == before                  # then restored
