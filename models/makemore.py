"""makemore on tinytorch: `python -m tinytorch.models.makemore --model MODEL --input FILE --out DIR`.

Trains one rung of the ladder (see models/ladder.py) with its lecture's configuration on a
newline-separated word list (default: names.txt through tinytorch.data), evaluates it on the
train / val / test words, prints samples, and writes into --out:

    metrics.json        final train/val/test loss, steps, seconds, params, the periodic evals
    model.safetensors   the weights (tinytorch.save), and config.json: what --sample-only needs
    loss_curve.png      the training loss and the periodic evaluations
    diagnostics.png     (mlp-bn) lecture 4's activation / gradient / update-ratio plots

`--sample-only` rebuilds the model from --out and prints samples; the same --seed gives the
same samples. A folder that holds a run is refused unless --overwrite is given; every file is
written atomically. Bad input (a number out of range, a missing, empty or non-UTF-8 file, too few
words, a damaged run folder) ends with a one-line message and exit status 2.
"""
import argparse
import dataclasses
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import tinytorch as torch
from tinytorch import cli
from tinytorch.serialization import atomic
from tinytorch.terminal import printable

from .ladder import LADDER
from .makemore_data import CharVocab, DataError, context_examples, read_words, sequence_examples
from .plots import loss_curve
from .sampling import sample_words
from .trainer import evaluate_splits, train

SPLITS = ("train", "val", "test")
RUN_FILES = ("model.safetensors", "config.json", "metrics.json", "loss_curve.png", "diagnostics.png",
             "diagnostics.json", "profile.txt")


def parse_args(argv=None):
    p = cli.Parser(prog="python -m tinytorch.models.makemore",
                   description="Train a makemore model with its lecture's configuration, then sample from it.")
    p.add_argument("--model", required=True, choices=list(LADDER), help="which rung of the ladder")
    p.add_argument("--input", help="a text file with one word per line (default: names.txt from tinytorch.data)")
    p.add_argument("--out", help="output folder (default: out/<model>)")
    p.add_argument("--overwrite", action="store_true", help="replace the run already in --out")
    p.add_argument("--max-steps", type=cli.integer(1), help="optimisation steps (default: the lecture's)")
    p.add_argument("--batch-size", type=cli.integer(0, meaning="0: full batch"),
                   help="examples per step (default: the lecture's; 0: full batch)")
    p.add_argument("--eval-interval", type=cli.integer(1), help="steps between train/val evaluations")
    p.add_argument("--profile", dest="profile_steps", type=cli.integer(0), metavar="N",
                   help="profile the first N steps per op and write the table to OUT/profile.txt")
    p.add_argument("--seed", type=cli.integer(-2 ** 63, 2 ** 64 - 1),
                   help="seed for the init, the batches and the samples (default: the lecture's)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--sample-only", action="store_true", help="load the model in --out and print samples")
    p.add_argument("--num-samples", type=cli.integer(0, meaning="0: none"), default=20,
                   help="words to sample at the end")
    p.add_argument("--temperature", type=cli.real(0, meaning="0: greedy"), default=1.0,
                   help="sampling temperature (0: the most likely character each time)")
    p.add_argument("--top-k", type=cli.integer(1), help="sample among the k most likely characters only")
    p.add_argument("--diagnostics-steps", type=cli.integer(0, meaning="0: skip"), default=1001,
                   help="mlp-bn: steps of the 6-layer diagnostics network (0: skip)")
    args = p.parse_args(argv)
    args.out = Path(args.out or Path("out") / args.model)
    return args


@dataclass
class Data:
    words: list
    vocab: CharVocab
    splits: object      # makemore_data.Splits of words
    examples: dict      # split -> (X, Y) on the device
    block_size: int
    max_len: int        # the longest word: how many characters a sample may have


@dataclass
class Run:
    """What a rung's before/after-training hooks get."""
    model: object
    examples: dict
    vocab: CharVocab
    out_dir: Path
    args: argparse.Namespace
    log: object = print


def load_data(args, rung):
    """The words of --input, split as the rung's lecture does, as examples of its block size."""
    words = read_words(args.input or torch.data.get_path("names.txt"))
    vocab = CharVocab.from_words(words)
    splits = rung.split(words)
    max_len = max(len(w) for w in words)
    block_size = rung.block_size or max_len + 1
    make = sequence_examples if rung.block_size is None else context_examples
    examples = {}
    for name, split_words in splits.items():
        X, Y = make(split_words, vocab, block_size)
        examples[name] = (X.to(args.device), Y.to(args.device))
    return Data(words, vocab, splits, examples, block_size, max_len)


def train_and_report(args, argv):
    began = time.perf_counter()
    rung = LADDER[args.model]
    cli.check_run_folder(args.out, RUN_FILES, overwrite=args.overwrite)
    data = load_data(args, rung)
    seed = rung.seed if args.seed is None else args.seed
    torch.manual_seed(seed)
    model = rung.build(len(data.vocab), data.block_size).to(args.device)
    overrides = {k: getattr(args, k) for k in ("max_steps", "batch_size", "eval_interval", "profile_steps")}
    cfg = dataclasses.replace(rung.train, **{k: v for k, v in overrides.items() if v is not None})
    n_train = data.examples["train"][0].shape[0]
    if cfg.batch_size > n_train:
        raise DataError(f"--batch-size must be at most the {n_train:,} training examples (0: all of them), "
                        f"got {cfg.batch_size}")
    cli.claim_run_folder(args.out, RUN_FILES, overwrite=args.overwrite)
    params = sum(p.numel() for p in model.parameters())
    sizes = " / ".join(f"{n} {data.examples[n][0].shape[0]:,}" for n in SPLITS)
    print(f"{args.model}: {params:,} parameters | {len(data.words):,} words, vocabulary {len(data.vocab)} | "
          f"examples {sizes} | seed {seed}\nreproduces {rung.lecture}")
    run = Run(model, data.examples, data.vocab, args.out, args)
    extra = rung.before_training(run) if rung.before_training else {}
    history = train(model, data.examples, cfg, desc=args.model)
    final = evaluate_splits(model, data.examples, names=SPLITS)
    extra.update(rung.after_training(run) if rung.after_training else {})
    config = {"model": args.model, "chars": data.vocab.chars, "block_size": data.block_size,
              "max_word_length": data.max_len}
    torch.save(model.state_dict(), args.out / "model.safetensors")
    atomic.write_text(args.out / "config.json", json.dumps(config, indent=2, ensure_ascii=False))
    if history.profile:
        atomic.write_text(args.out / "profile.txt", history.profile + "\n")
    if history.losses:
        loss_curve(history.losses, history.evals, args.out / "loss_curve.png", f"makemore {args.model} on tinytorch")
    metrics = {
        "model": args.model, "command": "python -m tinytorch.models.makemore " + " ".join(argv),
        "lecture": rung.lecture, **{f"{n}_loss": final[n] for n in SPLITS},
        "last_step_loss": history.losses[-1] if history.losses else None, "steps": len(history.losses),
        "best_step": history.best_step,
        "seconds": history.seconds, "cpu_seconds": history.cpu_seconds, "total_seconds": time.perf_counter() - began,
        "params": params, "seed": seed, "device": args.device, "train_config": dataclasses.asdict(cfg),
        "examples": {n: data.examples[n][0].shape[0] for n in SPLITS},
        "val_split": "test (makemore keeps no separate validation set)" if data.splits.val is data.splits.test
        else "val", "evals": history.evals, **extra}
    atomic.write_text(args.out / "metrics.json", json.dumps(metrics, indent=2))
    print(f"final: train {final['train']:.4f}  val {final['val']:.4f}  test {final['test']:.4f} | "
          f"{metrics['steps']:,} steps in {history.seconds:.1f} s"
          + (f", weights of step {history.best_step:,} (best val)" if history.best_step else "")
          + f" | wrote {printable(str(args.out))}/")
    _print_samples(model, data.vocab, data.max_len, args, seed)
    return 0


def sample_only(args):
    config_path, weights = args.out / "config.json", args.out / "model.safetensors"
    if not config_path.is_file() or not weights.is_file():
        raise DataError(f"{args.out}: no config.json and model.safetensors here; train first (without --sample-only)")
    config = read_config(config_path)
    if config["model"] != args.model:
        raise DataError(f"{args.out} holds a {config['model']!r} model, not {args.model!r}")
    vocab = CharVocab(config["chars"])
    model = LADDER[args.model].build(len(vocab), config["block_size"])
    try:
        model.load_state_dict(torch.load(weights))
    except (KeyError, RuntimeError) as e:
        raise DataError(f"{weights} does not hold the weights of this {args.model!r} model "
                        f"({cli.one_line(e)})") from None
    model.to(args.device)
    seed = LADDER[args.model].seed if args.seed is None else args.seed
    _print_samples(model, vocab, config["max_word_length"], args, seed)
    return 0


CONFIG_TYPES = {"model": str, "chars": str, "block_size": int, "max_word_length": int}


def read_config(path):
    """config.json of a run folder, checked: DataError naming the file if it is not what training wrote."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as e:  # not JSON, not UTF-8, nested too deeply
        raise DataError(f"{path} is not a makemore config.json ({cli.one_line(e)}); "
                        "train again with --overwrite") from None
    if not isinstance(config, dict):
        config = {}
    wrong = [key for key, kind in CONFIG_TYPES.items()
             if not isinstance(config.get(key), kind) or isinstance(config.get(key), bool)]
    if wrong:
        raise DataError(f"{path} is not a makemore config.json (missing or wrong: {', '.join(wrong)}); "
                        "train again with --overwrite")
    return config


def _print_samples(model, vocab, max_len, args, seed):
    if not args.num_samples:
        return
    words = sample_words(model, vocab, args.num_samples, max_len, seed, args.temperature, args.top_k, args.device)
    print(f"{len(words)} samples (seed {seed}):")
    for word in words:
        print(printable(word, layout=False))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    try:
        return sample_only(args) if args.sample_only else train_and_report(args, argv)
    except KeyboardInterrupt:
        print("makemore: interrupted", file=sys.stderr)
        return 130
    except (DataError, OSError, ValueError, RuntimeError) as e:
        cli.exit_with(e, "makemore")


if __name__ == "__main__":
    sys.exit(main())
