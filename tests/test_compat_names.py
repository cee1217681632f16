"""Every torch name of the Karpathy-script subset (issue 3, item 5) works through the compat layer.

This file is also a script. Run as `python tests/test_compat_names.py OUT.json` it imports the
real torch; run as `python -m tinytorch.run_as_torch tests/test_compat_names.py OUT.json` it
gets tinytorch. Either way it calls each probe below (one per listed name, each using that
name the way a training script does) and writes {name: result or {"error": ...}} as JSON.
The tests run both and require that no probe fails under tinytorch and that every result
equals torch's.
"""
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve()
REPO = HERE.parents[1]


def _floats(t, places=4):
    return _round(t.tolist(), places)


def _round(value, places=4):
    if isinstance(value, list):
        return [_round(v, places) for v in value]
    return round(value, places)


def _dtype_name(dtype):
    return str(dtype).rpartition(".")[2]


def _with_weights(torch, module, **values):
    """Overwrite a module's parameters with fixed values so both frameworks compute the same thing."""
    with torch.no_grad():
        for name, value in values.items():
            getattr(module, name).copy_(torch.tensor(value))
    return module


def probes(torch):
    """{listed name: function of nothing -> JSON-able result}, closing over the `torch` given."""
    nn, F = torch.nn, torch.nn.functional
    x23 = lambda: torch.arange(6, dtype=torch.float32).view(2, 3) / 4 - 0.5  # noqa: E731

    def no_grad_decorators():
        @torch.no_grad()
        def called(x):
            return (x * 2).requires_grad

        @torch.no_grad
        def bare(x):
            return (x * 2).requires_grad

        w = torch.ones(2, requires_grad=True)
        with torch.no_grad():
            inside = (w * 2).requires_grad
        return [inside, called(w), bare(w), (w * 2).requires_grad]

    def inference_mode():
        @torch.inference_mode()
        def called(x):
            return (x * 2).requires_grad

        w = torch.ones(2, requires_grad=True)
        with torch.inference_mode():
            inside = (w * 2).requires_grad
        return [inside, called(w), (w * 2).requires_grad]

    def manual_seed():
        torch.manual_seed(1234)
        a = torch.rand(4).tolist() + torch.randint(0, 100, (3,)).tolist()
        torch.manual_seed(1234)
        b = torch.rand(4).tolist() + torch.randint(0, 100, (3,)).tolist()
        return a == b

    def save_load():
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "sd.pt")
            torch.save({"w": torch.arange(4.0).view(2, 2), "b": torch.tensor([1, 2])}, path)
            sd = torch.load(path)
        return {k: sd[k].tolist() for k in sorted(sd)}

    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)
            self.register_buffer("mask", torch.tril(torch.ones(2, 2)))

        def forward(self, x):
            return self.fc(x)

    def module_subclass():
        m = Tiny()
        _with_weights(torch, m.fc, weight=[[0.1, 0.2, 0.3], [-0.1, 0.0, 0.5]], bias=[0.5, -0.5])
        return [_floats(m(x23())), m.training, m.eval().training]

    def linear():
        lin = _with_weights(torch, nn.Linear(3, 2), weight=[[0.1, 0.2, 0.3], [-0.1, 0.0, 0.5]], bias=[0.5, -0.5])
        no_bias = nn.Linear(3, 4, bias=False)
        return [_floats(lin(x23())), list(lin.weight.shape), no_bias.bias is None]

    def embedding():
        emb = _with_weights(torch, nn.Embedding(4, 2), weight=[[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]])
        return _floats(emb(torch.tensor([[3, 0], [1, 1]])))

    def layer_norm_module():
        ln = _with_weights(torch, nn.LayerNorm(3), weight=[1.0, 2.0, 0.5], bias=[0.0, 0.1, -0.1])
        return _floats(ln(x23() * torch.tensor([1.0, 3.0, -2.0])))

    def dropout():
        drop = nn.Dropout(0.5)
        x = torch.ones(1000)
        kept = drop(x)
        values = sorted(set(_round(kept.tolist())))
        return [values, 300 < int((kept == 0).sum().item()) < 700, drop.eval()(x).tolist() == x.tolist()]

    def sequential():
        seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
        _with_weights(torch, seq[0], weight=[[0.1 * (i - j) for j in range(3)] for i in range(4)], bias=[0.0, 0.1, 0.2, 0.3])
        _with_weights(torch, seq[2], weight=[[0.2 * (i + j) - 0.3 for j in range(4)] for i in range(2)], bias=[0.1, -0.1])
        return [len(seq), type(seq[1]).__name__, _floats(seq(x23()))]

    def module_list():
        layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
        layers.append(nn.Tanh())
        return [len(layers), [type(m).__name__ for m in layers], len(list(layers.parameters()))]

    def module_dict():
        d = nn.ModuleDict(dict(wte=nn.Embedding(5, 2), ln_f=nn.LayerNorm(2)))
        return [list(d.keys()), type(d["wte"]).__name__, type(d.ln_f).__name__, sorted(k for k, _ in d.named_parameters())]

    def parameter():
        p = nn.Parameter(torch.zeros(2, 3))
        return [p.requires_grad, isinstance(p, torch.Tensor), list(p.shape)]

    def init_normal():
        w = torch.empty(200, 200)
        nn.init.normal_(w, mean=1.0, std=0.02)
        return [abs(w.mean().item() - 1.0) < 0.01, abs(w.std().item() - 0.02) < 0.002]

    def init_zeros():
        w = nn.Parameter(torch.ones(3, 2))
        nn.init.zeros_(w)
        return w.tolist()

    def cross_entropy():
        logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3], [-3.0, 4.0, 0.0]], requires_grad=True)
        loss = F.cross_entropy(logits, torch.tensor([0, 2, 1]))
        loss.backward()
        return [round(loss.item(), 5), _floats(logits.grad)]

    def transformers_style_losses():
        from torch.nn import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss  # as transformers' heads import them
        logits = torch.tensor([[2.0, -0.5, 1.0], [0.1, 0.2, -3.0]], requires_grad=True)
        labels = torch.tensor([[1, 0, 1], [0, 1, 0]])
        loss = BCEWithLogitsLoss()(logits, labels.float())
        loss.backward()
        return [round(loss.item(), 5), _floats(logits.grad), type(CrossEntropyLoss()).__name__, type(MSELoss()).__name__]

    def loss_modules():
        a, b = x23(), x23().flip(0) * 2
        sign = torch.tensor([1.0, -1.0])
        return [round(v.item(), 5) for v in (
            nn.BCELoss()(torch.sigmoid(a), torch.sigmoid(b)),
            nn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.0, 2.0, 3.0]))(a, torch.sigmoid(b)),
            nn.L1Loss()(a, b), nn.SmoothL1Loss(beta=0.5)(a, b), nn.HuberLoss(delta=0.5)(a, b),
            nn.KLDivLoss(reduction="batchmean")(F.log_softmax(a, -1), F.softmax(b, -1)),
            nn.CosineEmbeddingLoss(margin=0.1)(a, b, sign), nn.MarginRankingLoss(margin=0.1)(a[:, 0], b[:, 0], sign),
            F.cross_entropy(a, F.softmax(b, -1), label_smoothing=0.1))]

    def sdpa():
        q = torch.arange(24, dtype=torch.float32).view(1, 2, 3, 4) / 10
        k = (1.2 - q) / 2
        v = q * q
        return _floats(F.scaled_dot_product_attention(q, k, v, is_causal=True))

    def adamw():
        w = nn.Parameter(torch.tensor([1.0, -2.0, 3.0]))
        opt = torch.optim.AdamW([w], lr=0.1, betas=(0.9, 0.95), weight_decay=0.1)
        for _ in range(3):
            opt.zero_grad(set_to_none=True)
            (w * w * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
            opt.step()
        return _floats(w.detach(), 5)

    def lr_scheduler():
        w = nn.Parameter(torch.zeros(1))
        opt = torch.optim.AdamW([w], lr=1.0)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1 / (step + 1))
        lrs = []
        for _ in range(3):
            opt.step()
            sched.step()
            lrs.append(round(sched.get_last_lr()[0], 6))
        return lrs

    def view_transpose_contiguous():
        t = torch.arange(24).view(2, 3, 4)
        u = t.transpose(1, 2)
        return [list(u.shape), u.contiguous().view(2, 12).tolist(), t.view(-1, 4).shape[0]]

    def split():
        parts = torch.arange(10).split(4)
        q, k, v = torch.arange(12).view(2, 6).split(2, dim=1)
        return [[p.tolist() for p in parts], k.tolist()]

    def size_shape():
        t = torch.zeros(2, 3, 4)
        B, T, C = t.size()
        return [[B, T, C], t.size(-1), list(t.shape), t.shape[1], t.shape == (2, 3, 4)]

    def to():
        t = torch.arange(3).to(torch.float32)
        u = t.to("cpu")
        v = torch.zeros(2).to(device="cpu", dtype=torch.long)
        return [_dtype_name(t.dtype), u.device.type, _dtype_name(v.dtype), _dtype_name(t.to(v).dtype)]

    def backward():
        a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        (a * a).sum().backward()
        return a.grad.tolist()

    def register_buffer():
        m = Tiny()
        return [sorted(dict(m.named_buffers())), "mask" in m.state_dict(), len(list(m.parameters()))]

    def apply():
        seen = []
        Tiny().apply(lambda mod: seen.append(type(mod).__name__))
        return seen

    def named_parameters_state_dict():
        m = Tiny()
        return [[n for n, _ in m.named_parameters()], list(m.state_dict().keys()), sum(p.numel() for p in m.parameters())]

    def import_forms():
        import torch.nn.functional
        from torch.nn import functional as F2
        import torch.nn as nn2
        import torch.optim.lr_scheduler
        from torch.utils.data import DataLoader, Dataset
        return [F2 is torch.nn.functional, nn2 is torch.nn, DataLoader.__name__, Dataset.__name__,
                torch.optim.lr_scheduler.LambdaLR.__name__]

    def data_loader():
        from torch.utils.data import DataLoader, RandomSampler, TensorDataset
        ds = TensorDataset(torch.arange(10).view(10, 1), torch.arange(10) * 10)
        batches = [[x.view(-1).tolist(), y.tolist()] for x, y in DataLoader(ds, batch_size=4)]
        sampler = RandomSampler(ds, replacement=True, num_samples=7)
        shuffled = DataLoader(ds, batch_size=3, shuffle=True, drop_last=True)
        return [batches, len(list(sampler)), len(shuffled), sorted(len(x) for x, _ in shuffled)]

    return {
        "torch.tensor": lambda: [torch.tensor([[1, 2], [3, 4]]).tolist(), _dtype_name(torch.tensor([1.5]).dtype),
                                 _dtype_name(torch.tensor([1, 2]).dtype)],
        "torch.zeros": lambda: [torch.zeros(2, 3).tolist(), torch.zeros((2,), dtype=torch.long).tolist()],
        "torch.ones": lambda: [torch.ones(2, 2).tolist(), torch.ones(3, dtype=torch.long).sum().item()],
        "torch.arange": lambda: [torch.arange(5).tolist(), torch.arange(1, 10, 3).tolist(), _floats(torch.arange(0, 1, 0.25))],
        "torch.tril": lambda: [torch.tril(torch.ones(3, 3)).tolist(), torch.tril(torch.ones(2, 3), diagonal=1).tolist()],
        "torch.stack": lambda: torch.stack([torch.arange(3), torch.arange(3) * 2], dim=1).tolist(),
        "torch.cat": lambda: [torch.cat((torch.zeros(1, 2), torch.ones(2, 2))).tolist(),
                              torch.cat([torch.arange(2).view(2, 1), torch.arange(2).view(2, 1)], dim=1).tolist()],
        "torch.randint": lambda: (lambda r: [list(r.shape), _dtype_name(r.dtype), 0 <= r.min().item(), r.max().item() < 10])(
            torch.randint(0, 10, (50, 2))),
        "torch.randint(high, size)": lambda: (lambda r: [list(r.shape), r.max().item() < 7])(torch.randint(7, (20,))),
        "torch.randperm": lambda: sorted(torch.randperm(8).tolist()),
        "torch.roll": lambda: [torch.roll(torch.arange(5), 2).tolist(),
                               torch.roll(torch.arange(6).view(2, 3), shifts=-1, dims=1).tolist()],
        "torch.multinomial": lambda: [torch.multinomial(torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 5.0]]), 3, replacement=True).tolist(),
                                      sorted(torch.multinomial(torch.tensor([1.0, 1.0, 1.0]), 3).tolist())],
        "torch.topk": lambda: (lambda vi: [vi[0].tolist(), vi[1].tolist(), vi.values.tolist()])(
            torch.topk(torch.tensor([[1.0, 5.0, 3.0, 4.0]]), 2)),
        "torch.manual_seed": manual_seed,
        "torch.no_grad": no_grad_decorators,
        "torch.inference_mode": inference_mode,
        "torch.cuda.is_available": lambda: type(torch.cuda.is_available()).__name__,
        "torch.save / torch.load": save_load,
        "torch.long": lambda: [_dtype_name(torch.long), torch.long == torch.int64, torch.zeros(1, dtype=torch.long).dtype == torch.long],
        "torch.float32": lambda: [_dtype_name(torch.float32), torch.ones(1).dtype == torch.float32],
        "nn.Module": module_subclass,
        "nn.Linear": linear,
        "nn.Embedding": embedding,
        "nn.LayerNorm": layer_norm_module,
        "nn.Dropout": dropout,
        "nn.ReLU": lambda: _floats(nn.ReLU()(x23())),
        "nn.Tanh": lambda: _floats(nn.Tanh()(x23())),
        "nn.GELU": lambda: [_floats(nn.GELU()(x23())), _floats(nn.GELU(approximate="tanh")(x23()))],
        "nn.Sequential": sequential,
        "nn.ModuleList": module_list,
        "nn.ModuleDict": module_dict,
        "nn.Parameter": parameter,
        "nn.init.normal_": init_normal,
        "nn.init.zeros_": init_zeros,
        "F.softmax": lambda: _floats(F.softmax(x23() * 3, dim=-1)),
        "F.cross_entropy": cross_entropy,
        "nn.BCEWithLogitsLoss (transformers' heads)": transformers_style_losses,
        "nn.BCELoss / L1Loss / SmoothL1Loss / HuberLoss / KLDivLoss / CosineEmbeddingLoss / MarginRankingLoss":
            loss_modules,
        "F.tanh": lambda: _floats(F.tanh(x23())),
        "F.sigmoid": lambda: _floats(F.sigmoid(x23())),
        "F.gelu": lambda: _floats(F.gelu(x23())),
        "F.layer_norm": lambda: _floats(F.layer_norm(x23(), (3,), torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0.0, 0.5, 1.0]))),
        "F.scaled_dot_product_attention": sdpa,
        "optim.AdamW": adamw,
        "optim.lr_scheduler.LambdaLR": lr_scheduler,
        "tensor.view / .transpose / .contiguous": view_transpose_contiguous,
        "tensor.masked_fill": lambda: torch.zeros(2, 2).masked_fill(torch.tril(torch.ones(2, 2)) == 0, float("-inf")).tolist(),
        "tensor.split": split,
        "tensor.size / .shape": size_shape,
        "tensor.to": to,
        "tensor.item": lambda: [torch.tensor(2.5).item(), torch.tensor([7]).item(), type(torch.tensor(3).item()).__name__],
        "tensor.tolist": lambda: [torch.tensor([[1, 2]]).tolist(), torch.tensor(1.5).tolist()],
        "tensor.backward": backward,
        "tensor.numel": lambda: [torch.zeros(2, 3, 4).numel(), sum(p.numel() for p in nn.Linear(3, 2).parameters())],
        "module.register_buffer": register_buffer,
        "module.apply": apply,
        "module.parameters / .named_parameters / .state_dict": named_parameters_state_dict,
        "import forms": import_forms,
        "torch.utils.data": data_loader,
    }


def run_probes(torch):
    results = {}
    for name, probe in probes(torch).items():
        try:
            results[name] = probe()
        except Exception as e:  # each failure is a finding, reported by name
            results[name] = {"error": f"{type(e).__name__}: {e}"}
    return results


def _run(mode, tmp_path):
    out = tmp_path / f"{mode}.json"
    launcher = [sys.executable] if mode == "torch" else [sys.executable, "-m", "tinytorch.run_as_torch"]
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    proc = subprocess.run(launcher + [str(HERE), str(out)], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())


def _close(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and math.isclose(a, b, rel_tol=1e-3, abs_tol=2e-4)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    return a == b


def _errors(results):
    return {n: r["error"] for n, r in results.items() if isinstance(r, dict) and "error" in r}


@pytest.mark.torch
def test_every_listed_name_works_under_tinytorch_and_gives_torchs_result(tmp_path):
    theirs, ours = _run("torch", tmp_path), _run("tinytorch", tmp_path)
    assert not _errors(theirs), f"the probes themselves must pass on real torch: {_errors(theirs)}"
    failing = _errors(ours)
    assert not failing, "names that fail through `import torch` under tinytorch:\n" + "\n".join(
        f"  {n}: {e}" for n, e in failing.items())
    differing = {n: (theirs[n], ours[n]) for n in theirs if not _close(theirs[n], ours[n])}
    assert not differing, "results that differ from torch (torch vs tinytorch):\n" + "\n".join(
        f"  {n}: {a} vs {b}" for n, (a, b) in differing.items())


def main():
    import torch
    Path(sys.argv[1]).write_text(json.dumps(run_probes(torch), indent=1))


if __name__ == "__main__":
    main()
