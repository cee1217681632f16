"""Makemore part 1 (lecture 2) as a plain PyTorch script: a bigram model of names, counted and learned.

    python examples/makemore_bigram.py --steps 100
    python -m tinytorch.run_as_torch examples/makemore_bigram.py --steps 100

Reads names.txt from --input or $TINYTORCH_DATA. Prints the count model's average negative log
likelihood, the one-hot neural net's loss as it trains, and a few sampled names.
"""
import argparse
import os

import torch
import torch.nn.functional as F


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--input", help="names file (default: $TINYTORCH_DATA/names.txt)")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--lr", type=float, default=50.0)
    p.add_argument("--samples", type=int, default=5)
    args = p.parse_args()
    if args.input is None:
        if "TINYTORCH_DATA" not in os.environ:
            p.error("give --input or set TINYTORCH_DATA to a folder holding names.txt")
        args.input = os.path.join(os.environ["TINYTORCH_DATA"], "names.txt")
    return args


def main():
    args = parse_args()
    words = open(args.input).read().splitlines()
    chars = sorted(set("".join(words)))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi["."] = 0
    itos = {i: s for s, i in stoi.items()}

    N = torch.zeros((27, 27), dtype=torch.int32)
    xs, ys = [], []
    for w in words:
        chs = ["."] + list(w) + ["."]
        for ch1, ch2 in zip(chs, chs[1:]):
            ix1, ix2 = stoi[ch1], stoi[ch2]
            N[ix1, ix2] += 1
            xs.append(ix1)
            ys.append(ix2)
    xs, ys = torch.tensor(xs), torch.tensor(ys)
    num = xs.nelement()

    P = (N + 1).float()
    P /= P.sum(1, keepdim=True)
    nll = -P[xs, ys].log().mean()
    print(f"count model: {num} bigrams, nll {nll.item():.4f}")

    g = torch.Generator().manual_seed(2147483647)
    W = torch.randn((27, 27), generator=g, requires_grad=True)
    for k in range(args.steps):
        xenc = F.one_hot(xs, num_classes=27).float()
        logits = xenc @ W
        counts = logits.exp()
        probs = counts / counts.sum(1, keepdims=True)
        loss = -probs[torch.arange(num), ys].log().mean() + 0.01 * (W ** 2).mean()
        if k % 10 == 0 or k == args.steps - 1:
            print(f"step {k}: loss {loss.item():.4f}")
        W.grad = None
        loss.backward()
        W.data += -args.lr * W.grad

    g = torch.Generator().manual_seed(2147483647)
    for _ in range(args.samples):
        out, ix = [], 0
        while True:
            p = P[ix]
            ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
            if ix == 0:
                break
            out.append(itos[ix])
        print("".join(out))


if __name__ == "__main__":
    main()
