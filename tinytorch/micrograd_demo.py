"""micrograd's demo: a 2-16-16-1 ReLU MLP of scalar `Value`s learns the two-moons data set.

Exactly the recipe of karpathy/micrograd demo.ipynb: make_moons(n_samples=100, noise=0.1) with
NumPy seeded 1337, weights from Python's `random` seeded 1337, SVM max-margin loss
mean(relu(1 - y * score)) + 1e-4 * sum(p**2), full-batch SGD for 100 steps with the learning
rate decaying 1.0 -> 0.1. It reaches 100% training accuracy.

    python -m tinytorch.micrograd_demo --out out/micrograd

writes decision_boundary.png, loss_curve.png and metrics.json into --out (atomically; a folder that
holds an earlier run is refused unless --overwrite is given).
"""
import json
import random
import time

import numpy as np
from tqdm import tqdm

from tinytorch import cli
from tinytorch.engine import MLP, Value
from tinytorch.serialization import atomic
from tinytorch.terminal import printable

RUN_FILES = ("decision_boundary.png", "loss_curve.png", "metrics.json")


def make_moons(n_samples=100, noise=0.1, rng=None):
    """Two interleaving half circles; the same algorithm and random stream as sklearn's make_moons.

    Returns X of shape (n_samples, 2), float64, and y of shape (n_samples,), int64 in {0, 1}.
    `rng` is a `np.random.RandomState` (default: NumPy's global one, like sklearn with
    random_state=None): `RandomState(1337)` gives the points of `np.random.seed(1337)`.
    """
    rng = rng if rng is not None else np.random
    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    outer = np.linspace(0, np.pi, n_outer)
    inner = np.linspace(0, np.pi, n_inner)
    X = np.vstack([np.append(np.cos(outer), 1 - np.cos(inner)),
                   np.append(np.sin(outer), 1 - np.sin(inner) - 0.5)]).T
    y = np.hstack([np.zeros(n_outer, dtype=np.int64), np.ones(n_inner, dtype=np.int64)])
    order = np.arange(n_samples)
    rng.shuffle(order)
    X, y = X[order], y[order]
    X += rng.normal(scale=noise, size=X.shape)
    return X, y


def svm_loss(model, X, y, alpha=1e-4):
    """Max-margin loss on labels y in {-1, +1}: mean(relu(1 - y * score)) + alpha * sum(p**2).

    Returns (total loss as a Value, accuracy as a fraction of points with sign(score) == y).
    """
    inputs = [[Value(float(x)) for x in row] for row in X]
    scores = [model(row) for row in inputs]
    margins = [(1 + -float(yi) * score).relu() for yi, score in zip(y, scores)]
    data_loss = sum(margins) * (1.0 / len(margins))
    reg_loss = alpha * sum(p * p for p in model.parameters())
    accuracy = sum((yi > 0) == (score.data > 0) for yi, score in zip(y, scores)) / len(y)
    return data_loss + reg_loss, accuracy


def train(model, X, y, steps=100, progress=True):
    """Full-batch SGD, lr = 1.0 - 0.9 * k / 100 at step k. Returns [(loss, accuracy)] per step."""
    history = []
    for k in tqdm(range(steps), desc="micrograd moons", disable=not progress):
        loss, accuracy = svm_loss(model, X, y)
        model.zero_grad()
        loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        history.append((loss.data, accuracy))
        tqdm.write(f"step {k} loss {loss.data:.6f}, accuracy {accuracy * 100:.0f}%")
    return history


def _pyplot():
    """matplotlib.pyplot on the file-only Agg backend (imported late: the engine needs no plotting)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_decision_boundary(model, X, y, path, step=0.1):
    """Sign of the model's score on a grid (spacing `step`) around the data, with the points on top."""
    plt = _pyplot()
    xs = np.arange(X[:, 0].min() - 1, X[:, 0].max() + 1, step)
    ys = np.arange(X[:, 1].min() - 1, X[:, 1].max() + 1, step)
    xx, yy = np.meshgrid(xs, ys)
    scores = [model([Value(float(a)), Value(float(b))]).data for a, b in zip(xx.ravel(), yy.ravel())]
    positive = (np.array(scores) > 0).reshape(xx.shape)
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.contourf(xx, yy, positive, cmap=plt.cm.Spectral, alpha=0.8)
    ax.scatter(X[:, 0], X[:, 1], c=y, s=40, cmap=plt.cm.Spectral, edgecolors="k")
    ax.set(xlim=(xx.min(), xx.max()), ylim=(yy.min(), yy.max()), title="MLP(2, [16, 16, 1]) on moons")
    _save_png(plt, fig, path)


def plot_loss_curve(history, path):
    """Total loss per step, log scale."""
    plt = _pyplot()
    losses = [loss for loss, _ in history]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(losses)
    ax.set(yscale="log", xlabel="step", ylabel="total loss (hinge + L2)", title="micrograd moons: training loss")
    _save_png(plt, fig, path)


def _save_png(plt, fig, path):
    with atomic.replacing(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)


def run(out, steps=100, seed=1337, progress=True, overwrite=False):
    """The whole demo; writes the plots and metrics.json into `out` and returns the metrics."""
    out = cli.claim_run_folder(out, RUN_FILES, overwrite=overwrite)
    X, y = make_moons(n_samples=100, noise=0.1, rng=np.random.RandomState(seed))
    y = y * 2 - 1
    model = MLP(2, [16, 16, 1], rng=random.Random(seed))
    t0 = time.perf_counter()
    history = train(model, X, y, steps=steps, progress=progress)
    seconds = time.perf_counter() - t0
    first_perfect = next((k for k, (_, acc) in enumerate(history) if acc == 1.0), None)
    metrics = {
        "steps": steps,
        "params": len(model.parameters()),
        "seconds": round(seconds, 3),
        "train_loss": history[-1][0],
        "train_accuracy": history[-1][1],
        "first_step_at_100pct": first_perfect,
        "history": [{"step": k, "loss": loss, "accuracy": acc} for k, (loss, acc) in enumerate(history)],
    }
    plot_decision_boundary(model, X, y, out / "decision_boundary.png")
    plot_loss_curve(history, out / "loss_curve.png")
    atomic.write_text(out / "metrics.json", json.dumps(metrics, indent=1) + "\n")
    return metrics


def main(argv=None):
    parser = cli.Parser(prog="python -m tinytorch.micrograd_demo", description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="out/micrograd", help="folder for the plots and metrics.json")
    parser.add_argument("--overwrite", action="store_true", help="replace the run already in --out")
    parser.add_argument("--steps", type=cli.integer(1), default=100, help="SGD steps (micrograd: 100)")
    parser.add_argument("--seed", type=cli.integer(0, 2 ** 32 - 1), default=1337,
                        help="seed of the data and the weights (micrograd: 1337)")
    args = parser.parse_args(argv)
    try:
        metrics = run(args.out, steps=args.steps, seed=args.seed, overwrite=args.overwrite)
    except ValueError as e:
        cli.exit_with(e, "micrograd_demo")
    except OSError as e:
        cli.exit_with(f"cannot write to {args.out}: {e}", "micrograd_demo")
    print(f"{metrics['params']} params, {metrics['steps']} steps in {metrics['seconds']:.1f}s: "
          f"loss {metrics['train_loss']:.6f}, accuracy {metrics['train_accuracy'] * 100:.0f}% "
          f"(first 100% at step {metrics['first_step_at_100pct']}); plots in {printable(args.out)}")


if __name__ == "__main__":
    main()
