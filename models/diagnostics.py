"""Lecture 4's diagnostics: a deep MLP with BatchNorm, trained briefly while recording what
the lecture looks at.

- activations: per Tanh layer, the histogram of its outputs, their std and the saturated
  share |t| > 0.97 (a saturated tanh passes almost no gradient);
- gradients: per Tanh layer, the histogram of dL/d(output);
- weights: per 2-D parameter, the gradient histogram and grad:data = std(grad) / std(W);
- updates: per 2-D parameter and step, log10(std(lr * grad) / std(W)); about -3 is healthy.

The lecture stops this network after 1,001 steps (it is a debugging run, not a trained model);
there its tanh layers have std 0.63-0.65 and 1.7-2.8 % saturation.
"""
import json
from pathlib import Path

import tinytorch as torch
from tinytorch import nn
from tinytorch.nn import functional as F
from tinytorch.serialization import atomic

from . import plots
from .lecture_layers import lecture_linear
from .sampling import Generates, fixed_context
from .trainer import gradients

SATURATED = 0.97


class DeepMLP(Generates, nn.Module):
    """C[context] -> (n_layers - 1) x [Linear (no bias) -> BatchNorm1d -> Tanh]
    -> Linear (no bias) -> BatchNorm1d, whose gain starts at 0.1 (a less confident softmax).

    Block 3, embedding 10, hidden 100, 6 layers: 47,024 parameters for V = 27. With `record`
    on, `outputs` keeps every layer's output (with its gradient after backward).
    """

    def __init__(self, vocab_size, block_size=3, n_embd=10, n_hidden=100, n_layers=6):
        super().__init__()
        self.block_size = block_size
        self.C = nn.Embedding(vocab_size, n_embd)
        sizes = [block_size * n_embd] + [n_hidden] * (n_layers - 1) + [vocab_size]
        layers = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
            layers += [lecture_linear(fan_in, fan_out, bias=False), nn.BatchNorm1d(fan_out)]
            if i < n_layers - 1:
                layers.append(nn.Tanh())
        self.layers = nn.Sequential(*layers)
        with torch.no_grad():
            self.layers[-1].weight *= 0.1
        self.record, self.outputs = False, []

    def forward(self, idx, targets=None):
        emb = self.C(fixed_context(idx, self.block_size))
        x = emb.view(emb.shape[0], -1)
        self.outputs = []
        for layer in self.layers:
            x = layer(x)
            if self.record:
                x.retain_grad()
                self.outputs.append(x)
        return x, None if targets is None else F.cross_entropy(x, targets)


def _stats(t):
    return float(t.mean().item()), float(t.std().item())


def run(X, Y, vocab_size, out_dir, steps=1001, batch_size=32, lr=0.1, seed=2147483647, log=print):
    """Train a DeepMLP for `steps` SGD steps on (X, Y), then write diagnostics.png and
    diagnostics.json (the statistics of the last step) into out_dir; returns the report."""
    torch.manual_seed(seed)
    net = DeepMLP(vocab_size, block_size=X.shape[1]).to(X.device)
    net.record = True
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    weights = [(name, p) for name, p in net.named_parameters() if p.ndim == 2]
    ratios = {name: [] for name, _ in weights}
    for _ in range(steps):
        ix = torch.randint(0, X.shape[0], (batch_size,), device=X.device)
        loss = gradients(net, X[ix], Y[ix])
        optimizer.step()
        with torch.no_grad():
            for name, p in weights:
                ratios[name].append(float(((lr * p.grad).std() / p.data.std()).log10().item()))
    report = {"step": steps, "loss": float(loss.item()), "params": sum(p.numel() for p in net.parameters()),
              "tanh_layers": [], "weights": []}
    for index, (layer, out) in enumerate(zip(net.layers, net.outputs)):
        if isinstance(layer, nn.Tanh):
            mean, std = _stats(out.detach())
            grad_mean, grad_std = _stats(out.grad)
            saturated = float((out.detach().abs() > SATURATED).float().mean().item()) * 100
            report["tanh_layers"].append(dict(index=index, mean=mean, std=std, saturated_pct=saturated,
                                              grad_mean=grad_mean, grad_std=grad_std,
                                              values=out.detach().numpy().ravel(),
                                              grad_values=out.grad.numpy().ravel()))
            log(f"layer {index:2d} (Tanh): mean {mean:+.2f}, std {std:.2f}, saturated {saturated:.2f}% | "
                f"grad mean {grad_mean:+f}, std {grad_std:e}")
    for name, p in weights:
        grad_mean, grad_std = _stats(p.grad)
        ratio = grad_std / _stats(p.detach())[1]
        report["weights"].append(dict(name=name, shape=list(p.shape), grad_mean=grad_mean, grad_std=grad_std,
                                      grad_data_ratio=ratio, grad_values=p.grad.numpy().ravel()))
        log(f"weight {name:16s} {str(tuple(p.shape)):10s} | grad mean {grad_mean:+f} | std {grad_std:e} | "
            f"grad:data {ratio:e}")
    out_dir = Path(out_dir)
    plots.diagnostics(report, ratios, out_dir / "diagnostics.png")
    summary = {**report, "tanh_layers": [_without_values(r) for r in report["tanh_layers"]],
               "weights": [_without_values(r) for r in report["weights"]],
               "final_update_ratio_log10": {name: series[-1] for name, series in ratios.items()}}
    atomic.write_text(out_dir / "diagnostics.json", json.dumps(summary, indent=2))
    return summary


def _without_values(row):
    return {k: v for k, v in row.items() if k not in ("values", "grad_values")}
