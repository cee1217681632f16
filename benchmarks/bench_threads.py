"""Where a Numba kernel should go parallel: each CPU kernel at growing sizes on one thread and on every
core, interleaved, to find the work (elements) below which a second thread does not pay
(kernels/cpu/threads.py's MIN_WORK_PER_THREAD).

    python benchmarks/bench_threads.py
    python benchmarks/bench_threads.py --quick

For each kernel and size the two settings take turns (harness.interleave, wall clock); the table gives
the median time of each and one thread's time over every core's (above 1: the threads help). The
threshold is forced both ways here (MIN_WORK_PER_THREAD set to 1 or to infinity) so that the same
kernel code runs serially and in parallel, and every core counts as free (tinytorch otherwise leaves
the cores other processes keep busy alone, backends.free_threads).

Writes OUT/threads.{json,md} (--update-results: benchmarks/results/).
"""
import harness

ARGS = None
if __name__ == "__main__":
    parser = harness.cli(__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="3 rounds, fewer sizes")
    ARGS = harness.start(parser)

import numpy as np  # noqa: E402

import tinytorch  # noqa: E402
from tinytorch import backends  # noqa: E402

SIZES = [1 << k for k in range(12, 22)]  # elements


def cases(n):
    """(kernel name, a call of it on about n float32 elements) for each CPU kernel."""
    rng = np.random.default_rng(0)
    rows = max(1, n // 128)
    x = rng.standard_normal((rows, 128), dtype=np.float32)
    w, b = np.ones(128, np.float32), np.zeros(128, np.float32)
    flat = x.reshape(-1)
    p, g, m, v = (flat.copy() for _ in range(4))
    v = np.abs(v)
    scores = rng.standard_normal((max(1, n // 4096), 64, 64), dtype=np.float32)

    def kernel(name):
        return backends.kernel(name, x)
    return {"gelu_forward": lambda: kernel("gelu_forward")(x),
            "layernorm_forward": lambda: kernel("layernorm_forward")(x, w, b, 1e-5),
            "softmax_forward": lambda: kernel("softmax_forward")(x),
            "attention_softmax_forward_": lambda: kernel("attention_softmax_forward_")(scores, 0.125, True),
            "adam_update_": lambda: kernel("adam_update_")(p, g, m, v, 1e-3, 0.9, 0.99, 1e-8, 0.1, True, False, 3.0)}


def forced(threshold, call):
    from tinytorch.kernels.cpu import threads

    def run(_):
        saved = threads.MIN_WORK_PER_THREAD
        threads.MIN_WORK_PER_THREAD = threshold
        try:
            return call()
        finally:
            threads.MIN_WORK_PER_THREAD = saved
    return run


COLUMNS = [("kernel", "{kernel}"), ("elements", "{n:,}"), ("1 thread µs", "{one_us:.1f}"),
           ("every core µs", "{every_us:.1f}"), ("1 thread / every core", lambda r: harness.with_spread(r["speedup"]))]


def main(args):
    sizes = SIZES[::3] if args.quick else SIZES
    rounds = 3 if args.quick else args.rounds
    results = harness.Results("threads", args, f"Numba kernels: one thread against every core "
                              f"({tinytorch.get_num_threads()} threads)")
    results.table("rows", COLUMNS, labels=2)
    backends._next_sample, backends._free = float("inf"), None  # every core free: the kernels' own scaling
    with backends.using(kernels="numba", threads=tinytorch.get_num_threads()):
        for n in sizes:
            for name, call in cases(n).items():
                call()
                one = harness.Runner("one", forced(float("inf"), call))
                every = harness.Runner("every", forced(1, call))
                harness.interleave([one, every], rounds=rounds, warmup=2)
                row = dict(kernel=name, n=n, one_us=1e6 * float(np.median(one.times)),
                           every_us=1e6 * float(np.median(every.times)), speedup=harness.ratios(one, every))
                results.row(**row)
                print(f"{name:28s} {n:9,d}  1 thread {row['one_us']:9.1f} µs  every core {row['every_us']:9.1f} µs  "
                      f"x{row['speedup']['median']:.2f}", flush=True)
    results.write()


if __name__ == "__main__":
    main(ARGS)
