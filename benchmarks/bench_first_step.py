"""The first training steps of `make demo`'s model (the shakespeare-char-cpu GPT with AdamW), cold and
warm: what a fresh clone waits for before training runs at full speed.

    python benchmarks/bench_first_step.py --repeats 3

Cold: a process with empty caches, as on a fresh clone: NUMBA_CACHE_DIR and TINYTORCH_CACHE point at
new, empty folders, so every Numba kernel the step uses compiles (kernels/cpu, `cache=True`) and the
matmul rule measures the libraries (tinytorch/cpu_matmul.py). Warm: the next process with the same
folders, which loads the compiled kernels and the rule's answer from them. Each process reports the
seconds to `import tinytorch`, to build the model and optimizer (its init draws normals through a
Numba kernel too), the first step, the second, and the median of steps 3 to 7. With
TINYTORCH_KERNELS=numpy nothing compiles: that row is the floor.

Writes OUT/first_step.{json,md} (--update-results: benchmarks/results/).
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

import harness

WORKER = r"""
import json, statistics, time
t0 = time.perf_counter()
import tinytorch
t1 = time.perf_counter()
from tinytorch.models.gpt import GPT
from tinytorch.models.gpt.data import open_dataset
from tinytorch.models.gpt.presets import model_config, resolve
settings = resolve("shakespeare-char-cpu")
cfg = settings["train"]
config = model_config(settings["model"], 65)
stream = open_dataset("tinyshakespeare").batches("train", cfg.batch_size, config.block_size, seed=cfg.seed)
t2 = time.perf_counter()
tinytorch.manual_seed(cfg.seed)
model = GPT(config)
optimizer = model.configure_optimizers(cfg.weight_decay, cfg.learning_rate, (cfg.beta1, cfg.beta2), cfg.eps)
params = list(model.parameters())
t3 = time.perf_counter()
steps = []
for _ in range(7):
    x, y = stream.next_batch()
    start = time.perf_counter()
    _, loss = model(tinytorch.from_numpy(x), tinytorch.from_numpy(y))
    model.zero_grad(set_to_none=True)
    loss.backward()
    tinytorch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
    optimizer.step()
    loss.item()
    steps.append(time.perf_counter() - start)
print(json.dumps({"import_s": t1 - t0, "build_s": t3 - t2, "first_step_s": steps[0], "second_step_s": steps[1],
                  "later_step_s": statistics.median(steps[2:]), "kernels": tinytorch.backends.kernels,
                  "threads": tinytorch.get_num_threads()}))
"""


def run(env):
    out = subprocess.run([sys.executable, "-c", WORKER], env={**os.environ, **env}, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


COLUMNS = [("case", "{case}"), ("import s", "{import_s:.2f}"), ("model + optimizer s", "{build_s:.2f}"),
           ("first step s", "{first_step_s:.2f}"), ("second step s", "{second_step_s:.3f}"),
           ("later steps s (median)", "{later_step_s:.3f}")]


def main():
    parser = harness.cli(__doc__)
    parser.add_argument("--repeats", type=int, default=3, help="cold/warm pairs (default 3)")
    args = harness.start(parser)
    results = harness.Results("first_step", args, "First steps of make demo's model, cold (fresh clone) and warm")
    samples = {"cold": [], "warm": [], "numpy kernels": []}
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix="first_step_") as folder:
            caches = {"NUMBA_CACHE_DIR": os.path.join(folder, "numba"), "TINYTORCH_CACHE": os.path.join(folder, "tt")}
            samples["cold"].append(run(caches))
            samples["warm"].append(run(caches))
            samples["numpy kernels"].append(run({**caches, "TINYTORCH_KERNELS": "numpy"}))
        print({k: round(v[-1]["first_step_s"], 2) for k, v in samples.items()}, flush=True)
    results.table("rows", COLUMNS)
    for case, runs in samples.items():
        results.row(case=case, **{key: statistics.median(r[key] for r in runs) for key in
                                  ("import_s", "build_s", "first_step_s", "second_step_s", "later_step_s")},
                    runs=runs)
    results.text(f"Medians over {args.repeats} processes each; threads: {samples['cold'][0]['threads']} "
                 "(tinytorch's default, every core).")
    results.write()


if __name__ == "__main__":
    main()
