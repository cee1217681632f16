"""Lecture 5's check of the fused backward passes: `python -m tinytorch.nn.lecture5_check`.

Zero-to-Hero lecture 5 ("becoming a backprop ninja") derives the gradient of cross-entropy
and of batch norm on paper (exercises 2 and 3) and compares them with autograd's. Here the
hand-derived gradients are those of the fused `F.cross_entropy` and `F.batch_norm`, and the
reference is autograd through their naive twins, on the lecture's MLP (vocabulary 27, block 3,
embedding 10, hidden 64, batch 32, its deliberately non-zero init) and a random batch of
token ids. It prints the lecture's lines, e.g.

    logits          | exact: False | approximate: True  | maxdiff: 5.122274160385132e-09

(the lecture's float32 numbers with torch: maxdiff 5.12e-09 for logits, 9.31e-10 for hprebn).
One difference: the lecture normalizes with the unbiased batch variance; F.batch_norm, like
torch's, with the biased one (both twins here use the same).
"""
import argparse
import sys

from ..creation import randint, randn
from ..dtypes import float32, float64
from ..random import Generator
from ..testing import cmp
from . import functional as F

VOCAB, BLOCK, N_EMBD, N_HIDDEN, BATCH = 27, 3, 10, 64, 32


def lecture5_network(dtype=float32, seed=2147483647):
    """The lecture's parameters and one batch (X (32, 3) token ids, Y (32,) targets)."""
    g = Generator().manual_seed(seed)
    fan_in = N_EMBD * BLOCK
    params = {
        "C": randn(VOCAB, N_EMBD, generator=g, dtype=dtype),
        "W1": randn(fan_in, N_HIDDEN, generator=g, dtype=dtype) * (5 / 3) / fan_in ** 0.5,
        "b1": randn(N_HIDDEN, generator=g, dtype=dtype) * 0.1,
        "W2": randn(N_HIDDEN, VOCAB, generator=g, dtype=dtype) * 0.1,
        "b2": randn(VOCAB, generator=g, dtype=dtype) * 0.1,
        "bngain": randn(N_HIDDEN, generator=g, dtype=dtype) * 0.1 + 1.0,
        "bnbias": randn(N_HIDDEN, generator=g, dtype=dtype) * 0.1,
    }
    for p in params.values():
        p.requires_grad_(True)
    X = randint(0, VOCAB, (BATCH, BLOCK), generator=g)
    Y = randint(0, VOCAB, (BATCH,), generator=g)
    return params, X, Y


def lecture5_check(dtype=float32, seed=2147483647):
    """Print and return {name: (exact, approximate, maxdiff)} for the fused gradients of
    cross-entropy (dlogits) and batch norm (dhprebn) against autograd of the naive twins,
    plus the forward differences of the loss and of the batch-norm output."""
    p, X, Y = lecture5_network(dtype, seed)
    emb = p["C"][X]
    hprebn = emb.view(BATCH, -1) @ p["W1"] + p["b1"]
    hpreact = F.batch_norm_naive(hprebn, None, None, p["bngain"], p["bnbias"], training=True)
    logits = hpreact.tanh() @ p["W2"] + p["b2"]
    loss = F.cross_entropy_naive(logits, Y)
    for t in (hprebn, hpreact, logits):
        t.retain_grad()
    loss.backward()

    results = {}
    fused_logits = logits.detach().requires_grad_(True)
    loss_fast = F.cross_entropy(fused_logits, Y)
    loss_fast.backward()
    print(f"loss: naive {loss.item():.6f}, fused {loss_fast.item():.6f}, diff {abs(loss_fast.item() - loss.item()):.3g}")
    results["logits"] = cmp("logits", fused_logits.grad, logits.grad, atol=1e-8)

    fused_hprebn = hprebn.detach().requires_grad_(True)
    hpreact_fast = F.batch_norm(fused_hprebn, None, None, p["bngain"].detach(), p["bnbias"].detach(), training=True)
    forward_diff = (hpreact_fast - hpreact).abs().max().item()
    print(f"batch norm forward: max |fused - naive| = {forward_diff:.3g}")
    hpreact_fast.backward(hpreact.grad)
    results["hprebn"] = cmp("hprebn", fused_hprebn.grad, hprebn.grad, atol=1e-8)
    results["loss_forward"] = abs(loss_fast.item() - loss.item())
    results["batchnorm_forward"] = forward_diff
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tinytorch.nn.lecture5_check", description=__doc__.split("\n")[0])
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--seed", type=int, default=2147483647)
    args = parser.parse_args(argv)
    print(f"lecture 5 check, {args.dtype}: fused (hand-derived) gradients vs autograd through the naive twins")
    results = lecture5_check(float32 if args.dtype == "float32" else float64, args.seed)
    if not (results["logits"][1] and results["hprebn"][1]):
        print("lecture5_check: a fused gradient disagrees with autograd", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
