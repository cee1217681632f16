"""Tokenizer benchmark: BPE training speed and encoding throughput.

    python benchmarks/bench_tokenizer.py

1. Training, vocab 512 on taylorswift.txt (BasicTokenizer and RegexTokenizer with the GPT-4
   pattern), against a straightforward minbpe-style trainer written below (it recounts every
   pair of the text for each merge). Target: >= 100x faster, with identical merges.
2. Training, vocab 4096 on tinyshakespeare.txt. Target: < 5 s.
3. Encoding tinyshakespeare.txt: GPT2Tokenizer vs tiktoken "gpt2", one thread each, in MB/s of
   UTF-8 input; ours with an empty chunk cache ("cold", the honest number) and with the cache
   filled by a previous call ("warm"). GPT4Tokenizer vs "cl100k_base" for reference.
   Target: cold >= half of tiktoken. ids are checked to be identical.

tinytorch timings are the best of several runs after one warm-up call, which loads the Numba
kernels (their time is reported separately as "first call"); the baseline runs once (~20 s).
tiktoken runs offline from the TINYTORCH_DATA files. Writes benchmarks/results/tokenizer.json,
tokenizer.md and tokenizer.png.
"""
import argparse
import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numba
import regex

from machine_info import describe, machine_info
from tinytorch.data import get_path, read_text
from tinytorch.tokenizers import GPT4_SPLIT_PATTERN, BasicTokenizer, GPT2Tokenizer, GPT4Tokenizer, RegexTokenizer

RESULTS = Path(__file__).resolve().parent / "results"
OPENAI = "https://openaipublic.blob.core.windows.net/"
TIKTOKEN_FILES = {"vocab.bpe": OPENAI + "gpt-2/encodings/main/vocab.bpe",
                  "encoder.json": OPENAI + "gpt-2/encodings/main/encoder.json",
                  "cl100k_base.tiktoken": OPENAI + "encodings/cl100k_base.tiktoken"}


# ------------------------------------------------------------------ the baseline: minbpe's loop
def baseline_merge(ids, pair, new):
    out, i = [], 0
    while i < len(ids):
        if ids[i] == pair[0] and i < len(ids) - 1 and ids[i + 1] == pair[1]:
            out.append(new)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def baseline_train(text, vocab_size, pattern=""):
    """minbpe-style training: recount all pairs, take the most frequent, merge it everywhere."""
    chunks = [list(c.encode("utf-8")) for c in (regex.findall(pattern, text) if pattern else [text])]
    merges = {}
    for t in range(vocab_size - 256):
        stats = {}
        for ids in chunks:
            for pair in zip(ids, ids[1:]):
                stats[pair] = stats.get(pair, 0) + 1
        pair = max(stats, key=stats.get)
        chunks = [baseline_merge(ids, pair, 256 + t) for ids in chunks]
        merges[pair] = 256 + t
    return merges


# ------------------------------------------------------------------ measurements
def best_time(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def make_tokenizer(kind):
    return BasicTokenizer() if kind == "basic" else RegexTokenizer(GPT4_SPLIT_PATTERN)


def training_rows(repeats):
    rows = []
    first_call = {}
    for kind in ("basic", "regex"):  # the first call in the process loads the compiled kernels
        start = time.perf_counter()
        make_tokenizer(kind).train("warm up the kernels " * 20, 260)
        first_call[kind] = time.perf_counter() - start
    taylorswift, shakespeare = read_text("taylorswift.txt"), read_text("tinyshakespeare.txt")
    for kind, name in (("basic", "BasicTokenizer"), ("regex", "RegexTokenizer (GPT-4 pattern)")):
        pattern = "" if kind == "basic" else GPT4_SPLIT_PATTERN
        start = time.perf_counter()
        expected = baseline_train(taylorswift, 512, pattern)
        baseline = time.perf_counter() - start
        tok = make_tokenizer(kind)
        ours = best_time(lambda: tok.train(taylorswift, 512), repeats)
        rows.append({"task": f"train {name}, vocab 512", "data": "taylorswift.txt", "bytes": len(taylorswift.encode()),
                     "baseline_s": baseline, "tinytorch_s": ours, "speedup": baseline / ours,
                     "identical_merges": tok.merges == expected, "first_call_s": first_call[kind],
                     "target": ">= 100x faster", "met": baseline / ours >= 100 and tok.merges == expected})
    for kind, name in (("basic", "BasicTokenizer"), ("regex", "RegexTokenizer (GPT-4 pattern)")):
        tok = make_tokenizer(kind)
        ours = best_time(lambda: tok.train(shakespeare, 4096), repeats)
        rows.append({"task": f"train {name}, vocab 4096", "data": "tinyshakespeare.txt",
                     "bytes": len(shakespeare.encode()), "tinytorch_s": ours, "target": "< 5 s", "met": ours < 5})
    return rows


def tiktoken_encodings():
    import tiktoken
    cache = Path(tempfile.mkdtemp(prefix="tiktoken-cache-"))
    try:
        for name, url in TIKTOKEN_FILES.items():
            shutil.copyfile(get_path(name), cache / hashlib.sha1(url.encode()).hexdigest())
        os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
        return tiktoken, tiktoken.get_encoding("gpt2"), tiktoken.get_encoding("cl100k_base")
    finally:
        os.environ.pop("TIKTOKEN_CACHE_DIR", None)
        shutil.rmtree(cache)


def encoding_rows(repeats):
    tiktoken, gpt2, cl100k = tiktoken_encodings()
    text = read_text("tinyshakespeare.txt")
    megabytes = len(text.encode()) / 1e6
    rows = []
    for ours, theirs, target in ((GPT2Tokenizer(), gpt2, 0.5), (GPT4Tokenizer(), cl100k, None)):
        ours.encode("warm up the kernels")
        theirs.encode("warm up")
        identical = ours.encode(text) == theirs.encode(text)

        def cold():
            ours.clear_cache()
            ours.encode(text)

        times = {"tiktoken": [], "cold": [], "warm": []}
        for _ in range(repeats):  # interleaved, so that load from other processes hits all three
            times["tiktoken"].append(best_time(lambda: theirs.encode(text), 1))
            times["cold"].append(best_time(cold, 1))
            times["warm"].append(best_time(lambda: ours.encode(text), 1))
        speed = {k: megabytes / min(v) for k, v in times.items()}
        ratio = speed["cold"] / speed["tiktoken"]
        rows.append({"task": f"encode {type(ours).__name__} vs tiktoken {theirs.name}", "data": "tinyshakespeare.txt",
                     "bytes": len(text.encode()), "tiktoken_MBps": speed["tiktoken"], "cold_MBps": speed["cold"],
                     "warm_MBps": speed["warm"], "cold_vs_tiktoken": ratio, "identical_ids": identical,
                     "target": ">= 0.5x tiktoken" if target else "(reference)",
                     "met": (ratio >= target and identical) if target else identical})
    return rows, tiktoken.__version__


# ------------------------------------------------------------------ reporting
def markdown(train, encode, info):
    lines = ["# Tokenizer benchmark", "", "Command: `python benchmarks/bench_tokenizer.py`", "",
             "| task | data | minbpe-style baseline | tinytorch | speedup | target | met |",
             "|---|---|---:|---:|---:|---|---|"]
    for r in train:
        baseline = f"{r['baseline_s']:.2f} s" if "baseline_s" in r else "-"
        speedup = f"{r['speedup']:.0f}x" if "speedup" in r else "-"
        lines.append(f"| {r['task']} | {r['data']} ({r['bytes']:,} B) | {baseline} | {r['tinytorch_s']:.3f} s | "
                     f"{speedup} | {r['target']} | {'yes' if r['met'] else 'NO'} |")
    lines += ["", "| task | data | tiktoken (1 thread) | tinytorch, cold cache | tinytorch, warm cache | "
                  "cold / tiktoken | identical ids | target | met |",
              "|---|---|---:|---:|---:|---:|---|---|---|"]
    for r in encode:
        lines.append(f"| {r['task']} | {r['data']} | {r['tiktoken_MBps']:.1f} MB/s | {r['cold_MBps']:.1f} MB/s | "
                     f"{r['warm_MBps']:.1f} MB/s | {r['cold_vs_tiktoken']:.2f} | {'yes' if r['identical_ids'] else 'NO'} | "
                     f"{r['target']} | {'yes' if r['met'] else 'NO'} |")
    merges_ok = all(r["identical_merges"] for r in train if "identical_merges" in r)
    first = ", ".join(f"{r['first_call_s']:.2f} s" for r in train if "first_call_s" in r)
    lines += ["", f"Merges identical to the baseline's: {'yes' if merges_ok else 'NO'}. First training call in a "
                  f"fresh process (loads Numba's cached kernels; compiles them if no cache): {first} "
                  f"(Basic, Regex). Times are the best of the runs after it.", "", describe(info)]
    return "\n".join(lines) + "\n"


def plot(train, encode, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    labels = [r["task"].replace("train ", "").replace("RegexTokenizer (GPT-4 pattern)", "Regex")
              .replace("BasicTokenizer", "Basic") for r in train]
    x = range(len(train))
    left.bar([i - 0.2 for i in x], [r.get("baseline_s", 0) for r in train], 0.4, label="minbpe-style baseline")
    left.bar([i + 0.2 for i in x], [r["tinytorch_s"] for r in train], 0.4, label="tinytorch")
    left.set_yscale("log")
    left.set_xticks(list(x), labels, rotation=15, fontsize=8)
    left.set_ylabel("training time (s, log scale)")
    left.legend()
    names = [r["task"].split(" vs ")[1] for r in encode]
    x = range(len(encode))
    for offset, key, label in ((-0.27, "tiktoken_MBps", "tiktoken"), (0, "cold_MBps", "tinytorch cold cache"),
                               (0.27, "warm_MBps", "tinytorch warm cache")):
        right.bar([i + offset for i in x], [r[key] for r in encode], 0.27, label=label)
    right.set_xticks(list(x), names)
    right.set_ylabel("encoding MB/s, tinyshakespeare.txt")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each tinytorch measurement")
    args = parser.parse_args()
    train = training_rows(args.repeats)
    encode, tiktoken_version = encoding_rows(args.repeats)
    info = machine_info(numba=numba.__version__, regex=regex.__version__, tiktoken=tiktoken_version)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "tokenizer.json").write_text(json.dumps({"machine": info, "train": train, "encode": encode}, indent=2))
    table = markdown(train, encode, info)
    (RESULTS / "tokenizer.md").write_text(table)
    plot(train, encode, RESULTS / "tokenizer.png")
    print(table)


if __name__ == "__main__":
    main()
