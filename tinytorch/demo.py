"""`make demo`: the main job — train the shakespeare-char-cpu GPT on Tiny Shakespeare, then sample.

`python -m tinytorch.demo [--out DIR] [--key=value ...]` passes everything on to
`python -m tinytorch.models.gpt demo` (e.g. `--max_iters=200` for a quick look). Each run writes a new
folder, runs/demo, runs/demo-2, ..., so running it again never replaces an earlier run; an --out that
holds a run needs --overwrite.
"""
import sys


def main(argv=None):
    from tinytorch.models.gpt.cli import main as gpt_main
    gpt_main(["demo", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
