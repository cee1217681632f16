"""A failing rank stops the whole job with its error instead of leaving the others waiting.

MPI cannot cancel a collective another rank is waiting in, and a Python process that ends on an
exception first runs MPI_Finalize, which waits for the other ranks: left alone, the job hangs.
So a rank that fails prints its traceback (each line prefixed `[rankN]:`, as torch does), records
it for the launcher (a JSON file in $TINYTORCH_ERROR_DIR, which tinytorch.distributed.run sets),
and calls MPI_Abort, on which mpiexec ends every process of the job.
"""
import json
import os
import sys
import time
import traceback
from pathlib import Path

from ..serialization import atomic

ERROR_DIR = "TINYTORCH_ERROR_DIR"


def stop(comm, code, text, error):
    """Print `text` (a traceback) on stderr, record `error` (its one-line summary), abort the job with `code`."""
    rank = comm.Get_rank()
    sys.stdout.flush()
    lines = text.rstrip("\n").split("\n")
    print("".join(f"[rank{rank}]: {line}\n" for line in lines), end="", file=sys.stderr, flush=True)
    folder = os.environ.get(ERROR_DIR)
    if folder:
        record = {"rank": rank, "local_rank": int(os.environ.get("LOCAL_RANK", rank)), "exitcode": code,
                  "error": error, "time": time.time(), "pid": os.getpid()}
        atomic.write_text(Path(folder) / f"rank{rank}.json", json.dumps(record))
    comm.Abort(code)


def stop_on(comm, exc):
    """Stop the job for the exception `exc` that ended this rank's work (SystemExit: with its status)."""
    if isinstance(exc, KeyboardInterrupt):
        code, text, error = 130, "interrupted", "interrupted"
    elif isinstance(exc, SystemExit):
        code = exc.code if isinstance(exc.code, int) else 1
        error = f"SystemExit({exc.code!r})"
        text = f"{error}: the script exited with status {code}"
    else:
        code, text = 1, "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip().split("\n")[-1]
    stop(comm, code, text, error)


def stop_on_uncaught_exceptions(comm):
    """Make an uncaught exception stop the job (for scripts started by a plain `mpirun`); returns
    the previous sys.excepthook."""
    previous = sys.excepthook
    sys.excepthook = lambda kind, exc, tb: stop_on(comm, exc)
    return previous


def first_failure(folder):
    """The record of the rank that failed first, or None."""
    records = [json.loads(p.read_text()) for p in Path(folder).glob("rank*.json")]
    return min(records, key=lambda r: r["time"]) if records else None
