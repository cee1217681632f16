"""The makemore ladder: each model of lectures 2 to 6, and makemore's transformer, with the
configuration its lecture trains it with (the CLI's defaults)."""
from dataclasses import dataclass
from typing import Callable, Optional

import tinytorch as torch

from . import diagnostics
from .backprop_ninja import BackpropNinjaMLP, check_gradients
from .bigram import CountBigram, NeuralBigram
from .makemore_data import lecture_split, makemore_split
from .mlp import MLP
from .mlp_bn import BatchNormMLP
from .trainer import TrainConfig, evaluate
from .transformer import Transformer
from .wavenet import WaveNet

LECTURE_SEED = 2147483647  # the lectures' torch.Generator().manual_seed(2147483647)


def _gradient_check(run):
    """Lecture 5: every hand-made gradient against autograd's, on one batch, before training."""
    X, Y = run.examples["train"]
    run.log("backprop ninja: hand-written gradients vs autograd on one batch of 32, at init")
    rows = check_gradients(run.model, X[:32], Y[:32])
    return {"gradient_check": [dict(zip(("tensor", "exact", "approximate", "maxdiff"), r)) for r in rows],
            "gradient_check_passed": all(r[2] for r in rows)}


def _diagnostics(run):
    """Lecture 4: the deep BatchNorm MLP's activation / gradient / update diagnostics."""
    steps = run.args.diagnostics_steps
    if not steps:
        return {}
    X, Y = run.examples["train"]
    run.log(f"diagnostics: the 6-layer BatchNorm MLP for {steps} steps -> {run.out_dir / 'diagnostics.png'}")
    summary = diagnostics.run(X, Y, len(run.vocab), run.out_dir, steps=steps, log=run.log)
    return {"diagnostics": {k: summary[k] for k in ("step", "loss", "params", "tanh_layers")}}


def _all_words_nll(run):
    """Lecture 2's number: the count model fitted on every word and scored on every word."""
    X, Y = (torch.cat([run.examples[s][i] for s in ("train", "val", "test")]) for i in (0, 1))
    model = CountBigram(len(run.vocab)).to(X.device)
    model.fit(X, Y)
    nll = evaluate(model, X, Y)
    run.log(f"count bigram fitted and scored on all {X.shape[0]:,} bigrams: NLL {nll:.5f}")
    return {"all_words_loss": nll}


@dataclass(frozen=True)
class Rung:
    build: Callable            # (vocab_size, block_size) -> model
    block_size: Optional[int]  # context length; None: whole words (max word length + 1)
    train: TrainConfig
    seed: int
    lecture: str               # the published numbers this run reproduces
    split: Callable = lecture_split
    before_training: Optional[Callable] = None   # (run) -> extra metrics; run: see makemore.Run
    after_training: Optional[Callable] = None    # (run) -> extra metrics


_SGD_200K = TrainConfig(max_steps=200_000, batch_size=32, lr=0.1, lr_decay_step=100_000)

LADDER = {
    "bigram-counts": Rung(
        lambda v, b: CountBigram(v), 1, TrainConfig(max_steps=0), LECTURE_SEED,
        "lecture 2: NLL 2.454 over all 228,146 bigrams (counts + 1 smoothing)", after_training=_all_words_nll),
    "bigram": Rung(
        lambda v, b: NeuralBigram(v), 1,
        TrainConfig(max_steps=100, batch_size=0, lr=50.0, lr_decay_step=None, eval_interval=10, eval_examples=0),
        LECTURE_SEED, "lecture 2: loss incl. 0.01 * mean(W^2) 2.4818 (100 full-batch steps, lr 50)"),
    "mlp": Rung(
        lambda v, b: MLP(v, b), 3, _SGD_200K, LECTURE_SEED, "lecture 3: train 2.1260 / val 2.1701"),
    "mlp-bn": Rung(
        lambda v, b: BatchNormMLP(v, b), 3, _SGD_200K, LECTURE_SEED, "lecture 4: train 2.0668 / val 2.1048",
        after_training=_diagnostics),
    "backprop-ninja": Rung(
        lambda v, b: BackpropNinjaMLP(v, b), 3, _SGD_200K, LECTURE_SEED, "lecture 5: train 2.0705 / val 2.1099",
        before_training=_gradient_check),
    "wavenet": Rung(
        lambda v, b: WaveNet(v, b), 8,
        TrainConfig(max_steps=200_000, batch_size=32, lr=0.1, lr_decay_step=150_000), 42,
        "lecture 6: train 1.7690 / val 1.9937"),
    "transformer": Rung(
        lambda v, b: Transformer(v, b), None,
        TrainConfig(max_steps=20_000, batch_size=32, lr=5e-4, lr_decay_step=None, optimizer="adamw",
                    weight_decay=0.01, eval_interval=500, eval_examples=1000, keep_best=True),
        3407, "makemore README: test loss ~1.92 (makemore trains until stopped, keeping its best test loss)",
        split=makemore_split),
}
