"""Tokenizer benchmark: BPE training speed and encoding throughput.

    python benchmarks/bench_tokenizer.py
    python benchmarks/bench_tokenizer.py --quick    # vocab 276 and 300, one run each (smoke test)

1. Training, vocab 512 on taylorswift.txt (BasicTokenizer and RegexTokenizer with the GPT-4
   pattern), against minbpe's straightforward trainer (tests/twins/minbpe.py: it recounts every
   pair of the text for each merge). Target: >= 100x faster, with identical merges.
2. Training, vocab 4096 on tinyshakespeare.txt. Target: < 5 s.
3. Encoding tinyshakespeare.txt: GPT2Tokenizer vs tiktoken "gpt2", one thread each, in MB/s of
   UTF-8 input; ours with an empty chunk cache ("cold", the honest number) and with the cache
   filled by a previous call ("warm"). GPT4Tokenizer vs "cl100k_base" for reference.
   Target: cold >= half of tiktoken. ids are checked to be identical.

tinytorch timings are the best of several runs after one warm-up call, which loads the Numba
kernels (their time is reported separately as "first call"); the baseline runs once (~20 s).
The three encoders take turns (harness.interleave). tiktoken runs offline from the
TINYTORCH_DATA files. Writes OUT/tokenizer.{json,md,png} (--update-results: benchmarks/results/).
"""
import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path

import numba
import regex
import tiktoken

import harness
from tinytorch.data import get_path, read_text
from tinytorch.tokenizers import GPT4_SPLIT_PATTERN, BasicTokenizer, GPT2Tokenizer, GPT4Tokenizer, RegexTokenizer
from twins import minbpe

VOCABS, QUICK_VOCABS = (512, 4096), (276, 300)  # (vs the baseline on taylorswift.txt, on tinyshakespeare.txt)
OPENAI = "https://openaipublic.blob.core.windows.net/"
TIKTOKEN_FILES = {"vocab.bpe": OPENAI + "gpt-2/encodings/main/vocab.bpe",
                  "encoder.json": OPENAI + "gpt-2/encodings/main/encoder.json",
                  "cl100k_base.tiktoken": OPENAI + "encodings/cl100k_base.tiktoken"}


# ------------------------------------------------------------------ measurements
def make_tokenizer(kind):
    return BasicTokenizer() if kind == "basic" else RegexTokenizer(GPT4_SPLIT_PATTERN)


def training_rows(repeats, vocabs):
    small, big = vocabs
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
        expected = {pair: 256 + i for i, (pair, _) in enumerate(minbpe.train(taylorswift, pattern, small - 256))}
        baseline = time.perf_counter() - start
        tok = make_tokenizer(kind)
        ours, _ = harness.best_time(lambda: tok.train(taylorswift, small), repeats)
        rows.append({"task": f"train {name}, vocab {small}", "data": "taylorswift.txt",
                     "bytes": len(taylorswift.encode()),
                     "baseline_s": baseline, "tinytorch_s": ours, "speedup": baseline / ours,
                     "identical_merges": tok.merges == expected, "first_call_s": first_call[kind],
                     "target": ">= 100x faster", "met": baseline / ours >= 100 and tok.merges == expected})
    for kind, name in (("basic", "BasicTokenizer"), ("regex", "RegexTokenizer (GPT-4 pattern)")):
        tok = make_tokenizer(kind)
        ours, _ = harness.best_time(lambda: tok.train(shakespeare, big), repeats)
        rows.append({"task": f"train {name}, vocab {big}", "data": "tinyshakespeare.txt",
                     "bytes": len(shakespeare.encode()), "tinytorch_s": ours, "target": "< 5 s", "met": ours < 5})
    return rows


def tiktoken_encodings():
    """tiktoken's "gpt2" and "cl100k_base", loaded offline from the TINYTORCH_DATA files."""
    cache = Path(tempfile.mkdtemp(prefix="tiktoken-cache-"))
    try:
        for name, url in TIKTOKEN_FILES.items():
            shutil.copyfile(get_path(name), cache / hashlib.sha1(url.encode()).hexdigest())
        os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
        return tiktoken.get_encoding("gpt2"), tiktoken.get_encoding("cl100k_base")
    finally:
        os.environ.pop("TIKTOKEN_CACHE_DIR", None)
        shutil.rmtree(cache)


def encoding_rows(repeats):
    gpt2, cl100k = tiktoken_encodings()
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

        runners = [harness.Runner("tiktoken", lambda _: theirs.encode(text)), harness.Runner("cold", lambda _: cold()),
                   harness.Runner("warm", lambda _: ours.encode(text))]
        speed = {r.name: megabytes / min(r.times) for r in harness.interleave(runners, rounds=repeats, warmup=0)}
        ratio = speed["cold"] / speed["tiktoken"]
        rows.append({"task": f"encode {type(ours).__name__} vs tiktoken {theirs.name}", "data": "tinyshakespeare.txt",
                     "bytes": len(text.encode()), "tiktoken_MBps": speed["tiktoken"], "cold_MBps": speed["cold"],
                     "warm_MBps": speed["warm"], "cold_vs_tiktoken": ratio, "identical_ids": identical,
                     "target": ">= 0.5x tiktoken" if target else "(reference)",
                     "met": (ratio >= target and identical) if target else identical})
    return rows


# ------------------------------------------------------------------ reporting
def yes_no(key):
    return lambda r: "yes" if r[key] else "NO"


TRAIN_COLUMNS = [("task", "{task}"), ("data", "{data} ({bytes:,} B)"), ("minbpe-style baseline", "{baseline_s:.2f} s"),
                 ("tinytorch", "{tinytorch_s:.3f} s"), ("speedup", "{speedup:.0f}x"), ("target", "{target}"),
                 ("met", yes_no("met"))]
ENCODE_COLUMNS = [("task", "{task}"), ("data", "{data}"), ("tiktoken (1 thread)", "{tiktoken_MBps:.1f} MB/s"),
                  ("tinytorch, cold cache", "{cold_MBps:.1f} MB/s"), ("tinytorch, warm cache", "{warm_MBps:.1f} MB/s"),
                  ("cold / tiktoken", "{cold_vs_tiktoken:.2f}"), ("identical ids", yes_no("identical_ids")),
                  ("target", "{target}"), ("met", yes_no("met"))]


def panels(train, encode):
    short = [r["task"].replace("train ", "").replace("RegexTokenizer (GPT-4 pattern)", "Regex")
             .replace("BasicTokenizer", "Basic") for r in train]
    return (harness.bars(short, {"minbpe-style baseline": [r.get("baseline_s") for r in train],
                                 "tinytorch": [r["tinytorch_s"] for r in train]},
                         "training time (s, log scale)", log=True, rotate=15),
            harness.bars([r["task"].split(" vs ")[1] for r in encode],
                         {"tiktoken": [r["tiktoken_MBps"] for r in encode],
                          "tinytorch cold cache": [r["cold_MBps"] for r in encode],
                          "tinytorch warm cache": [r["warm_MBps"] for r in encode]},
                         "encoding MB/s, tinyshakespeare.txt"))


def main():
    parser = harness.cli(__doc__)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each tinytorch measurement")
    parser.add_argument("--quick", action="store_true", help=f"vocab sizes {QUICK_VOCABS} and one run each")
    args = harness.start(parser)
    results = harness.Results("tokenizer", args, "Tokenizer benchmark", numba=numba.__version__,
                              regex=regex.__version__, tiktoken=tiktoken.__version__)
    repeats = 1 if args.quick else args.repeats
    train = training_rows(repeats, QUICK_VOCABS if args.quick else VOCABS)
    encode = encoding_rows(repeats)
    results.table("train", TRAIN_COLUMNS, labels=2)
    for row in train:
        results.row(**row)
    results.table("encode", ENCODE_COLUMNS, labels=2)
    for row in encode:
        results.row(**row)
    merges_ok = all(r["identical_merges"] for r in train if "identical_merges" in r)
    first = ", ".join(f"{r['first_call_s']:.2f} s" for r in train if "first_call_s" in r)
    results.text(f"Merges identical to the baseline's: {'yes' if merges_ok else 'NO'}. First training call in a "
                 f"fresh process (loads Numba's cached kernels; compiles them if no cache): {first} (Basic, Regex). "
                 f"Times are the best of the runs after it.")
    results.plot(*panels(train, encode))
    results.write()


if __name__ == "__main__":
    main()
