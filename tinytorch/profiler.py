"""A per-op profiler: `with tinytorch.profiler.profile() as prof: ...; print(prof.table())`.

While active, every `Function`'s forward and backward is timed (wall clock, synchronising the
GPU when one is used) and the bytes of the arrays it returns are counted. Outside the context
the ops run untouched: the profiler swaps timed wrappers in and restores the originals on exit.
The table is sorted by total time, like torch.profiler's `key_averages().table()`.
"""
import time
from collections import defaultdict

from .autograd import Function
from . import cuda


def _all_functions(cls=Function):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_functions(sub)


def _nbytes(result):
    if isinstance(result, tuple):
        return sum(_nbytes(r) for r in result)
    return getattr(result, "nbytes", 0)


class _Stat:
    __slots__ = ("calls", "seconds", "nbytes")

    def __init__(self):
        self.calls, self.seconds, self.nbytes = 0, 0.0, 0


class profile:
    """Context manager recording, per op and pass (forward / backward): calls, time, bytes."""

    def __init__(self, sync_cuda=True):
        self.sync = sync_cuda and cuda.is_available()
        self.stats = defaultdict(_Stat)
        self._saved = []
        self.wall = 0.0

    def _timed(self, fn, key):
        stat = self.stats[key]
        sync = cuda.synchronize if self.sync else None

        def timed(*args, **kwargs):
            if sync:
                sync()
            t0 = time.perf_counter()
            out = fn(*args, **kwargs)
            if sync:
                sync()
            stat.seconds += time.perf_counter() - t0
            stat.calls += 1
            stat.nbytes += _nbytes(out)
            return out
        return timed

    def __enter__(self):
        for cls in set(_all_functions()):
            own = cls.__dict__
            if "forward" in own and "backward" in own:
                self._saved.append((cls, own["forward"], own["backward"]))
                cls.forward = staticmethod(self._timed(own["forward"].__func__, (cls.__name__, "forward")))
                cls.backward = staticmethod(self._timed(own["backward"].__func__, (cls.__name__, "backward")))
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.wall += time.perf_counter() - self._t0
        for cls, forward, backward in self._saved:
            cls.forward, cls.backward = forward, backward
        self._saved.clear()
        return False

    def key_averages(self):
        """Rows (name, pass, calls, total seconds, bytes), slowest first."""
        rows = [(name, which, s.calls, s.seconds, s.nbytes) for (name, which), s in self.stats.items() if s.calls]
        return sorted(rows, key=lambda r: -r[3])

    def table(self, row_limit=30):
        rows = self.key_averages()
        total = sum(r[3] for r in rows) or 1e-12
        head = f"{'op':<28}{'pass':<10}{'calls':>8}{'total ms':>12}{'avg us':>10}{'% ops':>8}{'MB out':>10}"
        lines = [head, "-" * len(head)]
        for name, which, calls, secs, nbytes in rows[:row_limit]:
            lines.append(f"{name:<28}{which:<10}{calls:>8}{secs * 1e3:>12.2f}{secs / calls * 1e6:>10.1f}"
                         f"{100 * secs / total:>7.1f}%{nbytes / 2**20:>10.1f}")
        lines.append("-" * len(head))
        lines.append(f"ops total {total * 1e3:.1f} ms of {self.wall * 1e3:.1f} ms wall "
                     f"({100 * total / max(self.wall, 1e-12):.0f}%; the rest is Python between ops)")
        return "\n".join(lines)

    def export(self, path):
        """Write the table to a text file."""
        with open(path, "w") as f:
            f.write(self.table(row_limit=1000) + "\n")
