"""Data-parallel GPT training on this machine's cores: tokens/s of 1 process against 2
(tinytorch.distributed over MPI, DistributedDataParallel), and the time a step spends in all-reduce
with DDP's overlap on and off.

    python benchmarks/bench_distributed.py --rounds 3 --steps 12

The model is make demo's (shakespeare-char-cpu: 4 layers, 128 wide, micro-batches of 12x64 tokens);
the global batch is 2 micro-batches per step: one process runs both (gradient accumulation), two
processes one each and average their gradients. Each case is a fresh job of
`python -m tinytorch.distributed.run`, and the cases take turns, A B C D, round after round, so that
a load change on the shared machine hits them alike:

- 1 process, 2 threads (the whole machine); 1 process, 1 thread;
- 2 processes of 1 thread, overlap on (DDP's way: each bucket's all-reduce starts from the gradient
  hooks while backward goes on) and off (every all-reduce starts after the last gradient).

A job times --steps steps after 3 warm-up steps. tokens/s is the global tokens of a step over the
median step time; all-reduce ms/step the median over steps of the time rank 0 spent starting its
buckets' all-reduces and waiting for them (reducer.comm_seconds), which includes waiting for the
slower rank to get there.

Writes OUT/distributed.{json,md,png} (--update-results: benchmarks/results/).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import harness

CASES = [  # name, processes, threads per process, overlap
    ("1 process x 2 threads", 1, 2, True),
    ("1 process x 1 thread", 1, 1, True),
    ("2 processes x 1 thread, overlap on", 2, 1, True),
    ("2 processes x 1 thread, overlap off", 2, 1, False),
]
MICRO_BATCHES = 2  # per step, over all processes
WARMUP = 3


def worker(steps, overlap):
    """One job's process: train `steps` timed steps; rank 0 prints its timings as JSON."""
    from tinytorch.distributed import ReduceOp
    from tinytorch.models.gpt.parallel import Ranks
    from tinytorch.models.gpt.presets import resolve
    from tinytorch.models.gpt.train import build, grad_accum_steps, train_step

    settings = resolve("shakespeare-char-cpu", [f"--total_batch_tokens={MICRO_BATCHES * 12 * 64}"])
    cfg = settings["train"]
    ranks = Ranks("cpu")
    data, model, optimizer = build(settings)
    T = model.config.block_size
    accum = grad_accum_steps(cfg, T, ranks.world_size)
    stream = data.batches("train", cfg.batch_size, T, seed=cfg.seed, rank=ranks.rank, world_size=ranks.world_size)
    replica = ranks.wrap(model)
    reducer = getattr(replica, "reducer", None)
    if reducer is not None:
        reducer.overlap = overlap
    params, step_s, comm_s = list(model.parameters()), [], []
    for step in range(WARMUP + steps):
        comm_before = reducer.comm_seconds if reducer else 0.0
        t0 = time.perf_counter()
        ranks.reduce(train_step(replica, optimizer, params, stream, cfg, cfg.lr_at(step), accum), ReduceOp.AVG)
        if step >= WARMUP:
            step_s.append(time.perf_counter() - t0)
            comm_s.append((reducer.comm_seconds if reducer else 0.0) - comm_before)
    if ranks.main:
        print(json.dumps({"step_s": step_s, "comm_s": comm_s, "tokens_per_step": cfg.total_batch_tokens,
                          "buckets": len(reducer.buckets) if reducer else 0, "params": model.num_params()}))
    ranks.close()


def job(processes, threads, overlap, steps):
    env = {**os.environ, **{var: str(threads) for var in harness.THREAD_VARIABLES}}
    cmd = [sys.executable, "-m", "tinytorch.distributed.run", f"--nproc_per_node={processes}", __file__, "--worker",
           f"--steps={steps}", f"--overlap={'on' if overlap else 'off'}"]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if out.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


COLUMNS = [("case", "{case}"), ("tokens/s", "{tokens_per_s:,.0f}"), ("ms/step (median, q1-q3)", "{step_ms}"),
           ("all-reduce ms/step (median, q1-q3)", "{comm_ms}"), ("vs 1 process x 2 threads", "{speedup:.2f}x")]


def main():
    parser = harness.cli(__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="jobs per case, taking turns (default 3)")
    parser.add_argument("--steps", type=int, default=12, help="timed steps per job (default 12)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--overlap", choices=("on", "off"), default="on", help=argparse.SUPPRESS)
    args = harness.start(parser)
    if args.worker:
        return worker(args.steps, args.overlap == "on")
    results = harness.Results("distributed", args, "Data-parallel GPT training: 1 process against 2 on this machine")
    samples = {name: {"step_s": [], "comm_s": []} for name, *_ in CASES}
    for r in range(args.rounds):
        for name, processes, threads, overlap in CASES[r % len(CASES):] + CASES[:r % len(CASES)]:
            got = job(processes, threads, overlap, args.steps)
            samples[name]["step_s"] += got["step_s"]
            samples[name]["comm_s"] += got["comm_s"]
            print(f"round {r + 1}: {name}: {statistics.median(got['step_s']) * 1000:.0f} ms/step", flush=True)
    base = statistics.median(samples[CASES[0][0]]["step_s"])
    results.text(f"make demo's GPT ({got['params']:,} parameters), {got['tokens_per_step']:,} tokens per step "
                 f"({MICRO_BATCHES} micro-batches of 12x64); {args.rounds} jobs per case of {args.steps} timed steps; "
                 f"DDP with {got['buckets']} gradient buckets (bucket_cap_mb=25, the first 1 MiB).")
    results.table("cases", COLUMNS)
    for name, processes, _, _ in CASES:
        step, comm = harness.spread(samples[name]["step_s"]), harness.spread(samples[name]["comm_s"])
        ms = {k: v * 1000 if k != "n" else v for k, v in step.items()}
        comm_ms = {k: v * 1000 if k != "n" else v for k, v in comm.items()}
        results.row(case=name, tokens_per_s=got["tokens_per_step"] / step["median"], speedup=base / step["median"],
                    step_ms=harness.with_spread(ms, ".0f"),
                    comm_ms=harness.with_spread(comm_ms, ".1f") if processes > 1 else "—",
                    samples_step_s=samples[name]["step_s"], samples_comm_s=samples[name]["comm_s"])
    rows = results.rows("cases")
    results.plot(harness.bars([row["case"].replace(", ", "\n") for row in rows],
                              {"tokens/s": [row["tokens_per_s"] for row in rows]}, "tokens/s"))
    results.write()


if __name__ == "__main__":
    main()
