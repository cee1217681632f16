"""HellaSwag, completion style (build-nanogpt's hellaswag.py): which of 4 endings does the model find likeliest?

Each ending is appended to the context (with a space), and the model's cross-entropy is taken
over the ending's tokens only. `acc` picks the ending with the lowest summed loss, `acc_norm`
the lowest mean loss per token (the length-normalised score build-nanogpt reports).

Reference (../shared/reference/REFERENCE_NUMBERS.md row 25): GPT-2 124M, all 10,042 validation
items of the raw jsonl: acc 0.2859, acc_norm 0.2955. Two formats are read:
- raw jsonl (one item per line: "ctx", "endings", "label"), e.g. hellaswag_val.jsonl;
- the 6-lines-per-item text format of hellaswag_val_full.txt.bz2 (llama.cpp's): the context
  ("activity_label: ctx"), the gold label 0-3, then the 4 endings. Its contexts carry the
  activity label and preprocessed text, so its numbers differ a little from the raw jsonl's.

    python -m tinytorch.models.hellaswag --pretrained gpt2/model.safetensors --limit 500
"""
import argparse
import bz2
import json
from pathlib import Path

import numpy as np
from tqdm import tqdm

import tinytorch
from tinytorch import cli
from tinytorch.nn import functional as F

LINES_PER_ITEM = 6


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if line.strip():
                item = json.loads(line)
                yield check_item({"context": item["ctx"], "endings": item["endings"], "label": item["label"]},
                                 path, lineno)


def read_text_format(path):
    opener = bz2.open if str(path).endswith(".bz2") else open
    with opener(path, "rt", encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) % LINES_PER_ITEM:
        raise ValueError(f"{path}: {len(lines)} lines is not a multiple of {LINES_PER_ITEM} (context, label, 4 endings)")
    for start in range(0, len(lines), LINES_PER_ITEM):
        context, label, *endings = lines[start:start + LINES_PER_ITEM]
        if not label.isdigit():
            raise ValueError(f"{path}:{start + 2}: expected the gold label 0-3, found {label!r}")
        yield check_item({"context": context, "endings": endings, "label": int(label)}, path, start + 1)


def check_item(item, path, lineno):
    if len(item["endings"]) != 4 or not 0 <= item["label"] < 4:
        raise ValueError(f"{path}:{lineno}: an item needs 4 endings and a label in 0..3")
    return item


def read_examples(path):
    """Items {"context", "endings", "label"} from a .jsonl file or the text format (.txt / .txt.bz2)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"hellaswag: no file at {path}")
    return read_jsonl(path) if path.suffix == ".jsonl" else read_text_format(path)


def render_example(item, encode):
    """tokens (4, L) int64: context + " " + ending, zero-padded; mask (4, L): 1 on the ending's tokens."""
    context = encode(item["context"])
    rows = [context + encode(" " + ending) for ending in item["endings"]]
    length = max(len(r) for r in rows)
    tokens = np.zeros((4, length), dtype=np.int64)
    mask = np.zeros((4, length), dtype=np.int64)
    for i, row in enumerate(rows):
        tokens[i, :len(row)] = row
        mask[i, len(context):len(row)] = 1
    return tokens, mask


@tinytorch.no_grad()
def ending_losses(model, tokens, mask, device="cpu"):
    """(summed, mean) cross-entropy over each row's masked tokens, each a NumPy array (4,).

    Token t is predicted from the logits at t-1, so logits and targets are shifted by one."""
    logits, _ = model(tinytorch.from_numpy(tokens).to(device))
    n, length = tokens.shape
    targets = tinytorch.from_numpy(np.ascontiguousarray(tokens[:, 1:])).to(device)
    per_token = F.cross_entropy(logits[:, :-1, :].reshape(n * (length - 1), -1), targets.reshape(-1),
                                reduction="none").view(n, length - 1).numpy()
    weights = mask[:, 1:]
    summed = (per_token * weights).sum(axis=1)
    return summed, summed / weights.sum(axis=1)


def evaluate(model, examples, encode, limit=None, device="cpu", progress=True):
    """{"n", "acc", "acc_norm"} over the first `limit` examples (all if None)."""
    model.eval()
    correct = correct_norm = n = 0
    bar = tqdm(examples, total=limit, disable=not progress, desc="hellaswag")
    for item in bar:
        if limit is not None and n >= limit:
            break
        tokens, mask = render_example(item, encode)
        if tokens.shape[1] > model.config.block_size:
            raise ValueError(f"hellaswag: an item has {tokens.shape[1]} tokens, more than block_size "
                             f"{model.config.block_size}")
        summed, mean = ending_losses(model, tokens, mask, device)
        n += 1
        correct += int(summed.argmin() == item["label"])
        correct_norm += int(mean.argmin() == item["label"])
        bar.set_postfix_str(f"acc {correct / n:.4f} acc_norm {correct_norm / n:.4f}", refresh=False)
    bar.close()
    return {"n": n, "acc": correct / max(n, 1), "acc_norm": correct_norm / max(n, 1)}


def main(argv=None):
    parser = cli.Parser(prog="python -m tinytorch.models.hellaswag", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pretrained",
                        help="a Hugging Face GPT-2 model.safetensors or pytorch_model.bin (or its folder)")
    parser.add_argument("--checkpoint", help="a tinytorch GPT training run folder (GPT-2 BPE data)")
    parser.add_argument("--data", default="hellaswag",
                        help="'hellaswag' (hellaswag_val_full.txt.bz2), or a .jsonl / text-format file")
    parser.add_argument("--limit", type=cli.integer(1), help="evaluate only the first N items")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    try:
        print(json.dumps(run(args)))
    except (ValueError, OSError, RuntimeError) as e:
        cli.exit_with(e, "error")


def run(args):
    from .gpt.checkpoint import CHECKPOINT, load_model
    from .gpt.data import gpt2_bpe
    from .gpt.model import GPT
    if (args.pretrained is None) == (args.checkpoint is None):
        raise ValueError("hellaswag: give exactly one of --pretrained FILE or --checkpoint RUN_FOLDER")
    if args.pretrained:
        model, tokenizer = GPT.from_pretrained(args.pretrained).to(args.device), gpt2_bpe()
    else:
        model, tokenizer = load_model(Path(args.checkpoint) / CHECKPOINT, args.device)
    path = tinytorch.data.get_path(args.data) if args.data == "hellaswag" else args.data
    return evaluate(model, read_examples(path), tokenizer.encode, args.limit, args.device)


if __name__ == "__main__":
    main()
