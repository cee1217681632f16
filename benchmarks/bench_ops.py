"""Forward+backward time per op: tinytorch vs the same math in raw NumPy vs torch (CPU), float32.

Every step runs one op forward and backpropagates a fixed upstream gradient `g` into
persistent gradient buffers (`.grad` already exists, so each backward adds into it, as with
gradient accumulation). The NumPy baseline does the same math by hand: the forward, then each
input's gradient computed as a full array (as a Function's backward returns it) and added into
its buffer, the forward's output staying alive until the step returns it (as a framework's
output does: the caller holds it). The framework's overhead per op is then (tinytorch - NumPy) in microseconds, and
torch's eager overhead is (torch - NumPy).

Targets (issue 2): at 8x8, tinytorch's overhead <= torch's; at 1024x1024, tinytorch within 10% of
NumPy. A second table (issue 16) times small ops from real scripts, tinytorch against torch, target
<= 1.0x: `x ** 3.0` and the other scalar powers of minGPT's and makemore's GELU on a (32, 16, 256)
float32 tensor (forward, and forward + backward), indexing with 0-dim tensors (ng-video-lecture's
bigram.py get_batch: `data[i:i+block_size]` for each 0-dim `i`), `item()`, arithmetic with Python
scalars and type promotion. Timing: each repeat runs the step enough times to take >= `--min-time` seconds, the three
libraries taking turns (harness.interleave); the best of `--repeats` repeats is reported (per
step), as tinygrad's speed tests do. The clock is the process's CPU time: on one thread it equals
wall time, but it does not count the moments a busy shared machine gives the core to someone else.
Every library runs on one thread (BLAS, Numba and torch alike; --threads changes it), which keeps a
shared machine's noise out and compares the libraries' own code rather than their thread pools.

    python benchmarks/bench_ops.py [--sizes 8 1024] [--ops add mul ...] [--repeats 5]
    python benchmarks/bench_ops.py --quick            # 8x8 and 64x64, short repeats
    python benchmarks/bench_ops.py --small-only --name ops_small   # just the small ops of the second table

Writes OUT/<name>.{json,md,png} (default ops; --update-results: benchmarks/results/).
"""
import harness

QUICK_SIZES = [8, 64]


def parse_args():
    parser = harness.cli(__doc__, threads=1)
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 1024])
    parser.add_argument("--ops", nargs="+", help="ops to run (default: all)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--min-time", type=float, default=0.1, help="seconds per repeat and library")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--quick", action="store_true", help=f"sizes {QUICK_SIZES}, 3 repeats of 0.02 s")
    parser.add_argument("--small-only", action="store_true", help="only the small ops (needs torch)")
    parser.add_argument("--name", default="ops", help="output file stem (default ops; e.g. ops_small)")
    args = harness.start(parser)
    if args.quick:
        args.sizes, args.repeats, args.min_time = QUICK_SIZES, 3, 0.02
    return args


ARGS = parse_args() if __name__ == "__main__" else None  # before NumPy and torch load their thread pools

import numpy as np  # noqa: E402

import tinytorch  # noqa: E402


# ---- the ops: (inputs, tensor code written once for torch and tinytorch, NumPy by hand) --------
def two_matrices(n, rng):
    return [rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n), dtype=np.float32)]


def one_matrix(n, rng):
    return [rng.standard_normal((n, n), dtype=np.float32)]


def np_add(a, b, g, ga, gb):
    y = a + b
    ga += g
    gb += g
    return y


def np_mul(a, b, g, ga, gb):
    y = a * b
    ga += g * b
    gb += g * a
    return y


def np_matmul(a, b, g, ga, gb):
    y = a @ b
    ga += g @ b.T
    gb += a.T @ g
    return y


def np_sum(a, g, ga):
    y = a.sum()
    ga += np.broadcast_to(g, a.shape)
    return y


def np_tanh(a, g, ga):
    y = np.tanh(a)
    ga += g * (1 - y * y)
    return y


def np_exp(a, g, ga):
    y = np.exp(a)
    ga += g * y
    return y


def np_getitem(a, g, ga):
    y = a[1::2]
    da = np.zeros_like(a)
    da[1::2] = g
    ga += da
    return y


def np_transpose(a, g, ga):
    y = a.T
    ga += g.T
    return y


def np_reshape(a, g, ga):
    y = a.reshape(-1)
    ga += g.reshape(a.shape)
    return y


def np_softmax(a, g, ga):
    """softmax as the composite exp(a - max) / sum, backpropagated through each primitive."""
    idx = a.argmax(axis=-1)[:, None]
    m = np.take_along_axis(a, idx, axis=-1)
    d = a - m
    e = np.exp(d)
    s = e.sum(axis=-1, keepdims=True)
    y = e / s
    ge = g / s
    gs = (-g * y / s).sum(axis=-1, keepdims=True)
    gd = (ge + gs) * e
    ga += gd
    gm = np.zeros_like(a)
    np.put_along_axis(gm, idx, -gd.sum(axis=-1, keepdims=True), axis=-1)
    ga += gm
    return y


def softmax_composite(m, a):
    e = (a - a.max(-1, keepdim=True).values).exp()
    return e / e.sum(-1, keepdim=True)


OPS = {
    "add": (two_matrices, lambda m, a, b: a + b, np_add),
    "mul": (two_matrices, lambda m, a, b: a * b, np_mul),
    "matmul": (two_matrices, lambda m, a, b: a @ b, np_matmul),
    "sum": (one_matrix, lambda m, a: a.sum(), np_sum),
    "tanh": (one_matrix, lambda m, a: a.tanh(), np_tanh),
    "exp": (one_matrix, lambda m, a: a.exp(), np_exp),
    "getitem": (one_matrix, lambda m, a: a[1::2], np_getitem),
    "transpose": (one_matrix, lambda m, a: a.T, np_transpose),
    "reshape": (one_matrix, lambda m, a: a.reshape(-1), np_reshape),
    "softmax_composite": (one_matrix, softmax_composite, np_softmax),
}


# ---- small ops from real scripts: tinytorch against torch (issue 16) ---------------------------
def gelu_input(m):
    return m.tensor(np.random.default_rng(0).standard_normal((32, 16, 256), dtype=np.float32))


def scalar_power(exponent, backward):
    """x ** exponent on minGPT's GELU input; with `backward`, then backpropagate a fixed gradient."""
    def make(m):
        x = gelu_input(m).requires_grad_(backward)
        g = m.ones(32, 16, 256)
        if not backward:
            return lambda: m.pow(x, exponent)
        return lambda: m.pow(x, exponent).backward(g)
    return make


def get_batch(m):
    """ng-video-lecture bigram.py's get_batch: windows of a 1-D token tensor at 0-dim tensor offsets."""
    data = m.tensor(np.random.default_rng(0).integers(0, 65, 1_000_000))
    block_size, batch_size = 8, 32

    def step():
        ix = m.randint(len(data) - block_size, (batch_size,))
        x = m.stack([data[i:i + block_size] for i in ix])
        y = m.stack([data[i + 1:i + block_size + 1] for i in ix])
        return x, y
    return step


def zero_dim_slice(m):
    data, i = m.arange(100_000), m.tensor(4321)
    return lambda: data[i:i + 8]


def item(m):
    t = m.tensor(3.25)
    return t.item


def scalar_times_zero_dim(m):
    t = m.tensor(3.25)
    return lambda: t * 2.5


def python_scalar_add(m):
    t = m.ones(64)
    return lambda: t + 1


def int_tensor_times_float(m):
    t = m.arange(64)
    return lambda: t * 0.5


SMALL = {"x ** 3.0 (32x16x256), forward": scalar_power(3.0, False),
         "x ** 3.0, forward + backward": scalar_power(3.0, True),
         "x ** 2, forward + backward": scalar_power(2, True),
         "x ** 0.5, forward + backward": scalar_power(0.5, True),
         "x ** -1, forward + backward": scalar_power(-1, True),
         "data[i:i+8], i a 0-dim tensor": zero_dim_slice,
         "get_batch (bigram.py, 32 x 8)": get_batch,
         "item() of a 0-dim tensor": item,
         "0-dim tensor * 2.5": scalar_times_zero_dim,
         "ones(64) + 1": python_scalar_add,
         "arange(64) * 0.5 (int -> float)": int_tensor_times_float}


def measure_small(name, libraries, min_time, repeats):
    steps = {lib: SMALL[name](m) for lib, m in libraries.items() if lib != "numpy"}
    row = {"op": name, **{f"{lib}_us": seconds * 1e6 for lib, seconds in best_times(steps, min_time, repeats).items()}}
    row["tinytorch_vs_torch"] = row["tinytorch_us"] / row["torch_us"]
    return row


SMALL_COLUMNS = [("op", "{op}"), ("tinytorch µs", "{tinytorch_us:.2f}"), ("torch µs", "{torch_us:.2f}"),
                 ("tinytorch / torch", "{tinytorch_vs_torch:.2f}")]


# ---- timing ------------------------------------------------------------------------------------
def repeated(step, loops):
    """A step of `loops` calls of step()."""
    def run(_=None):
        for _ in range(loops):
            step()
    return run


def calibrate(step, min_time):
    """How many calls of step() last at least min_time seconds of CPU time."""
    step()
    loops = 1
    while True:
        elapsed, _ = harness.cpu_clock(repeated(step, loops))
        if elapsed >= min_time:
            return loops
        loops = max(loops * 2, int(loops * min_time / max(elapsed, 1e-9) * 1.2))


def best_times(steps, min_time, repeats):
    """Seconds per call of each step: the best of `repeats` rounds, the libraries taking turns
    within each round so that a busy moment on the machine hits all of them alike."""
    loops = {lib: calibrate(step, min_time) for lib, step in steps.items()}
    runners = [harness.Runner(lib, repeated(step, loops[lib])) for lib, step in steps.items()]
    harness.interleave(runners, rounds=repeats, warmup=0, clock=harness.cpu_clock)
    return {r.name: min(r.times) / loops[r.name] for r in runners}


def framework_step(m, fn, arrays, g):
    """A step of torch or tinytorch: leaves with existing .grad, forward, backward(g)."""
    leaves = [m.tensor(a, requires_grad=True) for a in arrays]
    upstream = m.tensor(g)

    def step():
        fn(m, *leaves).backward(upstream)
    step()  # creates the .grad buffers that later steps accumulate into
    return step


def numpy_step(np_fn, arrays, g):
    grads = [np.zeros_like(a) for a in arrays]
    return lambda: np_fn(*arrays, g, *grads)


def measure(name, n, libraries, min_time, repeats):
    make_inputs, fn, np_fn = OPS[name]
    arrays = make_inputs(n, np.random.default_rng(0))
    out_shape = tuple(fn(tinytorch, *[tinytorch.tensor(a) for a in arrays]).shape)
    g = np.random.default_rng(1).standard_normal(out_shape).astype(np.float32)
    row = {"op": name, "size": f"{n}x{n}"}
    steps = {lib: numpy_step(np_fn, arrays, g) if lib == "numpy" else framework_step(m, fn, arrays, g)
             for lib, m in libraries.items()}
    for lib, seconds in best_times(steps, min_time, repeats).items():
        row[f"{lib}_us"] = seconds * 1e6
    row["tinytorch_overhead_us"] = row["tinytorch_us"] - row["numpy_us"]
    row["tinytorch_vs_numpy"] = row["tinytorch_us"] / row["numpy_us"]
    if "torch_us" in row:
        row["torch_overhead_us"] = row["torch_us"] - row["numpy_us"]
    return row


# ---- reporting ---------------------------------------------------------------------------------
COLUMNS = [("op", "{op}"), ("size", "{size}"), ("NumPy µs", "{numpy_us:.1f}"), ("tinytorch µs", "{tinytorch_us:.1f}"),
           ("torch µs", "{torch_us:.1f}"), ("tinytorch overhead µs", "{tinytorch_overhead_us:.1f}"),
           ("torch overhead µs", "{torch_overhead_us:.1f}"), ("tinytorch / NumPy", "{tinytorch_vs_numpy:.2f}")]


def panels(rows):
    """Small size: overhead per op in µs (the target: tinytorch's bar below torch's). Larger
    sizes: time relative to NumPy (the target: tinytorch below the dashed 1.10 line)."""
    sizes = sorted({r["size"] for r in rows}, key=lambda s: int(s.split("x")[0]))
    found = []
    for k, size in enumerate(sizes):
        sub = [r for r in rows if r["size"] == size]
        ops = [r["op"] for r in sub]
        if k == 0:
            found.append(harness.bars(ops, {"tinytorch": [r["tinytorch_overhead_us"] for r in sub],
                                            "torch": [r.get("torch_overhead_us") for r in sub]},
                                      "overhead per op over NumPy (µs)", f"forward+backward overhead, {size}",
                                      rotate=45))
        else:
            found.append(harness.bars(ops, {"tinytorch": [r["tinytorch_vs_numpy"] for r in sub],
                                            "torch": [r["torch_us"] / r["numpy_us"] if "torch_us" in r else None
                                                      for r in sub]},
                                      "time / NumPy's", f"forward+backward time relative to NumPy, {size}",
                                      lines=((1.10, "--", "NumPy + 10%"),), rotate=45))
    return found


def main(args):
    ops = args.ops or list(OPS)
    if set(ops) - set(OPS):
        raise SystemExit(f"bench_ops: --ops takes names from {', '.join(OPS)}; got {' '.join(ops)}")
    try:
        import torch
    except ImportError:
        torch = None
    libraries = {"numpy": np, "tinytorch": tinytorch}
    if torch is not None and not args.no_torch:
        torch.set_num_threads(args.threads)
        libraries["torch"] = torch
    tinytorch.set_num_threads(args.threads)
    results = harness.Results(args.name, args, f"Forward+backward per op, float32, best of repeats, every library on "
                              f"{args.threads} thread(s)", tinytorch=tinytorch.__version__, threads=args.threads,
                              **({"torch": torch.__version__} if torch is not None else {}))
    if not args.small_only:
        results.table("rows", COLUMNS, labels=2)
        for n in args.sizes:
            for name in ops:
                r = measure(name, n, libraries, args.min_time, args.repeats)
                results.row(**r)
                print(f"{name:18s} {r['size']:>10s}  numpy {r['numpy_us']:10.1f} µs  tinytorch "
                      f"{r['tinytorch_us']:10.1f} µs  torch {r.get('torch_us', float('nan')):10.1f} µs", flush=True)
        results.plot(*panels(results.rows("rows")))
    if "torch" in libraries:
        results.text("Small ops from real scripts (issue 16), tinytorch against torch, both with their default "
                     "kernels on the thread count above; target: tinytorch / torch <= 1.0.")
        results.table("small", SMALL_COLUMNS)
        for name in SMALL:
            r = measure_small(name, libraries, args.min_time, args.repeats)
            results.row(**r)
            print(f"{name:34s} tinytorch {r['tinytorch_us']:9.2f} µs  torch {r['torch_us']:9.2f} µs  "
                  f"x{r['tinytorch_vs_torch']:.2f}", flush=True)
    results.write()


if __name__ == "__main__":
    main(ARGS)
