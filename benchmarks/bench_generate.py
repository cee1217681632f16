"""Generation speed with and without the KV cache: the shakespeare-char model (6 layers, 6 heads,
384 embd, block 256, vocab 65), greedy, from a one-character prompt.

Both paths must produce the same tokens (checked). Timed cases:
- 255 new tokens: the sequence never outgrows block_size, so the cache adds one position per token;
- 500 new tokens with window_shift=1 (nanoGPT's crop to the last 256 tokens): after 255 tokens
  the window moves at every token, every position shifts, and the cache must be rebuilt from the
  window each time, so only the first 255 tokens are cheap;
- 500 new tokens with window_shift=128: the window moves by half a block when full, so the cache
  is rebuilt once per 128 tokens.

    python benchmarks/bench_generate.py [--checkpoint runs/shakespeare-char/ckpt.safetensors] [--repeats 3]

Without a checkpoint the model is freshly initialised (the speed is the same). Writes
benchmarks/results/generate.{json,md,png}.
"""
import argparse
import json
import time
from pathlib import Path

import tinytorch
from tinytorch.models.gpt import GPT, PRESETS
from tinytorch.models.gpt.checkpoint import load_model
from tinytorch.models.gpt.presets import model_config

from machine_info import describe, machine_info

RESULTS = Path(__file__).resolve().parent / "results"


def best_time(fn, repeats):
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", help="a shakespeare-char training checkpoint (optional)")
    parser.add_argument("--repeats", type=int, default=3, help="best of N runs per measurement")
    args = parser.parse_args()
    if args.checkpoint:
        model, _ = load_model(Path(args.checkpoint))
    else:
        tinytorch.manual_seed(1337)
        model = GPT(model_config(PRESETS["shakespeare-char"]["model"], vocab_size=65)).eval()
    prompt = tinytorch.zeros(1, 1, dtype=tinytorch.long)
    rows = []
    block = model.config.block_size
    for new_tokens, shift in ((block - 1, 1), (500, 1), (500, block // 2)):
        row = {"new_tokens": new_tokens, "window_shift": shift}
        outputs = {}
        for label, use_cache in (("kv_cache", True), ("no_cache", False)):
            seconds, outputs[label] = best_time(
                lambda: model.generate(prompt, new_tokens, temperature=0, use_cache=use_cache, window_shift=shift),
                args.repeats)
            row[f"{label}_seconds"] = seconds
            row[f"{label}_tokens_per_second"] = new_tokens / seconds
        row["identical"] = outputs["kv_cache"].tolist() == outputs["no_cache"].tolist()
        if not row["identical"]:
            raise SystemExit(f"bench_generate: cached and uncached generation differ at {new_tokens} tokens")
        row["speedup"] = row["no_cache_seconds"] / row["kv_cache_seconds"]
        rows.append(row)
        print(row)
    write_results(rows, model, args)


def write_results(rows, model, args):
    info = machine_info(tinytorch=tinytorch.__version__)
    c = model.config
    config = f"{c.n_layer} layers, {c.n_head} heads, {c.n_embd} embd, block {c.block_size}, vocab {c.vocab_size}"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "generate.json").write_text(json.dumps({"model": c.to_dict(), "checkpoint": args.checkpoint,
                                                       "repeats": args.repeats, "machine": info, "rows": rows},
                                                      indent=1))
    lines = [f"# Greedy generation, shakespeare-char model ({config}), batch 1, float32 CPU", "",
             "| new tokens | window_shift | KV cache (tok/s) | no cache (tok/s) | speedup | same tokens |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['new_tokens']} | {r['window_shift']} | {r['kv_cache_tokens_per_second']:.1f} | "
                     f"{r['no_cache_tokens_per_second']:.1f} | {r['speedup']:.2f}x | {r['identical']} |")
    command = "python benchmarks/bench_generate.py" + (f" --checkpoint {args.checkpoint}" if args.checkpoint else "")
    lines += ["", f"Command: `{command}` (best of {args.repeats} runs each).", "", describe(info), ""]
    (RESULTS / "generate.md").write_text("\n".join(lines))
    plot(rows)
    print("\n".join(lines))


def plot(rows):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.5))
    labels = [f"{r['new_tokens']} tokens\nshift {r['window_shift']}" for r in rows]
    x = range(len(rows))
    ax.bar([i - 0.2 for i in x], [r["kv_cache_tokens_per_second"] for r in rows], 0.4, label="KV cache")
    ax.bar([i + 0.2 for i in x], [r["no_cache_tokens_per_second"] for r in rows], 0.4, label="no cache")
    ax.set_xticks(list(x), labels)
    ax.set_ylabel("tokens / s")
    ax.set_title("tinytorch GPT greedy generation (shakespeare-char)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(RESULTS / "generate.png", dpi=100)


if __name__ == "__main__":
    main()
