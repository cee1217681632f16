"""Classify token sequences with a TransformerEncoder. A plain PyTorch script.

In the style of PyTorch's transformer tutorials: token embeddings, the tutorial's sinusoidal
PositionalEncoding, nn.TransformerEncoder with a key padding mask, masked mean pooling and a
linear classifier, trained with AdamW. The data is generated: sequences of random tokens of
random lengths (padded to --seq-len), labelled 1 when most of their tokens are "small" (in the
lower half of the vocabulary), else 0. It runs on real PyTorch and, unchanged, on tinytorch:

    python examples/transformer_classifier.py --steps 300
    python -m tinytorch.run_as_torch examples/transformer_classifier.py --steps 300
"""
import argparse
import math
import time

import torch
import torch.nn as nn

PAD = 0


def parse_args(argv=None):
    """The command line, or `argv` (benchmarks/bench_train.py passes [] for the defaults)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seq-len", type=int, default=24)
    p.add_argument("--vocab-size", type=int, default=20)
    p.add_argument("--d-model", type=int, default=64)
    p.add_argument("--nhead", type=int, default=4)
    p.add_argument("--d-hid", type=int, default=128)
    p.add_argument("--nlayers", type=int, default=2)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--train-size", type=int, default=4096)
    p.add_argument("--val-size", type=int, default=512)
    p.add_argument("--log-interval", type=int, default=25)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.d_model % args.nhead:
        p.error(f"--d-model ({args.d_model}) must be divisible by --nhead ({args.nhead})")
    return args


def make_dataset(n, seq_len, vocab_size, generator):
    """Tokens (n, seq_len) padded with PAD after each sequence's length, the padding mask (True
    at padding), and the labels: 1 when more than half of a sequence's tokens are small."""
    lengths = torch.randint(seq_len // 2, seq_len + 1, (n,), generator=generator)
    tokens = torch.randint(1, vocab_size, (n, seq_len), generator=generator)
    padding = torch.arange(seq_len).unsqueeze(0) >= lengths.unsqueeze(1)
    tokens = tokens.masked_fill(padding, PAD)
    small = ((tokens != PAD) & (tokens <= vocab_size // 2)).sum(dim=1)
    labels = (2 * small > lengths).long()
    return tokens, padding, labels


class PositionalEncoding(nn.Module):
    """The sinusoidal position encoding of "Attention Is All You Need", added to the input."""

    def __init__(self, d_model, dropout=0.1, max_len=512):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(1, max_len, d_model)
        pe[0, :, 0::2] = torch.sin(position * div_term)
        pe[0, :, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        """x: (batch, seq_len, d_model)."""
        return self.dropout(x + self.pe[:, :x.size(1)])


class TransformerClassifier(nn.Module):
    def __init__(self, vocab_size, num_classes, d_model, nhead, d_hid, nlayers, dropout):
        super().__init__()
        self.d_model = d_model
        self.embedding = nn.Embedding(vocab_size, d_model, padding_idx=PAD)
        self.pos_encoder = PositionalEncoding(d_model, dropout)
        layer = nn.TransformerEncoderLayer(d_model, nhead, d_hid, dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, nlayers)
        self.classifier = nn.Linear(d_model, num_classes)

    def forward(self, tokens, padding_mask):
        x = self.pos_encoder(self.embedding(tokens) * math.sqrt(self.d_model))
        x = self.encoder(x, src_key_padding_mask=padding_mask)
        keep = (~padding_mask).unsqueeze(-1).float()
        pooled = (x * keep).sum(dim=1) / keep.sum(dim=1)
        return self.classifier(pooled)


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    data_gen = torch.Generator().manual_seed(args.seed)
    train = make_dataset(args.train_size, args.seq_len, args.vocab_size, data_gen)
    val = make_dataset(args.val_size, args.seq_len, args.vocab_size, data_gen)
    print(f"train: {args.train_size} sequences, {train[2].float().mean().item():.3f} of them labelled 1")

    model = TransformerClassifier(args.vocab_size, 2, args.d_model, args.nhead, args.d_hid, args.nlayers, args.dropout)
    print(f"{sum(p.numel() for p in model.parameters())} parameters")
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)

    model.train()
    start = time.perf_counter()
    for step in range(args.steps):
        idx = torch.randint(0, args.train_size, (args.batch_size,), generator=data_gen)
        tokens, padding, labels = (t[idx] for t in train)
        loss = criterion(model(tokens, padding), labels)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % args.log_interval == 0 or step == args.steps - 1:
            print(f"step {step}: loss {loss.item():.4f}")
    elapsed = time.perf_counter() - start

    model.eval()
    with torch.no_grad():
        logits = model(val[0], val[1])
        val_loss = criterion(logits, val[2]).item()
        accuracy = (logits.argmax(dim=1) == val[2]).float().mean().item()
    print(f"val loss {val_loss:.4f}, accuracy {accuracy:.3f}")
    print(f"time per step: {1000 * elapsed / max(args.steps, 1):.2f} ms")


if __name__ == "__main__":
    main()
