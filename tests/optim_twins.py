"""Twin optimizer runs shared by the optimizer tests: a small MLP built by torch or tinytorch with the
same weights, regression batches, a training loop, and the tolerances of a match."""
import numpy as np
import torch

import tinytorch


def mlp(m, dtype):
    """Sequential(Linear, LayerNorm, Tanh, Linear) built with m = torch or tinytorch."""
    return m.nn.Sequential(m.nn.Linear(4, 8), m.nn.LayerNorm(8), m.nn.Tanh(), m.nn.Linear(8, 3)).to(dtype)


def twin_models(dtype_name, device="cpu"):
    """A torch model (on the CPU) and a tinytorch model on `device` holding the torch model's weights."""
    torch.manual_seed(0)
    ref = mlp(torch, getattr(torch, dtype_name))
    ours = mlp(tinytorch, getattr(tinytorch, dtype_name))
    ours.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    return ref, ours.to(device)


def batches(n_steps, dtype_name):
    rng = np.random.default_rng(1)
    return [(rng.standard_normal((16, 4)).astype(dtype_name), rng.standard_normal((16, 3)).astype(dtype_name))
            for _ in range(n_steps)]


def train(m, model, opt, data, max_norm=None, device="cpu"):
    """Steps of MSE regression; returns the gradient norms clip_grad_norm_ reported."""
    norms = []
    for x, y in data:
        opt.zero_grad()
        loss = ((model(m.tensor(x, device=device)) - m.tensor(y, device=device)) ** 2).mean()
        loss.backward()
        if max_norm is not None:
            norms.append(float(m.nn.utils.clip_grad_norm_(model.parameters(), max_norm)))
        opt.step()
    return norms


TOLERANCE = {"float64": dict(atol=1e-12, rtol=1e-10), "float32": dict(atol=2e-6, rtol=1e-5)}
