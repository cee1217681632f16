"""Train a word-level LSTM language model on a slice of Tiny Shakespeare. A plain PyTorch script.

In the style of PyTorch's examples/word_language_model (main.py, data.py, model.py in one file):
the text is split into words (each line ends with <eos>), batchified into columns, and an
Embedding -> LSTM (or GRU / RNN) -> Linear model is trained with truncated backpropagation through
time, gradient clipping and plain SGD whose learning rate is divided by 4 when the validation loss
stops improving. It runs on real PyTorch and, unchanged, on tinytorch:

    python examples/lstm_word_lm.py
    python -m tinytorch.run_as_torch examples/lstm_word_lm.py

The text is --data, or tinyshakespeare.txt in $TINYTORCH_DATA.
"""
import argparse
import math
import os
import time

import torch
import torch.nn as nn


def parse_args(argv=None):
    """The command line, or `argv` (benchmarks/bench_train.py passes [] for the defaults)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", help="text file (default: $TINYTORCH_DATA/tinyshakespeare.txt)")
    p.add_argument("--chars", type=int, default=200_000, help="use the first CHARS characters of the text")
    p.add_argument("--model", default="LSTM", choices=["LSTM", "GRU", "RNN_TANH", "RNN_RELU"])
    p.add_argument("--emsize", type=int, default=200, help="size of word embeddings")
    p.add_argument("--nhid", type=int, default=200, help="number of hidden units per layer")
    p.add_argument("--nlayers", type=int, default=2)
    p.add_argument("--lr", type=float, default=2.0,
                   help="initial learning rate (PyTorch's example uses 20: there the first steps overshoot, and "
                        "float32 rounding differences between two libraries grow past 1e-3 in the loss)")
    p.add_argument("--clip", type=float, default=0.25, help="gradient clipping")
    p.add_argument("--steps", type=int, default=300, help="training batches")
    p.add_argument("--batch-size", type=int, default=20)
    p.add_argument("--bptt", type=int, default=35, help="sequence length")
    p.add_argument("--dropout", type=float, default=0.2, help="dropout applied to layers (0 = no dropout)")
    p.add_argument("--tied", action="store_true", help="tie the word embedding and softmax weights")
    p.add_argument("--seed", type=int, default=1111)
    p.add_argument("--log-interval", type=int, default=50)
    p.add_argument("--eval-interval", type=int, default=100, help="validate (and maybe anneal lr) every N steps")
    p.add_argument("--save", default="", help="path to save the final model")
    args = p.parse_args(argv)
    if args.data is None:
        if "TINYTORCH_DATA" not in os.environ:
            p.error("give --data or set TINYTORCH_DATA to a folder holding tinyshakespeare.txt")
        args.data = os.path.join(os.environ["TINYTORCH_DATA"], "tinyshakespeare.txt")
    if not os.path.isfile(args.data):
        p.error(f"no such file: {args.data}")
    if args.tied and args.nhid != args.emsize:
        p.error("when using the tied flag, --nhid must be equal to --emsize")
    return args


class Dictionary:
    def __init__(self):
        self.word2idx = {}
        self.idx2word = []

    def add_word(self, word):
        if word not in self.word2idx:
            self.idx2word.append(word)
            self.word2idx[word] = len(self.idx2word) - 1
        return self.word2idx[word]

    def __len__(self):
        return len(self.idx2word)


class Corpus:
    """The first `chars` characters of the text, split by lines: 90% train, 10% validation."""

    def __init__(self, path, chars):
        self.dictionary = Dictionary()
        with open(path, encoding="utf8") as f:
            lines = f.read()[:chars].splitlines()
        n_train = int(len(lines) * 0.9)
        self.train = self.tokenize(lines[:n_train])
        self.valid = self.tokenize(lines[n_train:])

    def tokenize(self, lines):
        ids = [self.dictionary.add_word(word) for line in lines for word in line.split() + ["<eos>"]]
        return torch.tensor(ids, dtype=torch.int64)


class RNNModel(nn.Module):
    """Container module with an encoder, a recurrent module, and a decoder."""

    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        if rnn_type in ["LSTM", "GRU"]:
            self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        else:
            nonlinearity = {"RNN_TANH": "tanh", "RNN_RELU": "relu"}[rnn_type]
            self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity=nonlinearity, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            self.decoder.weight = self.encoder.weight
        self.init_weights()
        self.rnn_type, self.nhid, self.nlayers = rnn_type, nhid, nlayers

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        return decoded.view(-1, self.ntoken), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.rnn_type == "LSTM":
            return (weight.new_zeros(self.nlayers, bsz, self.nhid), weight.new_zeros(self.nlayers, bsz, self.nhid))
        return weight.new_zeros(self.nlayers, bsz, self.nhid)


def batchify(data, bsz):
    """Arrange the token stream into bsz columns, dropping what does not fit."""
    nbatch = data.size(0) // bsz
    data = data[:nbatch * bsz]
    return data.view(bsz, -1).t().contiguous()


def get_batch(source, i, bptt):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i:i + seq_len]
    target = source[i + 1:i + 1 + seq_len].reshape(-1)
    return data, target


def repackage_hidden(h):
    """Wraps hidden states in new Tensors, to detach them from their history."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


def evaluate(model, criterion, source, bptt, bsz):
    model.eval()
    total_loss = 0.0
    hidden = model.init_hidden(bsz)
    with torch.no_grad():
        for i in range(0, source.size(0) - 1, bptt):
            data, targets = get_batch(source, i, bptt)
            output, hidden = model(data, hidden)
            hidden = repackage_hidden(hidden)
            total_loss += len(data) * criterion(output, targets).item()
    return total_loss / (len(source) - 1)


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    corpus = Corpus(args.data, args.chars)
    eval_batch_size = 10
    train_data = batchify(corpus.train, args.batch_size)
    val_data = batchify(corpus.valid, eval_batch_size)
    ntokens = len(corpus.dictionary)
    model = RNNModel(args.model, ntokens, args.emsize, args.nhid, args.nlayers, args.dropout, args.tied)
    criterion = nn.CrossEntropyLoss()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{ntokens} words in the vocabulary, {len(corpus.train)} training tokens, {n_params} parameters")

    lr, best_val_loss = args.lr, None
    model.train()
    hidden = model.init_hidden(args.batch_size)
    total_loss, start = 0.0, time.time()
    batches = range(0, train_data.size(0) - 1, args.bptt)
    for step in range(1, args.steps + 1):
        i = batches[(step - 1) % len(batches)]
        if i == 0:
            hidden = model.init_hidden(args.batch_size)
        data, targets = get_batch(train_data, i, args.bptt)
        # Starting each batch, we detach the hidden state from how it was previously produced.
        # If we didn't, the model would try backpropagating all the way to start of the dataset.
        hidden = repackage_hidden(hidden)
        model.zero_grad()
        output, hidden = model(data, hidden)
        loss = criterion(output, targets)
        loss.backward()
        # `clip_grad_norm` helps prevent the exploding gradient problem in RNNs / LSTMs.
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
        total_loss += loss.item()
        if step % args.log_interval == 0:
            cur_loss = total_loss / args.log_interval
            elapsed = time.time() - start
            print(f"| step {step:5d} | lr {lr:6.3f} | ms/batch {elapsed * 1000 / args.log_interval:7.2f} "
                  f"| loss {cur_loss:.4f} | ppl {math.exp(cur_loss):9.2f}", flush=True)
            total_loss, start = 0.0, time.time()
        if step % args.eval_interval == 0 or step == args.steps:
            val_loss = evaluate(model, criterion, val_data, args.bptt, eval_batch_size)
            model.train()
            print(f"| step {step:5d} | valid loss {val_loss:.4f} | valid ppl {math.exp(val_loss):9.2f}", flush=True)
            if best_val_loss is None or val_loss < best_val_loss:
                best_val_loss = val_loss
            else:
                lr /= 4.0  # anneal the learning rate when the validation loss stops improving
    if args.save:
        with open(args.save, "wb") as f:
            torch.save(model.state_dict(), f)


if __name__ == "__main__":
    main()
