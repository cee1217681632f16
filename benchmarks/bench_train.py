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
order rotated every round, so that a shared, loaded machine slows all of them alike; the ratio
column is the median over rounds of (tinytorch step / torch step in the same round).

Memory: the rise of the process's peak RSS (VmHWM, reset through /proc/self/clear_refs after
freeing what can be freed) during one training step of each runner: activations, gradients and
temporaries (parameters and optimizer state exist before it). RSS growth: a fresh tinytorch GPT
(shakespeare-char-cpu, default kernels) trains --rss-steps steps; its RSS after step 100 and after
the last step must agree within 5%.

gpt2-124m (B=8, T=1024, float32, PyTorch with TF32 off) runs only where a CUDA GPU is available
to both CuPy and torch; elsewhere it is reported as skipped. There the runners are tinytorch with
the Numba-CUDA kernels, tinytorch with CuPy running the oracles, and the twin. Writes
benchmarks/results/<name>.{json,md,png} (default name: train) with the machine's description:

    python benchmarks/bench_train.py --models gpt2-124m --name train_gpu   # on a GPU machine
"""
import argparse
import os
import sys

MODELS = ("mlp", "wavenet", "shakespeare-char-cpu", "gpt2-124m")
DEFAULT_STEPS = {"mlp": 600, "wavenet": 400, "shakespeare-char-cpu": 60, "gpt2-124m": 10}
QUICK_STEPS = {"mlp": 150, "wavenet": 100, "shakespeare-char-cpu": 15, "gpt2-124m": 5}
RSS_TOLERANCE = 0.05
RSS_FIRST_STEP = 100


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python benchmarks/bench_train.py", description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--steps", type=int, help="timed steps per runner (default: per model, see DEFAULT_STEPS)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per runner first (default 3)")
    parser.add_argument("--threads", type=int, default=1, help="threads for torch, BLAS and Numba (default 1)")
    parser.add_argument("--rss-steps", type=int, default=1000,
                        help="steps of the RSS-growth check (0 skips it; default 1000)")
    parser.add_argument("--quick", action="store_true", help="fewer steps and a 300-step RSS check")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
    parser.add_argument("--name", default="train", help="output file stem (default train; e.g. train_gpu)")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="then profile N more steps of each tinytorch runner per op (tinytorch.profiler; "
                             "synchronising the GPU after every op): OUT/<name>_profile_<model>_<runner>.txt")
    args = parser.parse_args(argv)
    if args.quick and args.rss_steps == 1000:
        args.rss_steps = 300
    if args.threads < 1 or args.warmup < 1 or (args.steps is not None and args.steps < 1):
        parser.error("--threads, --warmup and --steps must be at least 1")
    if args.rss_steps and args.rss_steps <= RSS_FIRST_STEP:
        parser.error(f"--rss-steps must exceed {RSS_FIRST_STEP} (or be 0)")
    return args


ARGS = parse_args() if __name__ == "__main__" else None
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
if ARGS is not None:  # before NumPy, torch and Numba start their thread pools
    for var in THREAD_VARIABLES:
        os.environ[var] = str(ARGS.threads)
    _SHARED_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data")
    if not os.environ.get("TINYTORCH_DATA") and os.path.isdir(_SHARED_DATA):  # as tests/conftest.py does
        os.environ["TINYTORCH_DATA"] = os.path.normpath(_SHARED_DATA)

import gc  # noqa: E402
import importlib.metadata  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import tinytorch  # noqa: E402
from machine_info import machine_info, reset_peak_rss, rss_kb  # noqa: E402  (benchmarks/ is sys.path[0] when run as a script)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from twins.gpt import TorchGPT, copy_weights  # noqa: E402
from twins.makemore import TorchMLP, TorchWaveNet  # noqa: E402


# ---- memory -----------------------------------------------------------------------------------

# ---- runners ----------------------------------------------------------------------------------

class Runner:
    """One framework training one model: `step(i)` trains on batch i and returns the loss.

    `lib` is tinytorch or torch; `backend` holds tinytorch.backends settings applied while it
    steps (e.g. {"kernels": "numba", "cpu_matmul": "mkl"}); `batches[i]` is (x, y) as NumPy arrays, `tokens` the
    targets per step.
    """

    def __init__(self, name, lib, model, optimizer, batches, tokens, clip=0.0, backend=None, device="cpu"):
        self.name, self.lib, self.model, self.optimizer = name, lib, model, optimizer
        self.batches, self.tokens, self.clip, self.device = batches, tokens, clip, device
        self.backend = backend or {}
        self.params = list(model.parameters())
        self.times = []

    def step(self, i):
        x, y = self.batches[i % len(self.batches)]
        defaults = {k: getattr(tinytorch.backends, k) for k in self.backend}
        for k, v in self.backend.items():
            setattr(tinytorch.backends, k, v)
        try:
            x, y = self.lib.from_numpy(x).to(self.device), self.lib.from_numpy(y).to(self.device)
            _, loss = self.model(x, y)
            self.model.zero_grad(set_to_none=True)
            loss.backward()
            if self.clip:
                self.lib.nn.utils.clip_grad_norm_(self.params, self.clip)
            self.optimizer.step()
            return loss.item()
        finally:
            for k, v in defaults.items():
                setattr(tinytorch.backends, k, v)

    def timed_step(self, i):
        t0 = time.perf_counter()
        self.step(i)
        self.times.append(time.perf_counter() - t0)

    def peak_step_mb(self, i, repeats=3):
        """The largest rise of peak RSS over `repeats` single steps (CPU), in MB."""
        rises = []
        for r in range(repeats):
            reset_peak_rss()
            _, before = rss_kb()
            self.step(i + r)
            peak, _ = rss_kb()
            rises.append((peak - before) / 1024)
        return max(rises)


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
    return [Runner(name, tinytorch, m, tinytorch.optim.SGD(m.parameters(), lr=0.1), batches, 32, backend=backend)
            for (name, backend), m in zip(settings.items(), models)] + \
        [Runner("torch", torch, twin, torch.optim.SGD(twin.parameters(), lr=0.1), batches, 32)]


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
    The vocabulary is the dataset's (65 characters) or GPT-2's 50257 tokens (ids from characters)."""
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
        runners = [Runner(name, tinytorch, m, optimizer(m), batches, tokens, cfg.grad_clip, backend)
                   for (name, backend), m in zip(settings.items(), models)]
        twin = copy_weights(TorchGPT(config), models[0])
    else:
        ours, ours_cupy = tinytorch_copies(lambda: GPT(config), 2)
        twin = copy_weights(TorchGPT(config), ours).to(device)
        runners = [Runner("tinytorch", tinytorch, ours.to(device), optimizer(ours), batches, tokens, cfg.grad_clip,
                          {"cuda_kernels": "numba"}, device),
                   Runner("tinytorch+cupy", tinytorch, ours_cupy.to(device), optimizer(ours_cupy), batches, tokens,
                          cfg.grad_clip, {"cuda_kernels": "cupy"}, device)]
    runners.append(Runner("torch", torch, twin, optimizer(twin), batches, tokens, cfg.grad_clip, device=device))
    return runners


def gpu_available():
    """(True, name) when both CuPy (through tinytorch) and torch see a CUDA GPU, else (False, why)."""
    if not tinytorch.cuda.is_available():
        return False, "no CUDA GPU visible to tinytorch (CuPy)"
    if not torch.cuda.is_available():
        return False, "torch has no CUDA here (CPU build or no GPU)"
    return True, torch.cuda.get_device_name(0)


# ---- measuring ----------------------------------------------------------------------------------

def interleave(runners, steps, warmup):
    """Warm up each runner (timing its first step: compilation), then `steps` rounds in turns.
    A tinytorch runner that fails while warming up is dropped (its error is reported, not hidden):
    returns (warm-up seconds per runner, error per dropped runner)."""
    first_step_s, failed = {}, {}
    for r in list(runners):
        t0 = time.perf_counter()
        try:
            for i in range(warmup):
                r.step(i)
        except Exception as e:
            if r.lib is torch:
                raise
            failed[r.name] = f"{type(e).__name__}: {e}".splitlines()[0][:300]
            print(f"  {r.name} failed while warming up: {failed[r.name]}", flush=True)
            runners.remove(r)
            continue
        first_step_s[r.name] = time.perf_counter() - t0
    for i in range(steps):
        k = i % len(runners)
        for r in runners[k:] + runners[:k]:
            r.timed_step(warmup + i)
    return first_step_s, failed


def summarize(runners, first_step_s, device):
    reference = next(r for r in runners if r.lib is torch)
    rows = {}
    for r in runners:
        ms = np.array(r.times) * 1e3
        row = {"ms_median": float(np.median(ms)), "ms_min": float(ms.min()), "steps": len(ms),
               "tokens_per_s": r.tokens / float(np.median(ms)) * 1e3, "warmup_s": first_step_s[r.name],
               "ratio_to_torch": float(np.median(np.array(r.times) / np.array(reference.times)))}
        if device == "cpu":
            row["peak_step_mb"] = r.peak_step_mb(len(r.times) + 10)
        rows[r.name] = row
    return rows


def measure_gpu_memory(runner):
    """Peak device memory of one step, MB (torch's allocator, or CuPy's pool for tinytorch)."""
    if runner.lib is torch:
        torch.cuda.reset_peak_memory_stats()
        runner.step(0)
        return torch.cuda.max_memory_allocated() / 2**20
    import cupy
    pool = cupy.get_default_memory_pool()
    pool.free_all_blocks()
    runner.step(0)
    return pool.total_bytes() / 2**20


def profile_runners(runners, steps, stem):
    """Per-op tables of `steps` steps of each tinytorch runner, written to <stem>_<runner>.txt."""
    os.makedirs(os.path.dirname(stem), exist_ok=True)
    for r in runners:
        if r.lib is tinytorch:
            with tinytorch.profiler.profile() as prof:
                for i in range(steps):
                    r.step(i)
            prof.export(f"{stem}_{r.name}.txt")
            print(f"  profile of {steps} {r.name} steps -> {stem}_{r.name}.txt", flush=True)


def rss_growth(steps):
    """RSS (MB) after step 100 and after step `steps` of a fresh tinytorch shakespeare-char-cpu run."""
    runner = gpt_runners("shakespeare-char-cpu", steps)[0]
    rss = {}
    for i in range(steps):
        runner.step(i)
        if i + 1 in (RSS_FIRST_STEP, steps):
            rss[i + 1] = rss_kb()[1] / 1024
    growth = rss[steps] / rss[RSS_FIRST_STEP] - 1
    return {"steps": steps, f"rss_mb_after_{RSS_FIRST_STEP}": rss[RSS_FIRST_STEP],
            f"rss_mb_after_{steps}": rss[steps], "growth": growth, "within_5_percent": abs(growth) <= RSS_TOLERANCE}


def run_model(name, args):
    steps = args.steps or (QUICK_STEPS if args.quick else DEFAULT_STEPS)[name]
    device = "cpu"
    if name == "gpt2-124m":
        ok, why = gpu_available()
        if not ok:
            print(f"gpt2-124m: skipped ({why}); it runs only on a GPU", flush=True)
            return {"skipped": why}
        device = "cuda"
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        info = {"gpu": why}
    n_batches = args.warmup + steps + 16
    runners = makemore_runners(name, n_batches) if name in ("mlp", "wavenet") else gpt_runners(name, n_batches, device)
    params = sum(p.numel() for p in runners[0].model.parameters())
    print(f"{name}: {params:,} parameters, {steps} interleaved steps per runner ...", flush=True)
    first, failed = interleave(runners, steps, args.warmup)
    rows = summarize(runners, first, device)
    if device != "cpu":
        for r in runners:
            rows[r.name]["peak_step_mb"] = measure_gpu_memory(r)
    if args.profile:
        profile_runners(runners, args.profile, os.path.join(args.out, f"{args.name}_profile_{name}"))
    for r, row in rows.items():
            print(f"  {r:16s} {row['ms_median']:9.2f} ms/step (min {row['ms_min']:.2f}), "
                  f"{row['tokens_per_s']:10,.0f} tokens/s, x{row['ratio_to_torch']:.2f} of torch's step, "
                  f"peak step {row['peak_step_mb']:.1f} MB, warm-up {row['warmup_s']:.2f} s", flush=True)
    result = {"params": params, "device": device, "runners": rows, "failed": failed}
    if device != "cpu":
        result["gpu"] = info["gpu"]
    return result


# ---- reporting ----------------------------------------------------------------------------------

LABELS = {"mlp": "makemore MLP (lecture 3: block 3, emb 10, hidden 200, batch 32, SGD)",
          "wavenet": "WaveNet (lecture 6: block 8, emb 24, hidden 128, batch 32, SGD)",
          "shakespeare-char-cpu": "GPT shakespeare-char-cpu (4 layers, 4 heads, 128, block 64, batch 12, AdamW)",
          "gpt2-124m": "GPT-2 124M (B=8, T=1024, AdamW, GPU)"}


def markdown(results, info, command):
    gpus = sorted({r["gpu"] for r in results["models"].values() if "gpu" in r})
    where = f"{', '.join(gpus)} GPU, host " if gpus else ""
    lines = [f"# Training step: tinytorch vs PyTorch ({where}{info['cpu']}, {info['cores']} cores, "
             f"{info['threads']} thread(s) each)", "",
             f"Command: `{command}`", "",
             "| model | framework | ms/step (median) | ms/step (min) | tokens/s | step / torch's | "
             "peak step memory MB |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for name, result in results["models"].items():
        if "skipped" in result:
            lines.append(f"| {LABELS[name]} | — | skipped: {result['skipped']} | | | | |")
            continue
        for framework, error in result.get("failed", {}).items():
            lines.append(f"| {LABELS[name]} | {framework} | failed: {error} | | | | |")
        for framework, row in result["runners"].items():
            lines.append(f"| {LABELS[name]} ({result['params']:,} params) | {framework} | {row['ms_median']:.2f} | "
                         f"{row['ms_min']:.2f} | {row['tokens_per_s']:,.0f} | {row['ratio_to_torch']:.2f} | "
                         f"{row['peak_step_mb']:.1f} |")
    rss = results.get("rss_growth")
    if rss:
        first, last = f"rss_mb_after_{RSS_FIRST_STEP}", f"rss_mb_after_{rss['steps']}"
        lines += ["", f"RSS growth (tinytorch, shakespeare-char-cpu): {rss[first]:.1f} MB after step "
                      f"{RSS_FIRST_STEP}, {rss[last]:.1f} MB after step {rss['steps']}: "
                      f"{100 * rss['growth']:+.2f}% ({'within' if rss['within_5_percent'] else 'NOT within'} 5%)."]
    runners = {fw for r in results["models"].values() for fw in r.get("runners", {})}
    if not gpus:
        lines += ["", "Runners: `tinytorch` runs NumPy's code, whose matrix products are NumPy's BLAS (OpenBLAS in "
                      "NumPy's wheels); `tinytorch+numba` the Numba CPU kernels (`tinytorch.backends.kernels = "
                      "\"numba\"`)" + ("; `tinytorch+numba+mkl` also sends the linear layers' matrix products to Intel "
                                       f"MKL's gemm (`tinytorch.backends.cpu_matmul = \"mkl\"`, mkl {info['mkl']}, "
                                       "the optional mkl extra), the BLAS inside PyTorch's CPU wheels"
                                       if "tinytorch+numba+mkl" in runners else "") + "."]
    if gpus:
        lines += ["", "On the GPU: float32, PyTorch eager with TF32 off; tinytorch's matmuls are cuBLAS through CuPy, "
                      "its softmax/layernorm the Numba-CUDA kernels (`tinytorch`) or CuPy running the NumPy "
                      "oracles (`tinytorch+cupy`); a step ends with `loss.item()`, which waits for the GPU. "
                      "Peak step memory on the GPU: torch's `max_memory_allocated` over one step, and CuPy's "
                      "pool after one step (it keeps its peak), both counting parameters and optimizer state."]
    versions = ", ".join(f"{k} {info[k]}" for k in ("python", "numpy", "torch", "numba", "mkl", "cupy")
                        if k in info)
    lines += ["", f"Threads: {info['threads']} for torch (`torch.set_num_threads`), OpenBLAS, MKL, OpenMP and "
                  f"Numba (`{'`, `'.join(THREAD_VARIABLES)}`). {versions}. Load average "
                  f"{info['load_average']} at the start, {info['load_average_end']} at the end (a shared machine: "
                  "the runners alternate step by step, so load slows them alike; 'step / torch's' is the median "
                  "over rounds of the ratio within a round). Peak step memory: the rise of peak RSS during one "
                  "step (activations, gradients, temporaries)."]
    return "\n".join(lines) + "\n"


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    models = [m for m, r in results["models"].items() if "skipped" not in r]
    frameworks = list(dict.fromkeys(fw for m in models for fw in results["models"][m]["runners"]))
    width = 0.8 / len(frameworks)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    x = np.arange(len(models))
    for i, fw in enumerate(frameworks):
        ratios = [results["models"][m]["runners"].get(fw, {}).get("ratio_to_torch", np.nan) for m in models]
        memory = [results["models"][m]["runners"].get(fw, {}).get("peak_step_mb", np.nan) for m in models]
        offset = (i - (len(frameworks) - 1) / 2) * width
        axes[0].bar(x + offset, ratios, width, label=fw)
        axes[1].bar(x + offset, memory, width, label=fw)
    axes[0].axhline(1.0, color="k", lw=0.8)
    axes[0].axhline(0.9, color="k", lw=0.8, ls="--")
    axes[0].set_ylabel("step time / torch's step time (lower is faster)")
    axes[1].set_ylabel("peak step memory, MB\n(CPU: RSS rise; GPU: device memory)")
    axes[1].set_yscale("log")
    for ax in axes:
        ax.set_xticks(x, models, fontsize=8)
        ax.legend(fontsize=8)
    fig.suptitle("tinytorch vs PyTorch: one training step (forward, backward, optimizer)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(args):
    torch.set_num_threads(args.threads)
    import numba
    from tinytorch.cpu_matmul import mkl_available
    extra = {"mkl": importlib.metadata.version("mkl")} if mkl_available() else {}
    info = machine_info(torch=torch.__version__, numba=numba.__version__, threads=args.threads, **extra)
    if "gpt2-124m" in args.models and tinytorch.cuda.is_available():
        import cupy
        info["cupy"] = cupy.__version__
    command = "python benchmarks/bench_train.py" + (" --quick" if args.quick else "") + \
        (f" --models {' '.join(args.models)}" if args.models != list(MODELS) else "") + \
        (f" --steps {args.steps}" if args.steps else "") + \
        (f" --threads {args.threads}" if args.threads != 1 else "") + \
        (f" --rss-steps {args.rss_steps}" if args.rss_steps not in (1000, 300) else "") + \
        (f" --name {args.name}" if args.name != "train" else "") + \
        (f" --profile {args.profile}" if args.profile else "")
    print(f"{info['cpu']}, {info['cores']} cores, {args.threads} thread(s), load {info['load_average']}", flush=True)
    results = {"command": command, "machine": info, "models": {}}
    for name in args.models:
        results["models"][name] = run_model(name, args)
        gc.collect()
    if args.rss_steps and "shakespeare-char-cpu" in args.models:
        print(f"RSS growth: {args.rss_steps} steps of a fresh tinytorch shakespeare-char-cpu ...", flush=True)
        results["rss_growth"] = rss_growth(args.rss_steps)
    info["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, f"{args.name}.json"), "w") as f:
        json.dump(results, f, indent=1)
    text = markdown(results, info, command)
    with open(os.path.join(args.out, f"{args.name}.md"), "w") as f:
        f.write(text)
    if any("skipped" not in r for r in results["models"].values()):
        plot(results, os.path.join(args.out, f"{args.name}.png"))
    print(text)


if __name__ == "__main__":
    try:
        main(ARGS)
    except (OSError, MemoryError, KeyError) as e:
        print(f"bench_train: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
