"""The recurrent examples (plain PyTorch, in examples/) run unchanged under torch and run_as_torch
and print the same loss curve: the word-level LSTM language model (PyTorch's word_language_model
style: nn.LSTM with dropout between layers, clip_grad_norm_, SGD through .data) within 1e-3, and
the sine-wave predictor (time_sequence_prediction: nn.LSTMCell and optim.LBFGS in float64) to the
printed digits. Short runs of small models."""
import pytest

from scripts import TINYTORCH, losses, run_example


WORD_LM = ["--chars", "60000", "--emsize", "48", "--nhid", "48", "--steps", "24", "--log-interval", "2",
           "--eval-interval", "12", "--batch-size", "8", "--bptt", "20"]


@pytest.mark.torch
@pytest.mark.parametrize("model", ["LSTM", "GRU"])
def test_word_language_model_loss_curve_is_torchs_within_1e3(model):
    ours, theirs = (run_example(launcher, "lstm_word_lm.py", *WORD_LM, "--model", model) for launcher in (TINYTORCH, []))
    assert ours.splitlines()[0] == theirs.splitlines()[0]  # the corpus and the parameter count
    curves = [losses(out, r"(?:\| loss|\| valid loss) ([\d.]+)") for out in (ours, theirs)]
    assert len(curves[0]) == len(curves[1]) == 14, ours
    assert max(abs(a - b) for a, b in zip(*curves)) <= 1e-3, curves
    assert curves[0][-3] < curves[0][0] - 1.0, curves[0]  # it learns


@pytest.mark.torch
def test_sine_wave_lstm_cells_with_lbfgs_print_torchs_losses():
    args = ["--steps", "2", "--samples", "8", "--length", "60", "--future", "20"]
    ours, theirs = run_example(TINYTORCH, "sine_wave_lbfgs.py", *args), run_example([], "sine_wave_lbfgs.py", *args)
    assert ours == theirs
    curve = losses(ours, r"^loss: ([\d.]+)$")
    assert len(curve) > 10 and curve[-1] < curve[0] / 100, curve
