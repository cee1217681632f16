"""Command line: `python -m tinytorch.models.gpt {train,sample,prepare,demo} ...`.

    train   --preset NAME --out DIR [--dataset D] [--device cuda] [--kernels numba] [--matmul mkl]
            [--resume [--override KEY,...] | --overwrite] [--stop-at K] [--key=value ...]
    sample  (--out DIR | --pretrained FILE_OR_DIR) [--prompt TEXT] [--max-new-tokens N] ...
    prepare --input PATH --out DIR [--shard-tokens N] [--overwrite]
    demo    trains shakespeare-char-cpu on Tiny Shakespeare (tinytorch's defaults: every core, the
            Numba kernels, the faster matmul library), then prints a sample; into a new folder
            runs/demo, runs/demo-2, ... unless --out is given

A run folder that holds a run is refused unless --resume continues it or --overwrite replaces it.
`python -m tinytorch.distributed.run --nproc_per_node=N -m tinytorch.models.gpt train ...` trains on
N processes with the same global batch (train.py, parallel.py).
Bad input (a missing dataset, an unknown preset or override key, a number out of range, a config too
big for this machine's memory, a checkpoint of another config) ends with a one-line `error: ...`
message and exit status 2. Text from the model or the user is printed with control characters escaped.
"""
import argparse
import sys
from pathlib import Path

from tqdm import tqdm

import tinytorch
from tinytorch import cli
from tinytorch.terminal import printable

from .presets import PRESETS, resolve

DEMO_FOLDER = Path("runs") / "demo"


def cmd_train(args, overrides):
    from .train import train
    for key in ("dataset", "device"):
        if getattr(args, key) is not None:
            overrides = [f"--{key}={getattr(args, key)}", *overrides]
    settings = resolve(args.preset, overrides)
    with tinytorch.backends.using(kernels=args.kernels, cpu_matmul=args.matmul):
        metrics = train(settings, args.out, resume=args.resume, overwrite=args.overwrite, override=args.override,
                        stop_at=args.stop_at, progress=not args.quiet, profile_steps=args.profile)
    if metrics is not None:  # None on every rank but 0 of a launched run
        report(metrics, args.out)
    return metrics


def report(metrics, out):
    print(f"{metrics['steps']} steps in {metrics['seconds']:.1f} s ({metrics['ms_per_step']:.1f} ms/step, "
          f"{metrics['tokens_per_second']:,.0f} tok/s); val loss {metrics['final_val_loss']:.4f} "
          f"(best {metrics['best_val_loss']:.4f}); metrics in {printable(str(Path(out) / 'metrics.json'))}")


def cmd_sample(args, overrides):
    from .checkpoint import CHECKPOINT, load_model
    from .data import gpt2_bpe
    from .model import GPT
    from .train import sample_text
    reject_extra(overrides)
    if (args.out is None) == (args.pretrained is None):
        raise ValueError("sample: give exactly one of --out DIR (a training run) or --pretrained FILE")
    if args.out is not None:
        model, tokenizer = load_model(Path(args.out) / CHECKPOINT, args.device)
    else:
        model, tokenizer = GPT.from_pretrained(args.pretrained).to(args.device).eval(), gpt2_bpe()
    for i in range(args.num_samples):
        text = sample_text(model, tokenizer, args.max_new_tokens, seed=args.seed + i, device=args.device,
                           prompt=args.prompt, temperature=args.temperature, top_k=args.top_k,
                           window_shift=args.window_shift)
        print(printable(text))
        print("---------------")


def cmd_prepare(args, overrides):
    from .data import gpt2_bpe, text_documents
    from .shards import write_shards
    reject_extra(overrides)
    shards = [p.name for p in Path(args.out).glob("*.npy")]  # never a mix of old and new shards
    cli.check_run_folder(args.out, shards, overwrite=args.overwrite, what="shards")
    documents = text_documents(args.input)
    tokenizer = gpt2_bpe()
    cli.claim_run_folder(args.out, shards, overwrite=args.overwrite, what="shards")
    with tqdm(unit="tok", unit_scale=True, desc="tokenizing") as bar:
        paths = write_shards(documents, args.out, args.shard_tokens, tokenizer.encode, tokenizer.eot, bar)
    print(f"wrote {len(paths)} shards to {printable(str(args.out))} (first = val)")


def cmd_demo(args, overrides):
    from .checkpoint import CHECKPOINT, load_model
    from .train import sample_text, train
    settings = resolve("shakespeare-char-cpu", overrides)
    out = args.out if args.out is not None else new_folder(DEMO_FOLDER)
    with tinytorch.backends.using(kernels=args.kernels, cpu_matmul=args.matmul):
        print(f"Training GPT shakespeare-char-cpu on Tiny Shakespeare: {settings['model']}, "
              f"{settings['train'].max_iters} steps, {tinytorch.backends.kernels} kernels, "
              f"{tinytorch.backends.matmul_library()} matmuls, {tinytorch.get_num_threads()} threads. "
              f"Output in {printable(str(out))}.")
        report(train(settings, out, overwrite=args.overwrite), out)
    model, tokenizer = load_model(Path(out) / CHECKPOINT)
    print("\nSample (500 characters, temperature 0.8, top_k 200):\n")
    print(printable(sample_text(model, tokenizer, 500, seed=settings["train"].seed, temperature=0.8, top_k=200)))


def new_folder(base):
    """`base` if it does not exist yet, else the first of base-2, base-3, ... that does not."""
    n, folder = 1, Path(base)
    while folder.exists():
        n += 1
        folder = Path(f"{base}-{n}")
    return folder


def reject_extra(extra):
    if extra:
        raise ValueError(f"unexpected arguments: {' '.join(extra)}")


def keys(text):
    """`--override a,b`: the list of keys."""
    return [key.strip().replace("-", "_") for key in text.split(",") if key.strip()]


def non_empty(text):
    if not text:
        raise argparse.ArgumentTypeError("must not be empty (leave --prompt out to start from a newline)")
    return text


def add_backend_options(p):
    p.add_argument("--kernels", choices=("numpy", "numba"),
                   help="CPU kernels: numba (compiled on first use, then cached) or numpy (the reference path); "
                        "default: tinytorch.backends.kernels, i.e. numba when Numba imports, or $TINYTORCH_KERNELS")
    p.add_argument("--matmul", choices=("auto", "numpy", "mkl"),
                   help="CPU linear-layer products: NumPy's BLAS, Intel MKL's (the optional mkl extra), or auto "
                        "(MKL where measured faster on this CPU); default: auto or $TINYTORCH_CPU_MATMUL")


def build_parser():
    parser = cli.Parser(prog="python -m tinytorch.models.gpt", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=cli.Parser)

    p = sub.add_parser("train", help="train a preset (extra --key=value arguments override it)")
    p.add_argument("--preset", required=True, help=f"one of: {', '.join(PRESETS)}")
    p.add_argument("--dataset", help="tinyshakespeare, a text file/folder, or a folder of shards")
    p.add_argument("--device", help="cpu (default) or cuda")
    add_backend_options(p)
    p.add_argument("--out", required=True, help="run folder: checkpoint, metrics.json, loss.png")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    p.add_argument("--override", type=keys, default=[], metavar="KEY[,KEY]",
                   help="with --resume: train-config keys allowed to differ from the checkpoint's (recorded in "
                        "metrics.json with the step they took effect)")
    p.add_argument("--overwrite", action="store_true", help="replace the run in --out")
    p.add_argument("--stop-at", type=cli.integer(1), help="stop (with a checkpoint) at this step")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--profile", type=cli.integer(0), default=0, metavar="N",
                   help="profile the first N steps per op and write the table to OUT/profile.txt")
    p.set_defaults(run=cmd_train)

    p = sub.add_parser("sample", help="generate text from a run's checkpoint or Hugging Face GPT-2 weights")
    p.add_argument("--out", help="a training run folder")
    p.add_argument("--pretrained",
                   help="a Hugging Face GPT-2 model.safetensors or pytorch_model.bin (or its folder)")
    p.add_argument("--prompt", type=non_empty, default="\n", help="the text to continue (default: a newline)")
    p.add_argument("--max-new-tokens", type=cli.integer(1), default=500)
    p.add_argument("--temperature", type=cli.real(0, meaning="0: greedy"), default=0.8)
    p.add_argument("--top-k", type=cli.integer(1), default=200)
    p.add_argument("--num-samples", type=cli.integer(1), default=1)
    p.add_argument("--window-shift", type=cli.integer(1), default=1,
                   help="past block_size tokens, move the context window by this many (1 = nanoGPT's crop)")
    p.add_argument("--seed", type=cli.integer(0), default=1337)
    p.add_argument("--device", default="cpu")
    p.set_defaults(run=cmd_sample)

    p = sub.add_parser("prepare", help="tokenize text into uint16 .npy shards (first shard = val)")
    p.add_argument("--input", required=True, help="a text file, or a folder of .txt files (one document each)")
    p.add_argument("--out", required=True)
    p.add_argument("--shard-tokens", type=cli.integer(2), default=100_000_000)
    p.add_argument("--overwrite", action="store_true", help="replace the shards already in --out")
    p.set_defaults(run=cmd_prepare)

    p = sub.add_parser("demo", help="train shakespeare-char-cpu, then print a sample")
    p.add_argument("--out", help=f"run folder (default: a new {DEMO_FOLDER}, {DEMO_FOLDER}-2, ...)")
    p.add_argument("--overwrite", action="store_true", help="replace the run in --out")
    add_backend_options(p)
    p.set_defaults(run=cmd_demo)
    return parser


def main(argv=None):
    args, extra = build_parser().parse_known_args(argv)
    try:
        args.run(args, extra)
    except (ValueError, OSError, RuntimeError) as e:
        cli.exit_with(e, "error")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
