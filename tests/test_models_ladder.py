"""The makemore ladder's models: sizes, first losses, overfitting one batch, checkpoints, sampling."""
import math
from collections import Counter, defaultdict

import numpy as np
import pytest

import tinytorch as torch
from tinytorch.models import diagnostics
from tinytorch.models.bigram import CountBigram, NeuralBigram
from tinytorch.models.ladder import LADDER
from tinytorch.models.makemore_data import CharVocab, context_examples, lecture_split, read_words, sequence_examples
from tinytorch.models.sampling import fixed_context
from tinytorch.models.trainer import TrainConfig, evaluate, train

LN27 = math.log(27)
SEQUENCE_LENGTH = 16  # names.txt: longest name 15 characters, plus the start token


@pytest.fixture(scope="module")
def names():
    words = read_words(torch.data.get_path("names.txt"))
    return words, CharVocab.from_words(words)


def examples_for(name, words, vocab):
    rung = LADDER[name]
    if rung.block_size is None:
        return sequence_examples(words, vocab, SEQUENCE_LENGTH)
    return context_examples(words, vocab, rung.block_size)


def build(name, seed=0):
    torch.manual_seed(seed)
    return LADDER[name].build(27, LADDER[name].block_size or SEQUENCE_LENGTH)


@pytest.mark.parametrize("name, params", [
    ("bigram", 27 * 27), ("mlp", 11_897), ("mlp-bn", 12_097), ("backprop-ninja", 12_297),
    ("wavenet", 76_579), ("transformer", 204_544)])
def test_parameter_counts_match_the_lectures(name, params):
    assert sum(p.numel() for p in build(name).parameters()) == params


def test_deep_diagnostics_net_has_the_lectures_47024_parameters():
    torch.manual_seed(0)
    assert sum(p.numel() for p in diagnostics.DeepMLP(27).parameters()) == 47_024


@pytest.mark.filterwarnings("ignore:divide by zero encountered in log")
@pytest.mark.parametrize("smoothing, nll", [(1.0, 2.45458), (0.0, 2.45401)])
def test_count_bigram_nll_over_all_names(names, smoothing, nll):
    # REFERENCE_NUMBERS.md row 4 (float64 recomputation): 2.45458 with +1 smoothing, 2.45401 MLE.
    words, vocab = names
    X, Y = context_examples(words, vocab, 1)
    assert X.shape[0] == 228_146
    model = CountBigram(27, smoothing)
    model.fit(X, Y)
    _, loss = model(X, Y)
    assert abs(loss.item() - nll) < 1e-4
    assert abs(loss.item() - 2.454) <= 0.001


# The first loss on the examples of 1,000 names. A softmax over logits with spread s costs about
# ln V + s^2 / 2 at init: N(0, 1) bigram logits give ln 27 + 0.5; lecture 5's W2 * 0.1 over
# 200 tanh units (std ~0.63) gives s^2 ~ 0.8; lecture 3's unscaled init is "confidently
# wrong" (lecture 4 measures 27.88); the fixed inits (mlp-bn, wavenet) start at ln 27.
@pytest.mark.parametrize("name, low, high", [
    ("bigram-counts", LN27 - 1e-6, LN27 + 1e-6),
    ("bigram", LN27 + 0.35, LN27 + 0.65),
    ("mlp", 15.0, 40.0),
    ("mlp-bn", LN27 - 0.02, LN27 + 0.02),
    ("backprop-ninja", LN27 + 0.25, LN27 + 0.6),
    ("wavenet", LN27 - 0.02, LN27 + 0.02),
    ("transformer", LN27, LN27 + 0.3),
])
def test_initial_loss(names, name, low, high):
    words, vocab = names
    X, Y = examples_for(name, lecture_split(words).train[:1000], vocab)
    with torch.no_grad():
        _, loss = build(name)(X, Y)
    assert low <= loss.item() <= high


def conditional_entropy(X, Y):
    """H(Y | context) of a batch, in nats: the least loss any model of these contexts can reach.

    The context of a target is its row of X, or for sequences the prefix up to its position."""
    by_context = defaultdict(Counter)
    X, Y = X.tolist(), Y.tolist()
    for x, y in zip(X, Y):
        if isinstance(y, list):
            for t, target in enumerate(y):
                if target != -1:
                    by_context[tuple(x[:t + 1])][target] += 1
        else:
            by_context[tuple(x)][y] += 1
    total = sum(sum(c.values()) for c in by_context.values())
    return -sum(n / total * math.log(n / sum(c.values())) for c in by_context.values() for n in c.values())


@pytest.mark.parametrize("name, steps, lr", [
    ("bigram", 300, 0.1), ("mlp", 300, 0.03), ("mlp-bn", 300, 0.03), ("backprop-ninja", 300, 0.03),
    ("wavenet", 300, 0.01), ("transformer", 80, 0.02)])
def test_overfits_a_single_batch(names, name, steps, lr):
    words, vocab = names
    batch = lecture_split(words).train[:8 if name == "transformer" else 6]
    X, Y = examples_for(name, batch, vocab)
    X, Y = X[:32], Y[:32]
    model = NeuralBigram(27, reg=0.0) if name == "bigram" else build(name)
    cfg = TrainConfig(max_steps=steps, batch_size=0, lr=lr, lr_decay_step=None, optimizer="adamw",
                      eval_interval=steps, eval_examples=0)
    history = train(model, {"train": (X, Y), "val": (X, Y)}, cfg)
    floor = conditional_entropy(X, Y)
    assert history.losses[0] > floor + 1.0
    assert history.losses[-1] < floor + 0.05


def test_keep_best_ends_with_the_weights_of_the_best_evaluation(names):
    words, vocab = names
    splits = lecture_split(words[:400])
    examples = {"train": context_examples(splits.train, vocab, 3), "val": context_examples(splits.val, vocab, 3)}
    cfg = TrainConfig(max_steps=160, batch_size=8, lr=0.5, lr_decay_step=None, eval_interval=20, eval_examples=0,
                      keep_best=True)
    model = build("mlp")
    history = train(model, examples, cfg)
    best = min(history.evals, key=lambda e: e["val"])
    assert history.best_step == best["step"] < cfg.max_steps  # a later, worse evaluation was undone
    assert evaluate(model, *examples["val"]) == pytest.approx(best["val"], abs=1e-6)


@pytest.mark.filterwarnings("ignore:divide by zero encountered in log")
def test_count_bigram_fitted_on_a_batch_reaches_its_conditional_entropy(names):
    words, vocab = names
    X, Y = context_examples(lecture_split(words).train[:6], vocab, 1)
    model = CountBigram(27, smoothing=0.0)
    model.fit(X, Y)
    _, loss = model(X, Y)
    assert loss.item() == pytest.approx(conditional_entropy(X, Y), abs=1e-5)


@pytest.mark.parametrize("name", list(LADDER))
def test_checkpoint_round_trip(names, tmp_path, name):
    words, vocab = names
    X, Y = examples_for(name, lecture_split(words).train[:20], vocab)
    model = build(name, seed=1)
    if hasattr(model, "fit"):
        model.fit(X, Y)
    model.train()
    with torch.no_grad():
        model(X, Y)  # moves BatchNorm running statistics away from their init
    torch.save(model.state_dict(), tmp_path / "model.safetensors")
    restored = build(name, seed=2)
    restored.load_state_dict(torch.load(tmp_path / "model.safetensors"))
    model.eval()
    restored.eval()
    with torch.no_grad():
        expected, restored_logits = model(X)[0].numpy(), restored(X)[0].numpy()
    np.testing.assert_array_equal(restored_logits, expected)


def test_fixed_context_pads_with_the_boundary_token_and_crops():
    idx = torch.tensor([[5, 6], [7, 8]])
    assert fixed_context(idx, 3).tolist() == [[0, 5, 6], [0, 7, 8]]
    assert fixed_context(idx, 1).tolist() == [[6], [8]]


@pytest.mark.parametrize("name", ["bigram-counts", "mlp-bn", "wavenet", "transformer"])
def test_generate_appends_tokens_and_is_reproducible(names, name):
    model = build(name)
    if hasattr(model, "fit"):
        words, vocab = names
        model.fit(*context_examples(words[:100], vocab, 1))
    model.eval()
    start = torch.zeros(4, 1, dtype=torch.long)
    first = model.generate(start, 10, generator=torch.Generator().manual_seed(7))
    again = model.generate(start, 10, generator=torch.Generator().manual_seed(7))
    assert first.shape == (4, 11) and first.tolist() == again.tolist()
    assert 0 <= first.min().item() and first.max().item() < 27
    greedy = model.generate(start, 1, top_k=1)
    with torch.no_grad():
        logits, _ = model(start)
    last = logits[:, -1, :] if logits.ndim == 3 else logits
    assert greedy[:, 1].tolist() == last.argmax(-1).tolist()


def test_diagnostics_write_the_plot_and_lecture_like_statistics(names, tmp_path):
    words, vocab = names
    X, Y = context_examples(lecture_split(words).train[:500], vocab, 3)
    report = diagnostics.run(X, Y, 27, tmp_path, steps=30, log=lambda *a: None)
    assert (tmp_path / "diagnostics.png").stat().st_size > 10_000
    assert (tmp_path / "diagnostics.json").is_file()
    layers = report["tanh_layers"]
    assert [layer["index"] for layer in layers] == [2, 5, 8, 11, 14]
    # BatchNorm keeps every tanh input near N(0, 1): tanh std ~0.63, ~3 % beyond |t| > 0.97.
    for layer in layers:
        assert 0.55 < layer["std"] < 0.72
        assert 0.5 < layer["saturated_pct"] < 6.0
    assert len(report["final_update_ratio_log10"]) == 7
