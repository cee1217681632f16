"""The one harness under every benchmark script: process setup, timing, interleaved runners, results.

    import harness
    ARGS = harness.start(parser) if __name__ == "__main__" else None   # before NumPy loads
    ...
    runners = [harness.Runner("fused", step), harness.Runner("torch", torch_step)]
    harness.interleave(runners, rounds=5)
    harness.ratios(runners[0], runners[1])          # per-round ratios: median and spread
    harness.Results("fused", ARGS, "Fused ops").table("rows", COLUMNS).row(op="softmax", ...).write()

A script is its cases and its columns on top of this. Every script answers --help, writes
OUT/<name>.{json,md,png} into --out (default benchmarks/out/, git-ignored) and refreshes the
committed tables in benchmarks/results/ only with --update-results.

This module is imported before the thread variables are set, so nothing here imports NumPy,
matplotlib or tinytorch when it loads: they start thread pools that read the variables once.
"""
import argparse
import contextlib
import json
import os
import shlex
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

from machine_info import THREAD_VARIABLES, describe, machine_info, reset_peak_rss, rss_kb

BENCHMARKS = Path(__file__).resolve().parent
RESULTS = BENCHMARKS / "results"
OUT = BENCHMARKS / "out"
SHARED_DATA = BENCHMARKS.parents[1] / "shared" / "data"
sys.path.append(str(BENCHMARKS.parent / "tests"))  # for `from twins.gpt import TorchGPT`: the models' torch twins


# ---- process setup ------------------------------------------------------------------------------

def cli(doc, threads=None, out=OUT):
    """The parser every script starts from: --out and --update-results, plus --threads (default
    `threads`) for a script that sets the thread count of BLAS, OpenMP, Numba and torch."""
    parser = argparse.ArgumentParser(prog=f"python benchmarks/{Path(sys.argv[0]).name}", description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=out, help=f"folder for the results (default {_shown(out)})")
    parser.add_argument("--update-results", action="store_true",
                        help=f"write the results into {_shown(RESULTS)}/ (the committed tables) instead")
    if threads is not None:
        parser.add_argument("--threads", type=int, default=threads,
                            help=f"threads for torch, BLAS, OpenMP and Numba (default {threads})")
    return parser


def start(parser, overrides=False):
    """Parse the command line, then set the process up: the thread variables (from --threads) and
    TINYTORCH_DATA (../shared/data when it exists and nothing else is set, as the tests do).

    Call it before NumPy, torch or tinytorch are imported. With `overrides`, unknown arguments
    (a preset's --key=value overrides) are kept in args.overrides instead of rejected."""
    if overrides:
        args, rest = parser.parse_known_args()
        args.overrides = rest
    else:
        args = parser.parse_args()
    threads = getattr(args, "threads", None)
    if threads is not None:
        if threads < 1:
            parser.error("--threads must be at least 1")
        for var in THREAD_VARIABLES:
            os.environ[var] = str(threads)
    if not os.environ.get("TINYTORCH_DATA") and SHARED_DATA.is_dir():
        os.environ["TINYTORCH_DATA"] = str(SHARED_DATA)
    return args


def folder(args):
    """Where this run's results go: benchmarks/results/ with --update-results, else --out."""
    return RESULTS if args.update_results else Path(args.out)


def _shown(path):
    try:
        return str(Path(path).resolve().relative_to(BENCHMARKS.parent))
    except ValueError:
        return str(path)


# ---- timing -------------------------------------------------------------------------------------

def wall_clock(fn):
    """(seconds, result) of one call of fn, by the wall clock."""
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def cpu_clock(fn):
    """(seconds, result) of one call of fn, by this process's CPU time: on one thread it is the
    wall time less the moments a busy shared machine gives the core to someone else."""
    t0 = time.process_time()
    result = fn()
    return time.process_time() - t0, result


def best_time(fn, repeats, warmup=0, clock=wall_clock):
    """(the least seconds over `repeats` calls after `warmup` untimed ones, the last call's result)."""
    for _ in range(warmup):
        fn()
    best, result = float("inf"), None
    for _ in range(repeats):
        seconds, result = clock(fn)
        best = min(best, seconds)
    return best, result


def spread(samples):
    """{"median", "q1", "q3", "min", "max", "n"} of repeated measurements: the median with its
    interquartile spread, and the extremes."""
    ordered = sorted(samples)
    q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive") if len(ordered) > 1 else ordered * 3
    return {"median": statistics.median(ordered), "q1": q1, "q3": q3, "min": ordered[0], "max": ordered[-1],
            "n": len(ordered)}


def with_spread(stats, spec=".2f"):
    """'median (q1–q3)' of a spread() dict, for a table cell."""
    return f"{stats['median']:{spec}} ({stats['q1']:{spec}}–{stats['q3']:{spec}})"


# ---- interleaved runners ------------------------------------------------------------------------

class Runner:
    """One contestant of a comparison: `step(i)` does one unit of work (a training step on batch i,
    a forward + backward, an encode) and returns what it computed.

    `backend` holds tinytorch.backends settings applied while it steps (e.g. {"kernels": "numba"}).
    A runner with `may_fail` that raises while warming up is left out, its error kept in `error`.
    interleave() fills `times` (seconds per timed step), `warmup_s` and `output` (the last result)."""

    def __init__(self, name, step, backend=None, may_fail=False):
        self.name, self.step, self.backend, self.may_fail = name, step, backend or {}, may_fail
        self.times, self.warmup_s, self.output, self.error = [], 0.0, None, None

    def run(self, i):
        with self._backend():
            return self.step(i)

    def timed(self, i, clock=wall_clock):
        seconds, self.output = clock(lambda: self.run(i))
        self.times.append(seconds)

    def peak_memory_mb(self, i, repeats=1, trace=False):
        """(the largest rise of the process's peak RSS over `repeats` steps from step i, in MB;
        with `trace`, tracemalloc's peak during the first, which NumPy reports its arrays to, else None)."""
        rises, traced = [], None
        for r in range(repeats):
            reset_peak_rss()
            _, before = rss_kb()
            if trace and r == 0:
                tracemalloc.start()
            self.run(i + r)
            if tracemalloc.is_tracing():
                traced = tracemalloc.get_traced_memory()[1] / 2 ** 20
                tracemalloc.stop()
            rises.append((rss_kb()[0] - before) / 1024)
        return max(rises), traced

    def _backend(self):
        if not self.backend:
            return contextlib.nullcontext()
        import tinytorch
        return tinytorch.backends.using(**self.backend)


def interleave(runners, rounds=3, budget_s=0.0, max_rounds=10_000, warmup=1, clock=wall_clock):
    """Warm each runner up (`warmup` untimed steps, their seconds in runner.warmup_s), then time
    rounds in which every runner steps once, A B C A B C ..., the order rotated each round, so a
    load change on a shared machine hits them alike; rounds go on until `rounds` are done and
    `budget_s` seconds have passed (at most max_rounds). Round k runs step warmup + k.

    Returns the runners that ran: those left out by a failed warm-up (may_fail) carry `error`."""
    ran = []
    for r in runners:
        t0 = time.perf_counter()
        try:
            for i in range(warmup):
                r.run(i)
        except Exception as e:
            if not r.may_fail:
                raise
            r.error = f"{type(e).__name__}: {e}".splitlines()[0][:300]
            print(f"  {r.name} failed while warming up: {r.error}", flush=True)
            continue
        r.warmup_s = time.perf_counter() - t0
        ran.append(r)
    start_time, k = time.perf_counter(), 0
    while k < rounds or (time.perf_counter() - start_time < budget_s and k < max_rounds):
        turn = k % len(ran)
        for r in ran[turn:] + ran[:turn]:
            r.timed(warmup + k, clock)
        k += 1
    return ran


def ratios(numerator, denominator):
    """spread() of the per-round ratios numerator's step time / denominator's (interleaved runners)."""
    return spread([a / b for a, b in zip(numerator.times, denominator.times)])


# ---- results ------------------------------------------------------------------------------------

class Results:
    """What one run writes: <folder>/<name>.json (command, machine, tables, records), .md (title,
    command, text and tables in order, the machine's description) and .png (the panels, if any).

    A table's columns are (header, cell) pairs: cell is a format template filled from the row
    (`"{ms:.3g}"`, `"{fused[ms]:.1f}"`; a missing or None field gives "—") or a function of the row.
    The first `labels` columns are left-aligned; a row with a `note` shows it after them instead of
    the other cells. Machine info is taken when Results is made, the load average again at write()."""

    def __init__(self, name, args, title, **machine):
        self.name, self.folder, self.title = name, folder(args), title
        self.command = " ".join([f"python benchmarks/{Path(sys.argv[0]).name}", shlex.join(sys.argv[1:])]).strip()
        self.machine = machine_info(**machine)
        self.records, self.tables, self.blocks, self.panels, self._current = {}, {}, [], [], None
        self.figure_title, self.figure_width = None, None

    def text(self, paragraph):
        self.blocks.append(paragraph)
        return self

    def table(self, key, columns, labels=1):
        """Start a table (its rows under `key` in the JSON); row() adds to the latest one."""
        self.tables[key] = {"columns": columns, "labels": labels, "rows": []}
        self.blocks.append(key)
        self._current = key
        return self

    def row(self, **fields):
        self.tables[self._current]["rows"].append(fields)
        return self

    def rows(self, key):
        return self.tables[key]["rows"]

    def record(self, **fields):
        """Fields for the JSON only (configuration, limits, raw samples)."""
        self.records.update(fields)
        return self

    def plot(self, *panels, title=None, width=None):
        """Panels (functions of a matplotlib Axes: bars(), curves() or the script's own) for the PNG:
        side by side up to three, stacked beyond."""
        self.panels += panels
        self.figure_title, self.figure_width = title, width
        return self

    def markdown(self):
        lines = [f"# {self.title}", "", f"Command: `{self.command}`", ""]
        for block in self.blocks:
            lines += (_markdown_table(**self.tables[block]) if block in self.tables else [block]) + [""]
        return "\n".join(lines + [describe(self.machine), ""])

    def write(self):
        self.machine["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = self.folder / self.name
        document = {"command": self.command, "machine": self.machine, **self.records,
                    **{key: table["rows"] for key, table in self.tables.items()}}
        _write_atomic(stem.with_suffix(".json"), json.dumps(document, indent=1).encode())
        text = self.markdown()
        _write_atomic(stem.with_suffix(".md"), text.encode())
        if self.panels:
            self._figure(stem.with_suffix(".png"))
        print(text)
        print(f"wrote {stem}.json, .md{', .png' if self.panels else ''}", flush=True)
        return stem

    def _figure(self, path):
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        n = len(self.panels)
        side = n <= 3
        size = (self.figure_width or 6.5 * n, 4.5) if side else (self.figure_width or 12, 3.2 * n)
        fig, axes = plt.subplots(1 if side else n, n if side else 1, figsize=size, squeeze=False)
        for ax, draw in zip(axes.flat, self.panels):
            draw(ax)
        if self.figure_title:
            fig.suptitle(self.figure_title, fontsize=10)
        fig.tight_layout()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.png")
        fig.savefig(tmp, dpi=110)
        plt.close(fig)
        os.replace(tmp, path)


def _markdown_table(columns, labels, rows):
    lines = ["| " + " | ".join(header for header, _ in columns) + " |",
             "|" + "|".join("---" if i < labels else "---:" for i in range(len(columns))) + "|"]
    for row in rows:
        if "note" in row:
            cells = [_cell(cell, row) for _, cell in columns[:labels]] + [row["note"]]
            cells += [""] * (len(columns) - len(cells))
        else:
            cells = [_cell(cell, row) for _, cell in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _cell(cell, row):
    if callable(cell):
        return cell(row)
    try:
        return cell.format_map(row)
    except (KeyError, IndexError, TypeError):  # a missing field, or None under a number's format
        return "—"


def _write_atomic(path, data):
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# ---- panels -------------------------------------------------------------------------------------

def bars(groups, series, ylabel, title=None, log=False, lines=(), rotate=0):
    """A panel of grouped bars: a group per label in `groups`, a bar per series ({label: values},
    None for a gap) in each; `lines` are (y, linestyle, label) horizontal reference lines."""
    def draw(ax):
        width = 0.8 / len(series)
        for i, (label, values) in enumerate(series.items()):
            offset = (i - (len(series) - 1) / 2) * width
            ax.bar([j + offset for j in range(len(groups))], [float("nan") if v is None else v for v in values],
                   width, label=label)
        for y, style, label in lines:
            ax.axhline(y, color="0.3", ls=style, lw=0.8, label=label)
        ax.set_xticks(range(len(groups)), groups, fontsize=7, rotation=rotate,
                      ha="right" if rotate else "center")
        if log:
            ax.set_yscale("log")
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title, fontsize=10)
        ax.legend(fontsize=7, ncol=min(4, len(series) + len(lines)))
    return draw


def curves(series, xlabel, ylabel, title=None):
    """A panel of lines: {label: (xs, ys)}."""
    def draw(ax):
        for label, (xs, ys) in series.items():
            ax.plot(xs, ys, marker=".", label=label)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)
    return draw
