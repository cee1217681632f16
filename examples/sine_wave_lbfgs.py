"""Learn to continue sine waves with two LSTMCells and L-BFGS. A plain PyTorch script.

In the style of PyTorch's examples/time_sequence_prediction (generate_sine_wave.py and train.py in
one file): noisy-phase sine waves are generated, a two-layer LSTMCell model is trained in float64
with optim.LBFGS (each step runs its closure up to 20 times), and after each step it predicts the
test waves `--future` points past their end. It runs on real PyTorch and, unchanged, on tinytorch:

    python examples/sine_wave_lbfgs.py
    python -m tinytorch.run_as_torch examples/sine_wave_lbfgs.py
"""
import argparse

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=15, help="LBFGS steps")
    p.add_argument("--samples", type=int, default=100, help="sine waves (the first 3 are the test set)")
    p.add_argument("--length", type=int, default=1000, help="points per wave")
    p.add_argument("--period", type=float, default=20.0, help="the waves' period is 2 pi PERIOD points")
    p.add_argument("--hidden", type=int, default=51)
    p.add_argument("--future", type=int, default=1000, help="points to predict past the end")
    p.add_argument("--lr", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def generate_sine_waves(samples, length, period, rng):
    """sin((t + shift) / period) for t = 0 .. length-1, one random shift per wave."""
    x = np.empty((samples, length), np.int64)
    x[:] = np.arange(length) + rng.integers(-4 * period, 4 * period, samples).reshape(samples, 1)
    return np.sin(x / 1.0 / period).astype("float64")


class Sequence(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.hidden = hidden
        self.lstm1 = nn.LSTMCell(1, hidden)
        self.lstm2 = nn.LSTMCell(hidden, hidden)
        self.linear = nn.Linear(hidden, 1)

    def forward(self, input, future=0):
        outputs = []
        h_t = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        c_t = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        h_t2 = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        c_t2 = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for _ in range(future):  # predicting the future: each output is the next input
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        return torch.cat(outputs, dim=1)


def main():
    args = parse_args()
    rng = np.random.default_rng(args.seed)
    torch.manual_seed(args.seed)
    data = generate_sine_waves(args.samples, args.length, args.period, rng)
    input = torch.from_numpy(data[3:, :-1])
    target = torch.from_numpy(data[3:, 1:])
    test_input = torch.from_numpy(data[:3, :-1])
    test_target = torch.from_numpy(data[:3, 1:])
    seq = Sequence(args.hidden)
    seq.double()
    criterion = nn.MSELoss()
    optimizer = optim.LBFGS(seq.parameters(), lr=args.lr)
    for i in range(args.steps):
        print("STEP: ", i)

        def closure():
            optimizer.zero_grad()
            out = seq(input)
            loss = criterion(out, target)
            print("loss:", f"{loss.item():.10f}")
            loss.backward()
            return loss
        optimizer.step(closure)
        with torch.no_grad():  # predict, no need to track gradient
            pred = seq(test_input, future=args.future)
            loss = criterion(pred[:, :-args.future], test_target)
            print("test loss:", f"{loss.item():.10f}")


if __name__ == "__main__":
    main()
