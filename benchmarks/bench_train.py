"""Training-step speed and memory: tinytorch (NumPy kernels, Numba kernels, MKL matmuls) against a PyTorch twin.

    python benchmarks/bench_train.py                       # every CPU model + the RSS-growth check
    python benchmarks/bench_train.py --quick               # fewer steps, RSS check over 300 steps
    python benchmarks/bench_train.py --models mlp wavenet --steps 300
    python benchmarks/bench_train.py --threads 2           # torch, BLAS and Numba get 2 threads each

One process. For each model, the runners start from the same weights and see the same
batches: tinytorch with `backends.kernels = "numpy"`, tinytorch with `"numba"`, tinytorch with
`"numba"` and `backends.cpu_matmul = "mkl"` (when the optional mkl extra is installed: MKL's
gemm for the linear layers, the BLAS PyTorch's wheels use), and a PyTorch twin (same
architecture and parameter names, weights copied in). A step is the lecture's:
forward, backward, optimizer step (SGD lr 0.1 for the makemore MLP and WaveNet, AdamW with
clip_grad_norm_ 1.0 for the GPTs) and `loss.item()`. After warm-up steps (where Numba compiles,
or loads its on-disk cache; timed separately), the runners take turns, A B C D A B C D ..., with the
order rotated every round (harness.interleave), so that a shared, loaded machine slows all of them
alike; the ratio column is the median over rounds of (tinytorch step / torch step in the same round),
with its interquartile spread.

Memory: the rise of the process's peak RSS (VmHWM, reset through /proc/self/clear_refs after
freeing what can be freed) during one training step of each runner: activations, gradients and
temporaries (parameters and optimizer state exist before it). RSS growth: a fresh tinytorch GPT
(shakespeare-char-cpu, default kernels) trains --rss-steps steps; its RSS after step 100 and after
the last step must agree within 5%.

gpt2-124m (B=8, T=1024, float32, PyTorch with TF32 off) runs only where a CUDA GPU is available
to both CuPy and torch; elsewhere it is reported as skipped. There the runners are tinytorch with
the Numba-CUDA kernels, tinytorch with CuPy running the oracles, and the twin. Writes
OUT/<name>.{json,md,png} (default name: train; --update-results: benchmarks/results/) with the
machine's description:

    python benchmarks/bench_train.py --models gpt2-124m --name train_gpu   # on a GPU machine
"""
import harness

MODELS = ("mlp", "wavenet", "shakespeare-char-cpu", "gpt2-124m")
DEFAULT_STEPS = {"mlp": 600, "wavenet": 400, "shakespeare-char-cpu": 60, "gpt2-124m": 10}
QUICK_STEPS = {"mlp": 150, "wavenet": 100, "shakespeare-char-cpu": 15, "gpt2-124m": 5}
RSS_TOLERANCE = 0.05
RSS_FIRST_STEP = 100


def parse_args():
    parser = harness.cli(__doc__, threads=1)
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--steps", type=int, help="timed steps per runner (default: per model, see DEFAULT_STEPS)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per runner first (default 3)")
    parser.add_argument("--rss-steps", type=int, default=1000,
                        help="steps of the RSS-growth check (0 skips it; default 1000)")
    parser.add_argument("--quick", action="store_true", help="fewer steps and a 300-step RSS check")
    parser.add_argument("--name", default="train", help="output file stem (default train; e.g. train_gpu)")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="then profile N more steps of each tinytorch runner per op (tinytorch.profiler; "
                             "synchronising the GPU after every op): OUT/<name>_profile_<model>_<runner>.txt")
    args = harness.start(parser)
    if args.quick and args.rss_steps == 1000:
        args.rss_steps = 300
    if args.warmup < 1 or (args.steps is not None and args.steps < 1):
        parser.error("--warmup and --steps must be at least 1")
    if args.rss_steps and args.rss_steps <= RSS_FIRST_STEP:
        parser.error(f"--rss-steps must exceed {RSS_FIRST_STEP} (or be 0)")
    return args


ARGS = parse_args() if __name__ == "__main__" else None  # before NumPy, torch and Numba start their thread pools

import gc  # noqa: E402
import importlib.metadata  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import tinytorch  # noqa: E402
from machine_info import THREAD_VARIABLES, rss_kb  # noqa: E402
from twins.gpt import TorchGPT, copy_weights  # noqa: E402
from twins.makemore import TorchMLP, TorchWaveNet  # noqa: E402


# ---- runners ----------------------------------------------------------------------------------

def trainer(name, lib, model, optimizer, batches, clip=0.0, backend=None, device="cpu"):
    """A harness.Runner training `model` with `lib` (tinytorch or torch): step(i) trains on
    batches[i] ((x, y) as NumPy arrays) and returns the loss. `backend`: tinytorch.backends settings
    (e.g. {"kernels": "numba", "cpu_matmul": "mkl"}); a tinytorch runner may fail while warming up."""
    params = list(model.parameters())

    def step(i):
        x, y = batches[i % len(batches)]
        x, y = lib.from_numpy(x).to(device), lib.from_numpy(y).to(device)
        _, loss = model(x, y)
        model.zero_grad(set_to_none=True)
        loss.backward()
        if clip:
            lib.nn.utils.clip_grad_norm_(params, clip)
        optimizer.step()
        return loss.item()
    return harness.Runner(name, step, backend, may_fail=lib is tinytorch)


def same_weights(torch_model, tiny_model):
    """Copy every tensor of tiny_model's state_dict into torch_model's (names must match)."""
    ours = {k: torch.from_numpy(np.array(v.numpy(force=True))) for k, v in tiny_model.state_dict().items()}
    theirs = torch_model.state_dict()
    missing = set(theirs) - set(ours)
    if missing:
        raise KeyError(f"bench_train: the twin has tensors tinytorch lacks: {sorted(missing)}")
    torch_model.load_state_dict({k: ours[k].to(theirs[k].dtype) for k in theirs})
    return torch_model


def tinytorch_copies(build, n):
    """n tinytorch models with the same weights: one per backend setting."""
    first = build()
    copies = [first]
    for _ in range(n - 1):
        copies.append(build())
        copies[-1].load_state_dict(first.state_dict())
    return copies


def cpu_settings():
    """The tinytorch runners on the CPU: name -> tinytorch.backends settings. NumPy's code, the
    Numba kernels, and (with the optional mkl extra installed) the Numba kernels with MKL's matmuls."""
    from tinytorch.cpu_matmul import mkl_available
    settings = {"tinytorch": {"kernels": "numpy", "cpu_matmul": "numpy"},
                "tinytorch+numba": {"kernels": "numba", "cpu_matmul": "numpy"}}
    if mkl_available():
        settings["tinytorch+numba+mkl"] = {"kernels": "numba", "cpu_matmul": "mkl"}
    return settings


# ---- the makemore MLP (lecture 3) and WaveNet (lecture 6) ----------------------------------------

def makemore_batches(block_size, batch_size, count, seed=0):
    """`count` minibatches of (context, target) from names.txt's training words (lecture split)."""
    from tinytorch.models.makemore_data import CharVocab, context_examples, lecture_split, read_words
    words = read_words(tinytorch.data.get_path("names.txt"))
    vocab = CharVocab.from_words(words)
    X, Y = context_examples(lecture_split(words).train, vocab, block_size)
    X, Y = X.numpy(), Y.numpy()
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, X.shape[0], (count, batch_size))
    return len(vocab), [(X[ix], Y[ix]) for ix in picks]


def makemore_runners(which, n_batches):
    """(runners, targets per step, parameters) of the makemore MLP or WaveNet."""
    from tinytorch.models.mlp import MLP
    from tinytorch.models.wavenet import WaveNet
    block_size = 3 if which == "mlp" else 8
    vocab_size, batches = makemore_batches(block_size, 32, n_batches)
    tinytorch.manual_seed(42)
    settings = cpu_settings()
    if which == "mlp":
        config = dict(block_size=3, n_embd=10, n_hidden=200)
        models = tinytorch_copies(lambda: MLP(vocab_size, **config), len(settings))
        twin = same_weights(TorchMLP(vocab_size, **config), models[0])
    else:
        config = dict(block_size=8, n_embd=24, n_hidden=128)
        models = tinytorch_copies(lambda: WaveNet(vocab_size, **config), len(settings))
        twin = same_weights(TorchWaveNet(vocab_size, **config), models[0])
    runners = [trainer(name, tinytorch, m, tinytorch.optim.SGD(m.parameters(), lr=0.1), batches, backend=backend)
               for (name, backend), m in zip(settings.items(), models)]
    runners.append(trainer("torch", torch, twin, torch.optim.SGD(twin.parameters(), lr=0.1), batches))
    return runners, 32, sum(p.numel() for p in models[0].parameters())


# ---- GPTs ---------------------------------------------------------------------------------------

def gpt_settings(preset):
    from tinytorch.models.gpt.presets import resolve
    if preset == "gpt2-124m":
        return resolve(preset, ["--batch_size=8", "--total_batch_tokens=0", "--dataset=tinyshakespeare"])
    return resolve(preset)


def gpt_batches(settings, count):
    from tinytorch.models.gpt.data import open_dataset
    cfg = settings["train"]
    stream = open_dataset("tinyshakespeare").batches("train", cfg.batch_size, settings["model"]["block_size"],
                                                      seed=cfg.seed)
    return [stream.next_batch() for _ in range(count)]


def gpt_runners(preset, n_batches, device="cpu"):
    """tinytorch GPT (on the CPU with NumPy or Numba kernels; on a GPU with Numba-CUDA or CuPy
    softmax/layernorm kernels, cuBLAS matmuls) and the PyTorch twin, with the
    preset's AdamW (weight decay on 2-D parameters) at its peak learning rate and clipping 1.0.
    The vocabulary is the dataset's (65 characters) or GPT-2's 50257 tokens (ids from characters).
    Returns (runners, tokens per step, parameters)."""
    from tinytorch.models.gpt import GPT
    from tinytorch.models.gpt.presets import model_config
    settings = gpt_settings(preset)
    cfg = settings["train"]
    config = model_config(settings["model"], 65)
    batches = gpt_batches(settings, n_batches)
    tokens = cfg.batch_size * config.block_size
    tinytorch.manual_seed(cfg.seed)
    optimizer = (lambda m: m.configure_optimizers(cfg.weight_decay, cfg.learning_rate, (cfg.beta1, cfg.beta2),
                                                  cfg.eps))
    if device == "cpu":
        settings = cpu_settings()
        models = tinytorch_copies(lambda: GPT(config), len(settings))
        runners = [trainer(name, tinytorch, m, optimizer(m), batches, cfg.grad_clip, backend)
                   for (name, backend), m in zip(settings.items(), models)]
        twin = copy_weights(TorchGPT(config), models[0])
    else:
        models = tinytorch_copies(lambda: GPT(config), 2)
        ours, ours_cupy = models
        twin = copy_weights(TorchGPT(config), ours).to(device)
        runners = [trainer("tinytorch", tinytorch, ours.to(device), optimizer(ours), batches, cfg.grad_clip,
                           {"cuda_kernels": "numba"}, device),
                   trainer("tinytorch+cupy", tinytorch, ours_cupy.to(device), optimizer(ours_cupy), batches,
                           cfg.grad_clip, {"cuda_kernels": "cupy"}, device)]
    runners.append(trainer("torch", torch, twin, optimizer(twin), batches, cfg.grad_clip, device=device))
    return runners, tokens, sum(p.numel() for p in models[0].parameters())


def gpu_available():
    """(True, name) when both CuPy (through tinytorch) and torch see a CUDA GPU, else (False, why)."""
    if not tinytorch.cuda.is_available():
        return False, "no CUDA GPU visible to tinytorch (CuPy)"
    if not torch.cuda.is_available():
        return False, "torch has no CUDA here (CPU build or no GPU)"
    return True, torch.cuda.get_device_name(0)


# ---- measuring ----------------------------------------------------------------------------------

def summarize(runners, tokens, device):
    """{runner name: its row}: step times, tokens/s, warm-up, ratio to torch's step, peak step memory."""
    reference = next(r for r in runners if r.name == "torch")
    rows = {}
    for r in runners:
        ms = harness.spread([t * 1e3 for t in r.times])
        rows[r.name] = {"ms_median": ms["median"], "ms_min": ms["min"], "steps": ms["n"],
                        "tokens_per_s": tokens / ms["median"] * 1e3, "warmup_s": r.warmup_s,
                        "ratio_to_torch": harness.ratios(r, reference)}
        rows[r.name]["peak_step_mb"] = (r.peak_memory_mb(len(r.times) + 10, repeats=3)[0] if device == "cpu"
                                        else gpu_step_memory_mb(r))
    return rows


def gpu_step_memory_mb(runner):
    """Peak device memory of one step, MB (torch's allocator, or CuPy's pool for tinytorch)."""
    if runner.name == "torch":
        torch.cuda.reset_peak_memory_stats()
        runner.run(0)
        return torch.cuda.max_memory_allocated() / 2**20
    import cupy
    pool = cupy.get_default_memory_pool()
    pool.free_all_blocks()
    runner.run(0)
    return pool.total_bytes() / 2**20


def profile_runners(runners, steps, stem):
    """Per-op tables of `steps` steps of each tinytorch runner, written to <stem>_<runner>.txt."""
    os.makedirs(os.path.dirname(stem), exist_ok=True)
    for r in runners:
        if r.name != "torch":
            with tinytorch.profiler.profile() as prof:
                for i in range(steps):
                    r.run(i)
            prof.export(f"{stem}_{r.name}.txt")
            print(f"  profile of {steps} {r.name} steps -> {stem}_{r.name}.txt", flush=True)


def rss_growth(steps):
    """RSS (MB) after step 100 and after step `steps` of a fresh tinytorch shakespeare-char-cpu run."""
    runner = gpt_runners("shakespeare-char-cpu", steps)[0][0]
    rss = {}
    for i in range(steps):
        runner.run(i)
        if i + 1 in (RSS_FIRST_STEP, steps):
            rss[i + 1] = rss_kb()[1] / 1024
    growth = rss[steps] / rss[RSS_FIRST_STEP] - 1
    return {"steps": steps, f"rss_mb_after_{RSS_FIRST_STEP}": rss[RSS_FIRST_STEP],
            f"rss_mb_after_{steps}": rss[steps], "growth": growth, "within_5_percent": abs(growth) <= RSS_TOLERANCE}


def run_model(name, args, results):
    """Interleave the runners of one model and add its rows to `results`."""
    steps = args.steps or (QUICK_STEPS if args.quick else DEFAULT_STEPS)[name]
    device, where = "cpu", {}
    if name == "gpt2-124m":
        ok, why = gpu_available()
        if not ok:
            print(f"gpt2-124m: skipped ({why}); it runs only on a GPU", flush=True)
            results.row(model=name, framework="—", note=f"skipped: {why}")
            return
        device, where = "cuda", {"gpu": why}
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    n_batches = args.warmup + steps + 16
    runners, tokens, params = (makemore_runners(name, n_batches) if name in ("mlp", "wavenet")
                               else gpt_runners(name, n_batches, device))
    print(f"{name}: {params:,} parameters, {steps} interleaved steps per runner ...", flush=True)
    ran = harness.interleave(runners, rounds=steps, warmup=args.warmup)
    for r in runners:
        if r.error:
            results.row(model=name, params=params, framework=r.name, note=f"failed: {r.error}")
    rows = summarize(ran, tokens, device)
    if args.profile:
        profile_runners(ran, args.profile, str(harness.folder(args) / f"{args.name}_profile_{name}"))
    for framework, row in rows.items():
        print(f"  {framework:16s} {row['ms_median']:9.2f} ms/step (min {row['ms_min']:.2f}), "
              f"{row['tokens_per_s']:10,.0f} tokens/s, x{row['ratio_to_torch']['median']:.2f} of torch's step, "
              f"peak step {row['peak_step_mb']:.1f} MB, warm-up {row['warmup_s']:.2f} s", flush=True)
        results.row(model=name, params=params, device=device, framework=framework, **row, **where)


# ---- reporting ----------------------------------------------------------------------------------

LABELS = {"mlp": "makemore MLP (lecture 3: block 3, emb 10, hidden 200, batch 32, SGD)",
          "wavenet": "WaveNet (lecture 6: block 8, emb 24, hidden 128, batch 32, SGD)",
          "shakespeare-char-cpu": "GPT shakespeare-char-cpu (4 layers, 4 heads, 128, block 64, batch 12, AdamW)",
          "gpt2-124m": "GPT-2 124M (B=8, T=1024, AdamW, GPU)"}

COLUMNS = [("model", lambda r: LABELS[r["model"]] + (f" ({r['params']:,} params)" if "params" in r else "")),
           ("framework", "{framework}"), ("ms/step (median)", "{ms_median:.2f}"), ("ms/step (min)", "{ms_min:.2f}"),
           ("tokens/s", "{tokens_per_s:,.0f}"), ("step / torch's", lambda r: harness.with_spread(r["ratio_to_torch"])),
           ("peak step memory MB", "{peak_step_mb:.1f}")]


def explain(results, args):
    """The paragraphs under the table: RSS growth, what each runner is, threads and method."""
    rows = [r for r in results.rows("rows") if "note" not in r]
    frameworks = {r["framework"] for r in rows}
    rss = results.records.get("rss_growth")
    if rss:
        first, last = f"rss_mb_after_{RSS_FIRST_STEP}", f"rss_mb_after_{rss['steps']}"
        results.text(f"RSS growth (tinytorch, shakespeare-char-cpu): {rss[first]:.1f} MB after step "
                     f"{RSS_FIRST_STEP}, {rss[last]:.1f} MB after step {rss['steps']}: "
                     f"{100 * rss['growth']:+.2f}% ({'within' if rss['within_5_percent'] else 'NOT within'} 5%).")
    if any("gpu" in r for r in rows):
        results.text("On the GPU: float32, PyTorch eager with TF32 off; tinytorch's matmuls are cuBLAS through CuPy, "
                     "its softmax/layernorm the Numba-CUDA kernels (`tinytorch`) or CuPy running the NumPy "
                     "oracles (`tinytorch+cupy`); a step ends with `loss.item()`, which waits for the GPU. "
                     "Peak step memory on the GPU: torch's `max_memory_allocated` over one step, and CuPy's "
                     "pool after one step (it keeps its peak), both counting parameters and optimizer state.")
    else:
        mkl = ("; `tinytorch+numba+mkl` also sends the linear layers' matrix products to Intel MKL's gemm "
               f"(`tinytorch.backends.cpu_matmul = \"mkl\"`, mkl {results.machine.get('mkl')}, the optional mkl "
               "extra), the BLAS inside PyTorch's CPU wheels" if "tinytorch+numba+mkl" in frameworks else "")
        results.text("Runners: `tinytorch` runs NumPy's code, whose matrix products are NumPy's BLAS (OpenBLAS in "
                     "NumPy's wheels); `tinytorch+numba` the Numba CPU kernels (`tinytorch.backends.kernels = "
                     f"\"numba\"`){mkl}.")
    results.text(f"Threads: {args.threads} for torch (`torch.set_num_threads`), OpenBLAS, MKL, OpenMP and Numba "
                 f"(`{'`, `'.join(THREAD_VARIABLES)}`). The runners alternate step by step (a shared machine: load "
                 "slows them alike); 'step / torch's' is the median over rounds of the ratio within a round, with "
                 "its interquartile spread. Peak step memory: the rise of peak RSS during one step (activations, "
                 "gradients, temporaries).")


def plot(results):
    rows = [r for r in results.rows("rows") if "note" not in r]
    if not rows:
        return
    models = list(dict.fromkeys(r["model"] for r in rows))
    frameworks = list(dict.fromkeys(r["framework"] for r in rows))
    found = {(r["model"], r["framework"]): r for r in rows}

    def series(value):
        return {fw: [value(found[m, fw]) if (m, fw) in found else None for m in models] for fw in frameworks}
    results.plot(harness.bars(models, series(lambda r: r["ratio_to_torch"]["median"]),
                              "step time / torch's step time (lower is faster)",
                              lines=((1.0, "-", "torch"), (0.9, "--", "0.9"))),
                 harness.bars(models, series(lambda r: r["peak_step_mb"]),
                              "peak step memory, MB\n(CPU: RSS rise; GPU: device memory)", log=True),
                 title="tinytorch vs PyTorch: one training step (forward, backward, optimizer)", width=11)


def main(args):
    torch.set_num_threads(args.threads)
    import numba
    from tinytorch.cpu_matmul import mkl_available
    extra = {"mkl": importlib.metadata.version("mkl")} if mkl_available() else {}
    if "gpt2-124m" in args.models and tinytorch.cuda.is_available():
        import cupy
        extra["cupy"] = cupy.__version__
    results = harness.Results(args.name, args, "Training step: tinytorch vs PyTorch", torch=torch.__version__,
                              numba=numba.__version__, threads=args.threads, **extra)
    info = results.machine
    print(f"{info['cpu']}, {info['cores']} cores, {args.threads} thread(s), load {info['load_average']}", flush=True)
    results.table("rows", COLUMNS, labels=2)
    for name in args.models:
        run_model(name, args, results)
        gc.collect()
    if args.rss_steps and "shakespeare-char-cpu" in args.models:
        print(f"RSS growth: {args.rss_steps} steps of a fresh tinytorch shakespeare-char-cpu ...", flush=True)
        results.record(rss_growth=rss_growth(args.rss_steps))
    gpus = sorted({r["gpu"] for r in results.rows("rows") if "gpu" in r})
    where = f"{', '.join(gpus)} GPU, host " if gpus else ""
    results.title += f" ({where}{info['cpu']}, {info['cores']} cores, {args.threads} thread(s) each)"
    explain(results, args)
    plot(results)
    results.write()


if __name__ == "__main__":
    try:
        main(ARGS)
    except (OSError, MemoryError, KeyError) as e:
        print(f"bench_train: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
