"""How many threads a parallel CPU kernel runs on: as many as its work fills, up to a limit.

tinytorch.backends sets the limit (`set_limit`): the process's thread count (tinytorch.set_num_threads),
less the cores other processes keep busy. A kernel over `work` elements runs on
min(limit, work // MIN_WORK_PER_THREAD) threads, one at least (`use_threads_for`, called by each
entry point before its Numba kernel). Waking a thread costs microseconds, and on a machine busy
with other work a thread that does not get its core stalls the whole kernel; below about
MIN_WORK_PER_THREAD elements a thread's share is done before that pays off, so small kernels run
on the calling thread alone (benchmarks/bench_threads.py measures where the crossover lies).

Numba's thread count is per calling thread; it is changed only when a kernel needs another one.
Numba's pool is GNU OpenMP's (libgomp). How its idle threads wait depends on who else runs threads:

- MKL installed (and not turned off by TINYTORCH_CPU_MATMUL=numpy): MKL runs on libgomp too
  (mkl_matmul.py), so the products and the kernels share one pool, and libgomp's default applies:
  a thread spins a little (about 300,000 rounds) before it sleeps, ready for the next region. The
  shakespeare-char-cpu GPT's step on 2 cores: 37 ms, against 44 ms with every thread sleeping at
  once (each region then waits for its threads to wake).
- OpenBLAS (NumPy's, a pthreads pool of its own): OpenMP's passive wait policy (unless
  OMP_WAIT_POLICY says otherwise): an idle thread sleeps at once, so it never holds a core that
  OpenBLAS's threads, or the calling thread, need. Spinning Numba threads made the same step
  200 ms; on a busy machine they made a 2-thread kernel 15x slower than a 1-thread one.
"""
import os
import threading

import numba

from . import mkl_matmul

MIN_WORK_PER_THREAD = 1 << 17

_limit = None
_current = threading.local()


def start_pool():
    """Start Numba's thread pool, passive unless it shares it with MKL (see above); the environment is
    left as it was (child processes must not inherit the setting)."""
    chosen = "OMP_WAIT_POLICY" in os.environ or shares_pool_with_blas()
    if not chosen:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        numba.get_num_threads()  # launches the pool: OpenMP reads its environment now
    finally:
        if not chosen:
            del os.environ["OMP_WAIT_POLICY"]


def shares_pool_with_blas():
    """Whether BLAS's threads are the OpenMP pool's own: MKL (on libgomp) is installed and not refused."""
    return os.environ.get("TINYTORCH_CPU_MATMUL", "auto") != "numpy" and mkl_matmul.installed()


def set_limit(n):
    """The most threads a kernel may use from now on (capped by Numba's pool, NUMBA_NUM_THREADS)."""
    global _limit
    _limit = max(1, min(int(n), numba.config.NUMBA_NUM_THREADS))


def threads_for(work):
    """The threads a kernel over `work` elements runs on."""
    limit = numba.config.NUMBA_NUM_THREADS if _limit is None else _limit
    return max(1, min(limit, work // MIN_WORK_PER_THREAD))


def use_threads_for(work):
    """Set Numba's thread count (for this thread) for a kernel over `work` elements; returns it."""
    n = threads_for(work)
    if getattr(_current, "n", None) != n:
        numba.set_num_threads(n)
        _current.n = n
    return n


start_pool()
