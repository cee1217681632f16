"""Command line for the tokenizers.

    python -m tinytorch.tokenizers train --input FILE --vocab-size 512 --pattern gpt4 --out PREFIX
    python -m tinytorch.tokenizers encode --tokenizer gpt2 --text "hello world"
    python -m tinytorch.tokenizers decode --tokenizer gpt2 --ids "31373 995"
    python -m tinytorch.tokenizers visualize --tokenizer gpt4 --input FILE

--tokenizer is gpt2, gpt4 or the PREFIX of a trained tokenizer. Text comes from --text, --input
or standard input. `train` refuses to replace an existing PREFIX.model unless --overwrite is given.
Errors are reported in one line, with exit status 2. `visualize` shows control characters of the
text as escapes (\x1b), and so does `decode` when it prints to a terminal.
"""
import sys
import time
from pathlib import Path

from .. import cli
from ..serialization.atomic import remove_leftovers
from ..terminal import printable
from . import visualize
from .basic import BasicTokenizer
from .pretrained import load_tokenizer
from .regex_tokenizer import SPLIT_PATTERNS, RegexTokenizer


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        args.run(args)
    except (OSError, ValueError, NotImplementedError) as e:
        cli.exit_with(e, "error")
    return 0


def train(args):
    prefix = Path(args.out)
    outputs = [prefix.with_name(prefix.name + suffix) for suffix in (".model", ".vocab")]
    existing = [str(path) for path in outputs if path.exists()]
    if existing and not args.overwrite:
        raise ValueError(f"--out {args.out}: {' and '.join(existing)} already exist; give --overwrite to replace them")
    text = Path(args.input).read_text(encoding="utf-8")
    tokenizer = BasicTokenizer() if args.pattern == "none" else RegexTokenizer(SPLIT_PATTERNS[args.pattern])
    start = time.perf_counter()
    tokenizer.train(text, args.vocab_size, verbose=args.verbose)
    seconds = time.perf_counter() - start
    remove_leftovers(prefix.parent)
    tokenizer.save(args.out)
    print(f"trained {len(tokenizer.merges)} merges on {printable(args.input)} ({len(text.encode('utf-8')):,} bytes) "
          f"in {seconds:.2f} s; wrote {printable(args.out)}.model and {printable(args.out)}.vocab")


def encode(args):
    tokenizer = load_tokenizer(args.tokenizer)
    allowed = "all" if args.allowed_special == "all" else frozenset()
    print(" ".join(map(str, tokenizer.encode(_read_text(args), allowed_special=allowed))))


def decode(args):
    tokenizer = load_tokenizer(args.tokenizer)
    source = args.ids if args.ids is not None else _read_text(args)
    words = source.replace(",", " ").replace("[", " ").replace("]", " ").split()
    bad = [word for word in words if not word.isdigit()]
    if bad:
        raise ValueError(f"decode: {bad[0]!r} is not a token id (give ids as '31373 995')")
    text = tokenizer.decode([int(word) for word in words])
    sys.stdout.write((printable(text) if sys.stdout.isatty() else text) + "\n")


def show(args):
    tokenizer = load_tokenizer(args.tokenizer)
    text = _read_text(args)
    pieces = visualize.token_pieces(tokenizer, text)
    color = sys.stdout.isatty() if args.color == "auto" else args.color == "always"
    print(visualize.render(pieces, color=color))
    print(visualize.summary(pieces, text))
    if args.ids:
        print(" ".join(str(idx) for idx, _ in pieces))


def _read_text(args):
    if args.text is not None:
        return args.text
    if args.input is not None:
        return Path(args.input).read_text(encoding="utf-8")
    return sys.stdin.read()


def _parser():
    parser = cli.Parser(prog="python -m tinytorch.tokenizers",
                        description="Byte-level BPE tokenizers: train, encode, decode, visualize.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=cli.Parser)

    p = commands.add_parser("train", help="learn a BPE vocabulary from a text file")
    p.add_argument("--input", required=True, help="UTF-8 text file to train on")
    p.add_argument("--vocab-size", type=cli.integer(256), required=True, help="256 bytes + number of merges")
    p.add_argument("--pattern", choices=["gpt2", "gpt4", "none"], default="gpt4",
                   help="split pattern applied before BPE (none = BasicTokenizer)")
    p.add_argument("--out", required=True, help="writes OUT.model and OUT.vocab")
    p.add_argument("--overwrite", action="store_true", help="replace an existing OUT.model and OUT.vocab")
    p.add_argument("--verbose", action="store_true", help="print every merge")
    p.set_defaults(run=train)

    for name, run, help_text in (("encode", encode, "print the token ids of a text"),
                                 ("decode", decode, "print the text of token ids"),
                                 ("visualize", show, "print the text with token boundaries shown")):
        p = commands.add_parser(name, help=help_text)
        p.add_argument("--tokenizer", default="gpt2", help="gpt2, gpt4 or the PREFIX of a trained tokenizer")
        source = p.add_mutually_exclusive_group()
        if name == "decode":
            source.add_argument("--ids", help="token ids, e.g. '31373 995' (else read from --input/stdin)")
        else:
            source.add_argument("--text", help="the text (else read from --input/stdin)")
        source.add_argument("--input", help="file to read")
        if name == "encode":
            p.add_argument("--allowed-special", choices=["none", "all"], default="none",
                           help="all: encode special tokens such as <|endoftext|> as one id each")
        if name == "visualize":
            p.add_argument("--color", choices=["auto", "always", "never"], default="auto")
            p.add_argument("--ids", action="store_true", help="also print the ids")
        p.set_defaults(run=run)
    return parser


if __name__ == "__main__":
    sys.exit(main())
