"""What tinytorch's command lines share: bad input answered in one line with exit status 2, numbers
checked up front by their argparse types, and run folders that never lose a finished run.

    parser = cli.Parser(prog="python -m tinytorch.x")
    parser.add_argument("--steps", type=cli.integer(minimum=1))   # "argument --steps: must be an integer >= 1, got 0"
    try:
        cli.check_run_folder(out, RUN_FILES, overwrite=args.overwrite)   # refused before any work
        ...                                                               # settings checked
        cli.claim_run_folder(out, RUN_FILES, overwrite=args.overwrite)   # old run deleted only now
    except (ValueError, OSError) as e:
        cli.exit_with(e, "error")
"""
import argparse
import math
import os
import sys
from pathlib import Path

from .serialization.atomic import remove_leftovers
from .terminal import printable

BAD_INPUT = 2  # the exit status of every one-line error, argparse's own included


class Parser(argparse.ArgumentParser):
    """argparse whose usage errors are one line, `PROG: error: MESSAGE (see --help)`, with exit status 2."""

    def error(self, message):
        self.exit(BAD_INPUT, f"{self.prog}: error: {printable(message, layout=False)} (see --help)\n")


def one_line(error):
    """An exception's message as one printable line (control characters and newlines escaped)."""
    text = " ".join(str(error).split("\n")).strip() or type(error).__name__
    return printable(text, layout=False)


def exit_with(error, prefix):
    """Print `PREFIX: MESSAGE` in one line on stderr and exit with status 2."""
    print(f"{prefix}: {one_line(error)}", file=sys.stderr)
    raise SystemExit(BAD_INPUT)


def integer(minimum, maximum=None, meaning=""):
    """An argparse type: an int in [minimum, maximum]; `meaning` explains a special value, e.g. "0: full batch"."""
    allowed = f">= {minimum}" if maximum is None else f"in {minimum}..{maximum}"
    note = f" ({meaning})" if meaning else ""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer {allowed}{note}, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"must be an integer {allowed}{note}, got {value}")
        return value
    return parse


def real(minimum, inclusive=True, meaning=""):
    """An argparse type: a finite float >= minimum (> minimum unless `inclusive`)."""
    allowed = f"{'>=' if inclusive else '>'} {minimum:g}"
    note = f" ({meaning})" if meaning else ""

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < minimum or (value == minimum and not inclusive):
            raise argparse.ArgumentTypeError(f"must be a finite number {allowed}{note}, got {text!r}")
        return value
    return parse


def check_run_folder(folder, run_files, overwrite=False, resume=None, flag="--out", what="a run"):
    """The names among `run_files` that `folder` holds; ValueError when it holds any and neither
    `overwrite` (replace them) nor `resume` (continue the run) is given. `resume=None`: the command
    cannot resume."""
    folder = Path(folder)
    if overwrite and resume:
        raise ValueError("give either --resume (continue the run) or --overwrite (replace it), not both")
    found = [name for name in run_files if (folder / name).exists()]
    if found and not (overwrite or resume):
        how = "--overwrite to replace it" if resume is None else "--resume to continue it or --overwrite to replace it"
        shown = ", ".join(found[:3]) + (f", ... {len(found)} files" if len(found) > 3 else "")
        raise ValueError(f"{flag} {folder} already holds {what} ({shown}); give {how}")
    return found


def claim_run_folder(folder, run_files, overwrite=False, resume=None, flag="--out", what="a run"):
    """Make `folder` ready for a run that writes `run_files` into it and return it as a Path: checked by
    `check_run_folder`, created, the old run's files deleted if `overwrite`, and the temporary files
    that killed writers left removed. Call it once the new run's settings are known to be good."""
    found = check_run_folder(folder, run_files, overwrite, resume, flag, what)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if overwrite:
        for name in found:
            os.remove(folder / name)
    remove_leftovers(folder)
    return folder
