"""Command line: `python -m tinytorch.models.gpt {train,sample,prepare,demo} ...`.

    train   --preset NAME --out DIR [--dataset D] [--device cuda] [--kernels numba] [--matmul mkl] [--resume]
            [--stop-at K]
            [--key=value ...]
    sample  (--out DIR | --pretrained FILE_OR_DIR) [--prompt TEXT] [--max-new-tokens N] ...
    prepare --input PATH --out DIR [--shard-tokens N]
    demo    trains shakespeare-char-cpu on Tiny Shakespeare (Numba kernels, MKL matmuls when installed),
            then prints a sample

Bad input (a missing dataset, an unknown preset or override key, a checkpoint of another
config) ends with a one-line `error: ...` message and exit status 2.
"""
import argparse
import sys
from pathlib import Path

from tqdm import tqdm

import tinytorch

from .presets import PRESETS, resolve


def cmd_train(args, overrides):
    from .train import train
    for key in ("dataset", "device"):
        if getattr(args, key) is not None:
            overrides = [f"--{key}={getattr(args, key)}", *overrides]
    settings = resolve(args.preset, overrides)
    with tinytorch.backends.using(kernels=args.kernels, cpu_matmul=args.matmul):
        metrics = train(settings, args.out, resume=args.resume, stop_at=args.stop_at, progress=not args.quiet,
                        profile_steps=args.profile)
    report(metrics, args.out)
    return metrics


def report(metrics, out):
    print(f"{metrics['steps']} steps in {metrics['seconds']:.1f} s ({metrics['ms_per_step']:.1f} ms/step, "
          f"{metrics['tokens_per_second']:,.0f} tok/s); val loss {metrics['final_val_loss']:.4f} "
          f"(best {metrics['best_val_loss']:.4f}); metrics in {Path(out) / 'metrics.json'}")


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
        print(text)
        print("---------------")


def cmd_prepare(args, overrides):
    from .data import gpt2_bpe, text_documents
    from .shards import write_shards
    reject_extra(overrides)
    tokenizer = gpt2_bpe()
    documents = text_documents(args.input)
    with tqdm(unit="tok", unit_scale=True, desc="tokenizing") as bar:
        paths = write_shards(documents, args.out, args.shard_tokens, tokenizer.encode, tokenizer.eot, bar)
    print(f"wrote {len(paths)} shards to {args.out} (first = val)")


def cmd_demo(args, overrides):
    from .checkpoint import CHECKPOINT, load_model
    from .train import sample_text, train
    settings = resolve("shakespeare-char-cpu", overrides)
    if args.matmul is None:
        from tinytorch.cpu_matmul import mkl_available
        args.matmul = "mkl" if mkl_available() else "numpy"
    print(f"Training GPT shakespeare-char-cpu on Tiny Shakespeare: {settings['model']}, "
          f"{settings['train'].max_iters} steps, {args.kernels} kernels, {args.matmul} matmuls. "
          f"Output in {args.out}.")
    with tinytorch.backends.using(kernels=args.kernels, cpu_matmul=args.matmul):
        report(train(settings, args.out), args.out)
    model, tokenizer = load_model(Path(args.out) / CHECKPOINT)
    print("\nSample (500 characters, temperature 0.8, top_k 200):\n")
    print(sample_text(model, tokenizer, 500, seed=settings["train"].seed, temperature=0.8, top_k=200))


def reject_extra(extra):
    if extra:
        raise ValueError(f"unexpected arguments: {' '.join(extra)}")


def add_backend_options(p, kernels=None, matmul_help="default: tinytorch.backends.cpu_matmul, i.e. numpy or "
                                                          "$TINYTORCH_CPU_MATMUL"):
    p.add_argument("--kernels", choices=("numpy", "numba"), default=kernels,
                   help=f"CPU kernels: numpy or numba (faster; compiles on first use, about 5 s, then cached); "
                        f"default: {kernels or 'tinytorch.backends.kernels, i.e. numpy or $TINYTORCH_KERNELS'}")
    p.add_argument("--matmul", choices=("numpy", "mkl"),
                   help=f"CPU linear-layer products: NumPy's BLAS or Intel MKL's (faster; the optional mkl extra); "
                        f"{matmul_help}")


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m tinytorch.models.gpt", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a preset (extra --key=value arguments override it)")
    p.add_argument("--preset", required=True, help=f"one of: {', '.join(PRESETS)}")
    p.add_argument("--dataset", help="tinyshakespeare, a text file/folder, or a folder of shards")
    p.add_argument("--device", help="cpu (default) or cuda")
    add_backend_options(p)
    p.add_argument("--out", required=True, help="run folder: checkpoint, metrics.json, loss.png")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --out")
    p.add_argument("--stop-at", type=int, help="stop (with a checkpoint) at this step")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--profile", type=int, default=0, metavar="N",
                   help="profile the first N steps per op and write the table to OUT/profile.txt")
    p.set_defaults(run=cmd_train)

    p = sub.add_parser("sample", help="generate text from a run's checkpoint or Hugging Face GPT-2 weights")
    p.add_argument("--out", help="a training run folder")
    p.add_argument("--pretrained",
                   help="a Hugging Face GPT-2 model.safetensors or pytorch_model.bin (or its folder)")
    p.add_argument("--prompt", default="\n")
    p.add_argument("--max-new-tokens", type=int, default=500)
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--top-k", type=int, default=200)
    p.add_argument("--num-samples", type=int, default=1)
    p.add_argument("--window-shift", type=int, default=1,
                   help="past block_size tokens, move the context window by this many (1 = nanoGPT's crop)")
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--device", default="cpu")
    p.set_defaults(run=cmd_sample)

    p = sub.add_parser("prepare", help="tokenize text into uint16 .npy shards (first shard = val)")
    p.add_argument("--input", required=True, help="a text file, or a folder of .txt files (one document each)")
    p.add_argument("--out", required=True)
    p.add_argument("--shard-tokens", type=int, default=100_000_000)
    p.set_defaults(run=cmd_prepare)

    p = sub.add_parser("demo", help="train shakespeare-char-cpu, then print a sample")
    p.add_argument("--out", default="runs/demo")
    add_backend_options(p, kernels="numba", matmul_help="default: mkl when installed, else numpy")
    p.set_defaults(run=cmd_demo)
    return parser


def main(argv=None):
    args, extra = build_parser().parse_known_args(argv)
    try:
        args.run(args, extra)
    except (ValueError, OSError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
