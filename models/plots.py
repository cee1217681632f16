"""PNG plots of a makemore run: the loss curve and lecture 4's four diagnostic panels.

Drawn on matplotlib `Figure` objects (the Agg canvas), so no display and no global pyplot
state is involved; each PNG is written atomically.
"""
import numpy as np
from matplotlib.figure import Figure

from tinytorch.serialization import atomic


def save_png(fig, path, dpi):
    """Write `fig` to `path` as a PNG, atomically."""
    with atomic.replacing(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")


def loss_curve(losses, evals, path, title):
    """Training loss per step (averaged over windows, so about 200 points remain) and the
    periodic train/val evaluations."""
    fig = Figure(figsize=(8, 4.5))
    ax = fig.subplots()
    losses = np.asarray(losses, dtype=np.float64)
    window = max(1, len(losses) // 200)
    usable = len(losses) // window * window
    if usable:
        means = losses[:usable].reshape(-1, window).mean(1)
        ax.plot((np.arange(len(means)) + 0.5) * window, means, lw=1, alpha=0.7,
                label="train batch" + (f" (mean of {window} steps)" if window > 1 else ""))
    for split, style in (("train", "o-"), ("val", "s-")):
        points = [(e["step"], e[split]) for e in evals if split in e]
        if points:
            ax.plot(*zip(*points), style, ms=3, label=f"{split} (evaluation)")
    ax.set(xlabel="step", ylabel="loss (nats per character)", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    save_png(fig, path, dpi=110)


def _histogram(ax, values, label):
    density, edges = np.histogram(values, bins=100, density=True)
    ax.plot((edges[:-1] + edges[1:]) / 2, density, label=label)


def diagnostics(report, ratios, path):
    """The lecture's four panels from `report` (see models.diagnostics) and the per-step
    log10 update:data ratios {weight name: [...]}."""
    fig = Figure(figsize=(16, 9))
    (act, grad), (wgrad, ud) = fig.subplots(2, 2)
    layers = report["tanh_layers"]
    for layer in layers:
        _histogram(act, layer["values"], f"layer {layer['index']} (Tanh): std {layer['std']:.2f}, "
                                         f"saturated {layer['saturated_pct']:.1f}%")
        _histogram(grad, layer["grad_values"], f"layer {layer['index']} (Tanh): grad std {layer['grad_std']:.2e}")
    sat = [layer["saturated_pct"] for layer in layers]
    act.set_title(f"activation distribution at step {report['step']}: tanh saturation (|t| > 0.97) "
                  f"{min(sat):.1f}-{max(sat):.1f} %")
    grad.set_title(f"gradient distribution of the tanh outputs at step {report['step']}")
    for w in report["weights"]:
        _histogram(wgrad, w["grad_values"], f"{w['name']} {tuple(w['shape'])}: grad:data {w['grad_data_ratio']:.2e}")
    wgrad.set_title("weight gradient distribution")
    for name, series in ratios.items():
        ud.plot(series, lw=0.8, label=name)
    ud.axhline(-3, color="k", ls="--", lw=1, label="1e-3 (the lecture's rough guide)")
    ud.set(title="update:data ratio, log10(std(lr * grad) / std(weight))", xlabel="step", ylabel="log10 ratio")
    for ax in (act, grad, wgrad, ud):
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    save_png(fig, path, dpi=100)
