"""PNG plots of the stages, drawn on matplotlib Figures (Agg canvas, no display) and written atomically."""
import numpy as np
from matplotlib.figure import Figure

from .run_folder import save_figure


def losses(step_loss, evals, path, title, ylabel="loss (nats/token)"):
    """Per-step training loss (smoothed over ~100 points) and the periodic train/val evaluations."""
    series = {}
    window = max(1, len(step_loss) // 100)
    usable = len(step_loss) // window * window
    if usable:
        means = np.asarray(step_loss[:usable]).reshape(-1, window).mean(1)
        series["train (per step" + (f", mean of {window})" if window > 1 else ")")] = (
            (np.arange(len(means)) + 1) * window, means)
    for split in ("train", "val"):
        points = [(e["step"], e[split]) for e in evals if split in e]
        if points:
            series[f"{split} (evaluation)"] = tuple(zip(*points))
    curves(series, path, title, "step", ylabel)


def curves(series, path, title, xlabel, ylabel):
    """One line per {label: (xs, ys)}."""
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    for label, (xs, ys) in series.items():
        ax.plot(xs, ys, "o-" if len(xs) < 30 else "-", ms=3, lw=1, label=label)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    save_figure(fig, path)


def bars(groups, path, title, ylabel):
    """Grouped bars: {group: {label: value}} (e.g. {task: {"SFT": pass@1, "RL": pass@1}})."""
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    labels = list(dict.fromkeys(label for values in groups.values() for label in values))
    width = 0.8 / max(1, len(labels))
    for i, label in enumerate(labels):
        xs = np.arange(len(groups)) + i * width
        ys = [values.get(label, np.nan) for values in groups.values()]
        ax.bar(xs, ys, width, label=label)
    ax.set_xticks(np.arange(len(groups)) + 0.4 - width / 2, list(groups))
    ax.set(title=title, ylabel=ylabel, ylim=(0, 1))
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    save_figure(fig, path)
