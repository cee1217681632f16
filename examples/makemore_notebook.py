"""Lectures 2 and 3 of "Neural Networks: Zero to Hero" as their notebooks run them, cell after cell:
bigram counts, seeded samples, the likelihood, the neural bigram, then the MLP's first steps. Plain
PyTorch, printing what the notebooks print.

    python examples/makemore_notebook.py --input ../shared/data/names.txt                         # torch
    python -m tinytorch.run_as_torch examples/makemore_notebook.py --input ../shared/data/names.txt

The two runs print the same lines: the seeded generator draws torch's numbers under tinytorch too, and
tensors print as torch prints them. Only the training losses after the first step may differ, in the
last digits: tinytorch's float32 products and tanh (NumPy's BLAS and math library) round some
results one unit differently from torch's kernels. From lecture 3's plain randn init the MLP's logits
reach +-40 and training is chaotic enough to grow those differences (2e-4 at step 20, 1e-3 at step 30,
1e-2 by step 60), so that part runs 21 steps; from lecture 4's init the losses agree to 4 decimals for
as long as it runs.
"""
import argparse
import random

import torch
import torch.nn.functional as F

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--input", default="names.txt", help="the names file (one name per line)")
parser.add_argument("--first-steps", type=int, default=21, help="steps of lecture 3's MLP from its randn init")
parser.add_argument("--steps", type=int, default=300, help="steps of the MLP from lecture 4's init (lectures: 200000)")
args = parser.parse_args()

# ---- lecture 2: the data -------------------------------------------------------------------------
words = open(args.input).read().splitlines()
print(words[:10])
print(len(words), min(len(w) for w in words), max(len(w) for w in words))

chars = sorted(list(set("".join(words))))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
itos = {i: s for s, i in stoi.items()}

# ---- bigram counts, one increment at a time as the lecture does ----------------------------------
N = torch.zeros((27, 27), dtype=torch.int32)
for w in words:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        N[stoi[ch1], stoi[ch2]] += 1
print(N[0])
print(N[stoi["a"], stoi["n"]], N.sum())

p = N[0].float()
p = p / p.sum()
print(p)

g = torch.Generator().manual_seed(2147483647)
p = torch.rand(3, generator=g)
p = p / p.sum()
print(p)
print(torch.multinomial(p, num_samples=20, replacement=True, generator=g))

# ---- sampling from the counts ------------------------------------------------------------------
P = (N + 1).float()
P /= P.sum(1, keepdims=True)
g = torch.Generator().manual_seed(2147483647)
for i in range(5):
    out = []
    ix = 0
    while True:
        p = P[ix]
        ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
        out.append(itos[ix])
        if ix == 0:
            break
    print("".join(out))

# ---- the likelihood ----------------------------------------------------------------------------
log_likelihood = 0.0
n = 0
for w in words[:3]:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        prob = P[stoi[ch1], stoi[ch2]]
        logprob = torch.log(prob)
        log_likelihood += logprob
        n += 1
        print(f"{ch1}{ch2}: {prob:.4f} {logprob:.4f}")
print(f"{log_likelihood=}")
nll = -log_likelihood
print(f"{nll=}")
print(f"{nll / n}")

# ---- the neural bigram -------------------------------------------------------------------------
xs, ys = [], []
for w in words:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        xs.append(stoi[ch1])
        ys.append(stoi[ch2])
xs = torch.tensor(xs)
ys = torch.tensor(ys)
num = xs.nelement()
print("number of examples: ", num)

g = torch.Generator().manual_seed(2147483647)
W = torch.randn((27, 27), generator=g, requires_grad=True)
xenc = F.one_hot(xs[:5], num_classes=27).float()
print(xenc.shape, xenc.dtype)
print(W[:2, :6])
for k in range(5):
    xenc = F.one_hot(xs, num_classes=27).float()
    logits = xenc @ W
    counts = logits.exp()
    probs = counts / counts.sum(1, keepdims=True)
    loss = -probs[torch.arange(num), ys].log().mean() + 0.01 * (W ** 2).mean()
    print(f"neural bigram step {k}: loss {loss.item():.4f}")
    W.grad = None
    loss.backward()
    W.data += -50 * W.grad

# ---- lecture 3: the MLP's dataset ----------------------------------------------------------------
block_size = 3


def build_dataset(words):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + ".":
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    X = torch.tensor(X)
    Y = torch.tensor(Y)
    print(X.shape, Y.shape)
    return X, Y


random.seed(42)
random.shuffle(words)
n1 = int(0.8 * len(words))
n2 = int(0.9 * len(words))
Xtr, Ytr = build_dataset(words[:n1])
Xdev, Ydev = build_dataset(words[n1:n2])
Xte, Yte = build_dataset(words[n2:])

# ---- the MLP: parameters from the seeded generator, then its first steps --------------------------
def train(parameters, steps, every, g):
    C, W1, b1, W2, b2 = parameters
    for p in parameters:
        p.requires_grad = True
    for i in range(steps):
        ix = torch.randint(0, Xtr.shape[0], (32,), generator=g)
        emb = C[Xtr[ix]]
        h = torch.tanh(emb.view(-1, 30) @ W1 + b1)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, Ytr[ix])
        if i == 0:
            print(ix)
            print(emb.shape, h.shape, logits.shape)
            print(h[0, :6])
        for p in parameters:
            p.grad = None
        loss.backward()
        for p in parameters:
            p.data += -0.1 * p.grad
        if i % every == 0 or i == steps - 1:
            print(f"mlp step {i}: loss {loss.item():.4f}")


g = torch.Generator().manual_seed(2147483647)
C = torch.randn((27, 10), generator=g)
W1 = torch.randn((30, 200), generator=g)
b1 = torch.randn(200, generator=g)
W2 = torch.randn((200, 27), generator=g)
b2 = torch.randn(27, generator=g)
parameters = [C, W1, b1, W2, b2]
print(sum(p.nelement() for p in parameters))
print(C[:3])
print(b2)
train(parameters, args.first_steps, 10, g)

# ---- lecture 4: the same MLP from a sane initialization ---------------------------------------------
g = torch.Generator().manual_seed(2147483647)
C = torch.randn((27, 10), generator=g)
W1 = torch.randn((30, 200), generator=g) * (5 / 3) / 30 ** 0.5
b1 = torch.randn(200, generator=g) * 0.01
W2 = torch.randn((200, 27), generator=g) * 0.01
b2 = torch.randn(27, generator=g) * 0
print(W1.std(), W2.abs().max())
train([C, W1, b1, W2, b2], args.steps, 50, g)
