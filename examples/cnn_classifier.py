"""Train a small CNN to tell horizontal, vertical and diagonal bars apart. A plain PyTorch script.

In the style of PyTorch's examples/mnist: two Conv2d + ReLU + MaxPool2d blocks, then two Linear
layers, log_softmax and nll_loss, trained with SGD and momentum. The images are drawn here, no
download: 12x12 pictures of one bar (a row, a column or a wrapped diagonal) at a random offset,
plus Gaussian noise. It runs on real PyTorch and, unchanged, on tinytorch:

    python examples/cnn_classifier.py
    python -m tinytorch.run_as_torch examples/cnn_classifier.py
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

CLASSES = ("horizontal", "vertical", "diagonal")


def parse_args(argv=None):
    """The command line, or `argv` (benchmarks/bench_train.py passes [] for the defaults)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=300, help="training batches")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--train-size", type=int, default=1024, help="training images")
    p.add_argument("--test-size", type=int, default=512, help="test images")
    p.add_argument("--size", type=int, default=12, help="image side in pixels")
    p.add_argument("--noise", type=float, default=0.5, help="standard deviation of the pixel noise")
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--log-interval", type=int, default=10)
    return p.parse_args(argv)


def make_bars(n, size, noise):
    """n noisy (1, size, size) images of one bar each, and their labels (an index into CLASSES)."""
    labels = torch.randint(0, len(CLASSES), (n,))
    offsets = torch.randint(0, size, (n, 1, 1))
    rows = torch.arange(size).view(1, size, 1)
    cols = torch.arange(size).view(1, 1, size)
    horizontal, vertical = rows == offsets, cols == offsets
    diagonal = (rows + cols) % size == offsets
    kind = labels.view(n, 1, 1)
    bars = torch.where(kind == 0, horizontal, torch.where(kind == 1, vertical, diagonal)).float()
    images = bars + noise * torch.randn(n, size, size)
    return images.unsqueeze(1), labels


class Net(nn.Module):
    def __init__(self, size, n_classes):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3)
        side = (size // 2 - 2) // 2
        self.fc1 = nn.Linear(16 * side * side, 32)
        self.fc2 = nn.Linear(32, n_classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return F.log_softmax(self.fc2(x), dim=1)


def evaluate(model, images, labels):
    model.eval()
    with torch.no_grad():
        output = model(images)
        loss = F.nll_loss(output, labels).item()
        correct = (output.argmax(dim=1) == labels).sum().item()
    model.train()
    return loss, correct / len(labels)


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    train_x, train_y = make_bars(args.train_size, args.size, args.noise)
    test_x, test_y = make_bars(args.test_size, args.size, args.noise)
    model = Net(args.size, len(CLASSES))
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{args.train_size} training images of {args.size}x{args.size}, {n_params} parameters")

    model.train()
    for step in range(1, args.steps + 1):
        start = (step - 1) * args.batch_size % args.train_size
        data, target = train_x[start:start + args.batch_size], train_y[start:start + args.batch_size]
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()
        if step % args.log_interval == 0 or step == 1:
            print(f"step {step}: loss {loss.item():.6f}", flush=True)
    test_loss, accuracy = evaluate(model, test_x, test_y)
    print(f"test loss {test_loss:.6f}, accuracy {100 * accuracy:.1f}%")


if __name__ == "__main__":
    main()
