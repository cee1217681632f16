"""Generation speed with and without the KV cache: the shakespeare-char model (6 layers, 6 heads,
384 embd, block 256, vocab 65), greedy, from a one-character prompt.

Both paths must produce the same tokens (checked). Timed cases:
- block_size - 1 new tokens: the sequence never outgrows block_size, so the cache adds one
  position per token;
- 500 new tokens (--quick: 100) with window_shift=1 (nanoGPT's crop to the last 256 tokens):
  after 255 tokens the window moves at every token, every position shifts, and the cache must be
  rebuilt from the window each time, so only the first 255 tokens are cheap;
- as many new tokens with window_shift=block_size/2: the window moves by half a block when full,
  so the cache is rebuilt once per 128 tokens.

The two paths take turns (harness.interleave); tokens/s come from the best of --repeats runs, the
speedup is the median over rounds of the ratio within a round.

    python benchmarks/bench_generate.py [--checkpoint runs/shakespeare-char/ckpt.safetensors] [--repeats 3]
    python benchmarks/bench_generate.py --quick     # a 2-layer, 64-wide model with block 32, one run

Without a checkpoint the model is freshly initialised (the speed is the same). Writes
OUT/generate.{json,md,png} (--update-results: benchmarks/results/).
"""
from pathlib import Path

import harness
import tinytorch
from tinytorch.models.gpt import GPT, PRESETS
from tinytorch.models.gpt.checkpoint import load_model
from tinytorch.models.gpt.presets import model_config

QUICK_MODEL = dict(n_layer=2, n_head=2, n_embd=64, block_size=32)
LONG, QUICK_LONG = 500, 100  # new tokens of the cases that outgrow the block

COLUMNS = [("new tokens", "{new_tokens}"), ("window_shift", "{window_shift}"),
           ("KV cache (tok/s)", "{kv_cache_tokens_per_second:.1f}"),
           ("no cache (tok/s)", "{no_cache_tokens_per_second:.1f}"),
           ("speedup", lambda r: harness.with_spread(r["speedup"]) + "x"), ("same tokens", "{identical}")]


def parse_args():
    parser = harness.cli(__doc__)
    parser.add_argument("--checkpoint", help="a shakespeare-char training checkpoint (optional)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved runs per measurement (best is kept)")
    parser.add_argument("--quick", action="store_true",
                        help=f"a small model {QUICK_MODEL}, {QUICK_LONG} tokens for the long cases, one run")
    args = harness.start(parser)
    if args.quick:
        args.repeats = 1
    return args


def build_model(args):
    if args.checkpoint:
        return load_model(Path(args.checkpoint))[0]
    tinytorch.manual_seed(1337)
    settings = {**PRESETS["shakespeare-char"]["model"], **(QUICK_MODEL if args.quick else {})}
    return GPT(model_config(settings, vocab_size=65)).eval()


def measure(model, new_tokens, shift, repeats):
    prompt = tinytorch.zeros(1, 1, dtype=tinytorch.long)
    runners = [harness.Runner(label, lambda _, cache=cache: model.generate(prompt, new_tokens, temperature=0,
                                                                           use_cache=cache, window_shift=shift))
               for label, cache in (("kv_cache", True), ("no_cache", False))]
    cached, uncached = harness.interleave(runners, rounds=repeats, warmup=0)
    row = {"new_tokens": new_tokens, "window_shift": shift}
    for r in runners:
        row[f"{r.name}_seconds"] = min(r.times)
        row[f"{r.name}_tokens_per_second"] = new_tokens / min(r.times)
    row["identical"] = cached.output.tolist() == uncached.output.tolist()
    if not row["identical"]:
        raise SystemExit(f"bench_generate: cached and uncached generation differ at {new_tokens} tokens")
    row["speedup"] = harness.ratios(uncached, cached)
    print(row, flush=True)
    return row


def main():
    args = parse_args()
    model = build_model(args)
    c = model.config
    config = f"{c.n_layer} layers, {c.n_head} heads, {c.n_embd} embd, block {c.block_size}, vocab {c.vocab_size}"
    results = harness.Results("generate", args, f"Greedy generation, shakespeare-char model ({config}), batch 1, "
                              "float32 CPU", tinytorch=tinytorch.__version__)
    results.record(model=c.to_dict(), checkpoint=args.checkpoint, repeats=args.repeats)
    results.table("rows", COLUMNS)
    block = c.block_size
    long = QUICK_LONG if args.quick else LONG
    for new_tokens, shift in ((block - 1, 1), (long, 1), (long, block // 2)):
        results.row(**measure(model, new_tokens, shift, args.repeats))
    results.text(f"Tokens/s: the best of {args.repeats} interleaved runs each; speedup: the median over rounds of "
                 "(no cache / KV cache) within a round, interquartile spread in brackets.")
    rows = results.rows("rows")
    results.plot(harness.bars([f"{r['new_tokens']} tokens\nshift {r['window_shift']}" for r in rows],
                              {"KV cache": [r["kv_cache_tokens_per_second"] for r in rows],
                               "no cache": [r["no_cache_tokens_per_second"] for r in rows]},
                              "tokens / s", "tinytorch GPT greedy generation (shakespeare-char)"))
    results.write()


if __name__ == "__main__":
    main()
