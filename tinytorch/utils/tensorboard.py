"""torch.utils.tensorboard.SummaryWriter, logging to plain files instead of event protobufs.

Scalars go to `<log_dir>/scalars.csv` (columns `wall_time,tag,step,value`), text to
`<log_dir>/text.csv` (`wall_time,tag,step,text`). Read them back with `read_scalars`, or plot
every tag of a run:

    python -m tinytorch.utils.tensorboard runs/my_run            # writes runs/my_run/scalars.png
    python -m tinytorch.utils.tensorboard runs/my_run --out loss.png --tags train/loss val/loss
"""
import argparse
import csv
import os
import socket
import sys
import time
from datetime import datetime

from ..compat import NotSupportedAttributeError
from ..tensor import Tensor

SCALARS_FILE = "scalars.csv"
TEXT_FILE = "text.csv"
_HEADERS = {SCALARS_FILE: ("wall_time", "tag", "step", "value"), TEXT_FILE: ("wall_time", "tag", "step", "text")}


class SummaryWriter:
    """Append scalars (and text) to CSV files in `log_dir`.

    log_dir defaults to `runs/<Mon>DD_HH-MM-SS_<hostname><comment>`, as in torch. Rows are
    buffered and written every `max_queue` rows, every `flush_secs` seconds, on `flush()` and on
    `close()`; logging after `close()` reopens the files. Re-using a log_dir appends to it.
    """

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120, filename_suffix=""):
        if log_dir is None:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = str(log_dir)
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        os.makedirs(self.log_dir, exist_ok=True)
        self._pending = {SCALARS_FILE: [], TEXT_FILE: []}
        self._last_flush = time.monotonic()

    def get_logdir(self):
        return self.log_dir

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False, double_precision=False):
        """Log one number (a Python/NumPy number or a one-element tensor) under `tag` at `global_step`
        (0 when not given, as tensorboard records it)."""
        self._add(SCALARS_FILE, tag, global_step, walltime, _as_float(scalar_value, tag))

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Log several numbers at once, each under `main_tag/key`."""
        for key, value in tag_scalar_dict.items():
            self.add_scalar(f"{main_tag}/{key}", value, global_step, walltime)

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        self._add(TEXT_FILE, tag, global_step, walltime, str(text_string))

    def _add(self, filename, tag, step, walltime, value):
        step = 0 if step is None else int(step)
        self._pending[filename].append((time.time() if walltime is None else walltime, tag, step, value))
        if (sum(map(len, self._pending.values())) >= self.max_queue
                or time.monotonic() - self._last_flush >= self.flush_secs):
            self.flush()

    def flush(self):
        """Write every buffered row to disk."""
        for filename, rows in self._pending.items():
            if rows:
                _append_rows(os.path.join(self.log_dir, filename), _HEADERS[filename], rows)
                rows.clear()
        self._last_flush = time.monotonic()

    def close(self):
        self.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __getattr__(self, name):
        if name.startswith("add_"):
            raise NotSupportedAttributeError(
                f"tinytorch does not support 'SummaryWriter.{name}' yet (it logs scalars and text only)")
        raise AttributeError(f"'SummaryWriter' object has no attribute '{name}'")


def _as_float(value, tag):
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(f"add_scalar('{tag}'): expected a one-element tensor, got shape {tuple(value.shape)}")
        return float(value.item())
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"add_scalar('{tag}'): expected a number, got {type(value).__name__}") from None


def _append_rows(path, header, rows):
    new_file = not os.path.exists(path) or os.path.getsize(path) == 0
    with open(path, "a", newline="") as f:
        writer = csv.writer(f)
        if new_file:
            writer.writerow(header)
        writer.writerows(rows)


def read_scalars(log_dir):
    """{tag: (steps, values)} from `<log_dir>/scalars.csv`, each list in the order logged."""
    path = os.path.join(log_dir, SCALARS_FILE)
    if not os.path.exists(path):
        raise FileNotFoundError(f"read_scalars: no {SCALARS_FILE} in {log_dir}")
    series = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            steps, values = series.setdefault(row["tag"], ([], []))
            steps.append(int(row["step"]))
            values.append(float(row["value"]))
    return series


def plot_scalars(log_dir, out=None, tags=None):
    """Plot each tag's values against steps into one PNG (default `<log_dir>/scalars.png`); returns its path."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = read_scalars(log_dir)
    unknown = sorted(set(tags or ()) - set(series))
    if unknown:
        raise ValueError(f"plot_scalars: no tags {unknown} in {log_dir} (it has {sorted(series)})")
    out = out or os.path.join(log_dir, "scalars.png")
    fig, ax = plt.subplots(figsize=(7, 4))
    for tag in tags or sorted(series):
        ax.plot(*series[tag], label=tag)
    ax.set_xlabel("step")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tinytorch.utils.tensorboard",
                                     description="Plot the scalars a SummaryWriter logged to <log_dir>/scalars.csv.")
    parser.add_argument("log_dir")
    parser.add_argument("--out", help="PNG to write (default: <log_dir>/scalars.png)")
    parser.add_argument("--tags", nargs="+", help="only these tags (default: all)")
    args = parser.parse_args(argv)
    try:
        print(plot_scalars(args.log_dir, args.out, args.tags))
    except (OSError, ValueError) as e:
        sys.exit(f"tinytorch.utils.tensorboard: {e}")


if __name__ == "__main__":
    main()
