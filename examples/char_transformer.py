"""Train a character-level transformer language model on a text file. A plain PyTorch script.

In the style of Karpathy's ng-video-lecture gpt.py (with nanoGPT's fused attention as an
option). It runs on real PyTorch and, unchanged, on tinytorch:

    python examples/char_transformer.py --steps 500
    python -m tinytorch.run_as_torch examples/char_transformer.py --steps 500

The text is --input, or tinyshakespeare.txt in $TINYTORCH_DATA. Losses are printed, logged
with SummaryWriter under <out>/runs when tensorboard logging is available, and the trained
weights are saved to <out>/model.pt and loaded back to sample from.
"""
import argparse
import math
import os
import time

import torch
import torch.nn as nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, Dataset, RandomSampler

try:
    from torch.utils.tensorboard import SummaryWriter
except ImportError:  # real PyTorch needs the separate `tensorboard` package for this
    SummaryWriter = None


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--input", help="text file (default: $TINYTORCH_DATA/tinyshakespeare.txt)")
    p.add_argument("--out", default=os.path.join("out", "char-transformer"), help="folder for the checkpoint and logs")
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--block-size", type=int, default=32)
    p.add_argument("--n-embd", type=int, default=64)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-layer", type=int, default=2)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--bias", action=argparse.BooleanOptionalAction, default=True, help="biases in Linear and LayerNorm")
    p.add_argument("--attention", choices=["heads", "fused"], default="heads",
                   help="heads: one Head module per head (gpt.py); fused: one qkv Linear and F.scaled_dot_product_attention")
    p.add_argument("--activation", choices=["relu", "gelu", "tanh"], default="gelu")
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--eval-interval", type=int, default=100)
    p.add_argument("--eval-iters", type=int, default=10)
    p.add_argument("--sample-tokens", type=int, default=100)
    p.add_argument("--top-k", type=int, default=None)
    p.add_argument("--seed", type=int, default=1337)
    args = p.parse_args()
    if args.input is None:
        if "TINYTORCH_DATA" not in os.environ:
            p.error("give --input or set TINYTORCH_DATA to a folder holding tinyshakespeare.txt")
        args.input = os.path.join(os.environ["TINYTORCH_DATA"], "tinyshakespeare.txt")
    if not os.path.isfile(args.input):
        p.error(f"no such file: {args.input}")
    if args.n_embd % args.n_head:
        p.error(f"--n-embd ({args.n_embd}) must be divisible by --n-head ({args.n_head})")
    return args


class CharChunks(Dataset):
    """Item i: block_size characters from position i, and the same shifted by one (the targets)."""

    def __init__(self, data, block_size):
        self.data, self.block_size = data, block_size

    def __len__(self):
        return len(self.data) - self.block_size

    def __getitem__(self, i):
        chunk = self.data[i:i + self.block_size + 1]
        return chunk[:-1], chunk[1:]


class LayerNorm(nn.Module):
    """LayerNorm with an optional bias (nanoGPT's)."""

    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class Head(nn.Module):
    """One head of causal self-attention."""

    def __init__(self, cfg, head_size):
        super().__init__()
        self.key = nn.Linear(cfg.n_embd, head_size, bias=False)
        self.query = nn.Linear(cfg.n_embd, head_size, bias=False)
        self.value = nn.Linear(cfg.n_embd, head_size, bias=False)
        self.register_buffer("tril", torch.tril(torch.ones(cfg.block_size, cfg.block_size)))
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x):
        B, T, C = x.shape
        k, q, v = self.key(x), self.query(x), self.value(x)
        wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5
        wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))
        wei = self.dropout(F.softmax(wei, dim=-1))
        return wei @ v


class MultiHeadAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.heads = nn.ModuleList([Head(cfg, cfg.n_embd // cfg.n_head) for _ in range(cfg.n_head)])
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x):
        out = torch.cat([h(x) for h in self.heads], dim=-1)
        return self.dropout(self.proj(out))


class CausalSelfAttention(nn.Module):
    """All heads at once: one qkv projection and F.scaled_dot_product_attention (nanoGPT's)."""

    def __init__(self, cfg):
        super().__init__()
        self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=cfg.bias)
        self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.resid_dropout = nn.Dropout(cfg.dropout)
        self.n_head, self.n_embd, self.dropout = cfg.n_head, cfg.n_embd, cfg.dropout

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh}


class Block(nn.Module):
    """Transformer block: communication (attention) then computation (MLP), each pre-norm and residual."""

    def __init__(self, cfg):
        super().__init__()
        self.ln_1 = LayerNorm(cfg.n_embd, cfg.bias)
        self.attn = MultiHeadAttention(cfg) if cfg.attention == "heads" else CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.n_embd, 4 * cfg.n_embd, bias=cfg.bias),
            ACTIVATIONS[cfg.activation](),
            nn.Linear(4 * cfg.n_embd, cfg.n_embd, bias=cfg.bias),
            nn.Dropout(cfg.dropout),
        )

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class CharTransformer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.block_size = cfg.block_size
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(cfg.vocab_size, cfg.n_embd),
            wpe=nn.Embedding(cfg.block_size, cfg.n_embd),
            drop=nn.Dropout(cfg.dropout),
            h=nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)]),
            ln_f=LayerNorm(cfg.n_embd, cfg.bias),
        ))
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size)
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets=None):
        B, T = idx.shape
        pos = torch.arange(T, dtype=torch.long, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        if targets is None:
            return logits, None
        B, T, C = logits.shape
        loss = F.cross_entropy(logits.view(B * T, C), targets.view(B * T))
        return logits, loss

    @torch.no_grad()
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None):
        for _ in range(max_new_tokens):
            idx_cond = idx[:, -self.block_size:]
            logits, _ = self(idx_cond)
            logits = logits[:, -1, :] / temperature
            if top_k is not None:
                v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                logits[logits < v[:, [-1]]] = -float("Inf")
            probs = F.softmax(logits, dim=-1)
            idx_next = torch.multinomial(probs, num_samples=1)
            idx = torch.cat((idx, idx_next), dim=1)
        return idx


def configure_optimizer(model, lr, weight_decay):
    """AdamW that decays matrices (dim >= 2) and leaves biases and norm gains alone."""
    params = {name: p for name, p in model.named_parameters() if p.requires_grad}
    groups = [
        {"params": [p for p in params.values() if p.dim() >= 2], "weight_decay": weight_decay},
        {"params": [p for p in params.values() if p.dim() < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95))


def random_batch(data, block_size, batch_size, device):
    ix = torch.randint(len(data) - block_size, (batch_size,))
    x = torch.stack([data[i:i + block_size] for i in ix])
    y = torch.stack([data[i + 1:i + block_size + 1] for i in ix])
    return x.to(device), y.to(device)


@torch.no_grad()
def estimate_loss(model, splits, block_size, batch_size, eval_iters, device):
    model.eval()
    out = {}
    for name, data in splits.items():
        losses = torch.zeros(eval_iters)
        for k in range(eval_iters):
            _, loss = model(*random_batch(data, block_size, batch_size, device))
            losses[k] = loss.item()
        out[name] = losses.mean().item()
    model.train()
    return out


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"

    with open(args.input, encoding="utf-8") as f:
        text = f.read()
    chars = sorted(set(text))
    stoi = {ch: i for i, ch in enumerate(chars)}
    itos = {i: ch for i, ch in enumerate(chars)}
    encode = lambda s: [stoi[c] for c in s]  # noqa: E731
    decode = lambda ids: "".join(itos[i] for i in ids)  # noqa: E731

    data = torch.tensor(encode(text), dtype=torch.long)
    n = int(0.9 * len(data))
    splits = {"train": data[:n], "val": data[n:]}

    cfg = argparse.Namespace(vocab_size=len(chars), block_size=args.block_size, n_embd=args.n_embd,
                             n_head=args.n_head, n_layer=args.n_layer, dropout=args.dropout, bias=args.bias,
                             attention=args.attention, activation=args.activation)
    model = CharTransformer(cfg).to(device)
    print(f"{sum(p.numel() for p in model.parameters())} parameters, vocab {len(chars)}, device {device}")

    optimizer = configure_optimizer(model, args.lr, args.weight_decay)
    cosine_after_warmup = lambda step: min(1.0, (step + 1) / args.warmup) * 0.5 * (1 + math.cos(math.pi * step / args.steps))  # noqa: E731
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, cosine_after_warmup)

    train_set = CharChunks(splits["train"], args.block_size)
    sampler = RandomSampler(train_set, replacement=True, num_samples=args.steps * args.batch_size)
    loader = DataLoader(train_set, batch_size=args.batch_size, sampler=sampler, drop_last=True)
    writer = SummaryWriter(os.path.join(args.out, "runs")) if SummaryWriter is not None else None

    t0 = time.time()
    for step, (xb, yb) in enumerate(loader):
        if step % args.eval_interval == 0 or step == args.steps - 1:
            losses = estimate_loss(model, splits, args.block_size, args.batch_size, args.eval_iters, device)
            print(f"step {step}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")
            if writer is not None:
                writer.add_scalar("val/loss", losses["val"], step)
        _, loss = model(xb.to(device), yb.to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        if writer is not None:
            writer.add_scalar("train/loss", loss.item(), step)
            writer.add_scalar("train/lr", scheduler.get_last_lr()[0], step)
    print(f"trained {args.steps} steps in {time.time() - t0:.1f}s")
    if writer is not None:
        writer.close()

    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "model.pt")
    torch.save(model.state_dict(), path)
    restored = CharTransformer(cfg).to(device)
    restored.load_state_dict(torch.load(path))
    restored.eval()
    context = torch.zeros((1, 1), dtype=torch.long, device=device)
    with torch.inference_mode():
        sample = restored.generate(context, max_new_tokens=args.sample_tokens, top_k=args.top_k)
    print(decode(sample[0].tolist()))


if __name__ == "__main__":
    main()
