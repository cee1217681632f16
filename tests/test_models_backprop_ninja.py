"""Lecture 5: every hand-written gradient of the backprop-ninja MLP against autograd."""
import re

import numpy as np
import pytest

import tinytorch as torch
from tinytorch.models.backprop_ninja import CHECKED, BackpropNinjaMLP, check_gradients
from tinytorch.models.makemore_data import CharVocab, context_examples, lecture_split, read_words


@pytest.fixture(scope="module")
def batch():
    words = read_words(torch.data.get_path("names.txt"))
    X, Y = context_examples(lecture_split(words).train, CharVocab.from_words(words), 3)
    ix = torch.randint(0, X.shape[0], (32,), generator=torch.Generator().manual_seed(5))
    return X[ix], Y[ix]


def lecture_model(hidden=64):
    """Lecture 5's exercise-1 network: embedding 10, hidden 64, 4,137 parameters."""
    torch.manual_seed(42)
    return BackpropNinjaMLP(27, block_size=3, n_embd=10, n_hidden=hidden)


def test_lecture_model_has_4137_parameters():
    assert sum(p.numel() for p in lecture_model().parameters()) == 4137


def test_every_hand_written_gradient_matches_autograd(batch, capsys):
    rows = check_gradients(lecture_model(), *batch)
    assert [r[0] for r in rows] == CHECKED + ["logits (fused)", "hprebn (fused)"]
    for name, exact, approximate, maxdiff in rows:
        assert approximate, name
        assert maxdiff < 1e-6, (name, maxdiff)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(CHECKED) + 2
    line = re.compile(r"^.{15} \| exact: (True |False) \| approximate: True  \| maxdiff: \S+$")
    assert all(line.match(text) for text in lines), lines


def test_manual_training_gradients_equal_autograd(batch):
    model = lecture_model(hidden=200)
    loss = model.manual_gradients(*batch)
    manual = {name: p.grad.numpy().copy() for name, p in model.named_parameters()}
    model.zero_grad()
    _, autograd_loss = model(*batch)
    autograd_loss.backward()
    assert loss.item() == pytest.approx(autograd_loss.item(), abs=1e-6)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(manual[name], p.grad.numpy(), atol=1e-6, rtol=1e-5, err_msg=name)


@pytest.mark.torch
def test_float64_hand_written_gradients_equal_torch_autograd(batch):
    """The "beat" target of REFERENCE_NUMBERS.md §3: parity with torch in float64, <= 1e-9."""
    import torch as pt
    model = lecture_model().double()
    X, Y = batch
    t = model.forward_steps(X, Y)
    manual = model.backward_steps(t, X, Y)
    p = {name: pt.tensor(param.detach().numpy(), requires_grad=True) for name, param in model.named_parameters()}
    n = Y.shape[0]
    emb = p["C"][pt.tensor(X.numpy())]
    hprebn = emb.view(n, -1) @ p["W1"] + p["b1"]
    bnraw = (hprebn - hprebn.mean(0, keepdim=True)) * (hprebn.var(0, keepdim=True, unbiased=True) + 1e-5) ** -0.5
    logits = pt.tanh(p["bngain"] * bnraw + p["bnbias"]) @ p["W2"] + p["b2"]
    loss = pt.nn.functional.cross_entropy(logits, pt.tensor(Y.numpy()))
    loss.backward()
    assert t["loss"].item() == pytest.approx(loss.item(), abs=1e-12)
    for name, param in p.items():
        np.testing.assert_allclose(manual[name].numpy(), param.grad.numpy(), atol=1e-9, rtol=0, err_msg=name)


def test_calibrated_eval_equals_training_mode_on_the_calibration_set(batch):
    model = lecture_model()
    X, _ = batch
    model.calibrate(X)
    with torch.no_grad():
        train_logits = model.train()(X)[0].numpy()
        eval_logits = model.eval()(X)[0].numpy()
    np.testing.assert_allclose(eval_logits, train_logits, atol=1e-5)
