"""Makemore part 2 (lecture 3) as a plain PyTorch script: Bengio et al.'s MLP on names, by hand.

    python examples/makemore_mlp.py --steps 2000
    python -m tinytorch.run_as_torch examples/makemore_mlp.py --steps 2000

Reads names.txt from --input or $TINYTORCH_DATA. Parameters are raw tensors updated with
`p.data += -lr * p.grad`, as in the lecture; prints train/dev losses and sampled names.
"""
import argparse
import os
import random

import torch
import torch.nn.functional as F


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--input", help="names file (default: $TINYTORCH_DATA/names.txt)")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--block-size", type=int, default=3)
    p.add_argument("--n-embd", type=int, default=10)
    p.add_argument("--n-hidden", type=int, default=200)
    p.add_argument("--samples", type=int, default=5)
    args = p.parse_args()
    if args.input is None:
        if "TINYTORCH_DATA" not in os.environ:
            p.error("give --input or set TINYTORCH_DATA to a folder holding names.txt")
        args.input = os.path.join(os.environ["TINYTORCH_DATA"], "names.txt")
    return args


def build_dataset(words, stoi, block_size):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    return torch.tensor(X), torch.tensor(Y)


def main():
    args = parse_args()
    words = open(args.input).read().splitlines()
    chars = sorted(set("".join(words)))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi["."] = 0
    itos = {i: s for s, i in stoi.items()}

    random.seed(42)
    random.shuffle(words)
    n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
    Xtr, Ytr = build_dataset(words[:n1], stoi, args.block_size)
    Xdev, Ydev = build_dataset(words[n1:n2], stoi, args.block_size)

    g = torch.Generator().manual_seed(2147483647)
    C = torch.randn((27, args.n_embd), generator=g)
    W1 = torch.randn((args.n_embd * args.block_size, args.n_hidden), generator=g) * 0.2
    b1 = torch.randn(args.n_hidden, generator=g) * 0.01
    W2 = torch.randn((args.n_hidden, 27), generator=g) * 0.01
    b2 = torch.randn(27, generator=g) * 0
    parameters = [C, W1, b1, W2, b2]
    print(sum(p.nelement() for p in parameters), "parameters")
    for p in parameters:
        p.requires_grad = True

    def forward(X):
        emb = C[X]
        h = torch.tanh(emb.view(-1, args.n_embd * args.block_size) @ W1 + b1)
        return h @ W2 + b2

    for i in range(args.steps):
        ix = torch.randint(0, Xtr.shape[0], (args.batch_size,), generator=g)
        loss = F.cross_entropy(forward(Xtr[ix]), Ytr[ix])
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = 0.1 if i < args.steps // 2 else 0.01
        for p in parameters:
            p.data += -lr * p.grad
        if i % 500 == 0:
            print(f"step {i}: loss {loss.item():.4f}")

    with torch.no_grad():
        for name, (X, Y) in {"train": (Xtr, Ytr), "dev": (Xdev, Ydev)}.items():
            print(f"{name} loss {F.cross_entropy(forward(X), Y).item():.4f}")

    g = torch.Generator().manual_seed(2147483647 + 10)
    for _ in range(args.samples):
        out, context = [], [0] * args.block_size
        while True:
            probs = F.softmax(forward(torch.tensor([context])), dim=1)
            ix = torch.multinomial(probs, num_samples=1, generator=g).item()
            context = context[1:] + [ix]
            if ix == 0:
                break
            out.append(itos[ix])
        print("".join(out))


if __name__ == "__main__":
    main()
