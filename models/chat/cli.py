"""Command line: `python -m tinytorch.models.chat STAGE --out RUN [--preset smoke|tiny]`.

    tokenizer     train the chat tokenizer on the corpus                         RUN/tokenizer
    pretrain      pretrain the GPT on Tiny Shakespeare + task text               RUN/pretrain
    sft           supervised fine-tuning on chat conversations                   RUN/sft
    reward-model  sample preference pairs, train the reward model                RUN/reward_model
    rl            policy-gradient RL on the tasks [--seed S] [--reward ...]      RUN/rl/seed-S
    dpo           DPO on the preference pairs                                    RUN/dpo
    report        RUN/report.json and RUN/report.md from the finished stages
    speedrun      every stage in order, then the report
    chat          a multi-turn chat in the terminal [--model rl|dpo|sft]
    serve         the web UI and a streaming endpoint [--host 127.0.0.1] [--port 8000]

A finished stage is never replaced unless --overwrite is given. Bad input ends with one line,
`error: ...`, and exit status 2.
"""
import argparse
import os
import sys
import time
from pathlib import Path

from . import dpo, pretrain, report, reward_model, rl, sft, tokenizer_stage
from .chat import MODELS
from .presets import PRESETS, preset
from .run_folder import read_json, write_json

RUN_INFO = "run.json"  # RUN/run.json: the preset the run's stages were given


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit status 2)."""

    def error(self, message):
        self.exit(2, f"error: {message}\n")


def remember_preset(run, name):
    """Record the run's preset; refuse a different one for a run that has one."""
    path = Path(run) / RUN_INFO
    if path.is_file() and read_json(path)["preset"] != name:
        raise ValueError(f"--preset {name}: the run in {run} uses --preset {read_json(path)['preset']}")
    Path(run).mkdir(parents=True, exist_ok=True)
    write_json(path, {"preset": name})


def run_stage(stage, args, settings, seed=None):
    """Run one stage with the preset's settings; returns its metrics."""
    common = dict(overwrite=args.overwrite, progress=not args.quiet)
    if stage == "tokenizer":
        return tokenizer_stage.run(args.out, settings["tokenizer"], **common)
    if stage == "pretrain":
        return pretrain.run(args.out, settings["pretrain"], **common)
    if stage == "sft":
        return sft.run(args.out, settings["sft"], **common)
    if stage == "reward_model":
        return reward_model.run(args.out, settings["reward_model"], settings["eval"], **common)
    if stage == "rl":
        return rl.run(args.out, settings["rl"], settings["eval"], seed=seed, **common)
    return dpo.run(args.out, settings["dpo"], settings["eval"], **common)


def stage_settings(args):
    settings = preset(args.preset)
    if getattr(args, "reward", None):
        settings["rl"].reward = args.reward
    remember_preset(args.out, args.preset)
    return settings


def cmd_stage(args):
    stage = args.command.replace("-", "_")
    settings = stage_settings(args)
    seeds = [args.seed] if stage == "rl" else [None]
    for seed in seeds:
        metrics = run_stage(stage, args, settings, seed)
        print(f"{stage}: done in {metrics['seconds']:.1f} s; metrics in {args.out}/{stage}")


def cmd_speedrun(args):
    settings = stage_settings(args)
    if (Path(args.out) / "report.json").exists() and not args.overwrite:
        raise ValueError(f"--out {args.out} already holds a finished run (report.json); pass --overwrite to replace it")
    load = [round(os.getloadavg()[0], 2)]
    started = time.perf_counter()
    for stage in ("tokenizer", "pretrain", "sft", "reward_model", "rl", "dpo"):
        for seed in settings["rl"].seeds if stage == "rl" else [None]:
            metrics = run_stage(stage, args, settings, seed)
            name = stage + ("" if seed is None else f" (seed {seed})")
            print(f"{name}: {metrics['seconds']:.1f} s", flush=True)
    load.append(round(os.getloadavg()[0], 2))
    result = report.write(args.out, args.preset, load)
    print(f"speedrun ({args.preset}) finished in {(time.perf_counter() - started) / 60:.1f} min; "
          f"{args.out}/report.md")
    return result


def cmd_report(args):
    report.write(args.out, read_json(Path(args.out) / RUN_INFO)["preset"])
    print(f"wrote {args.out}/report.json and {args.out}/report.md")


def cmd_chat(args):
    from .chat import terminal
    terminal(args.out, args.model, args.temperature, args.top_k, args.top_p, args.max_tokens, args.seed)


def cmd_serve(args):
    from .chat import load_chat
    from .server import serve
    engine, tokenizer = load_chat(args.out, args.model)
    print(f"serving the {args.model} model of {args.out} at http://{args.host}:{args.port}/", flush=True)
    serve(engine, tokenizer, args.model, args.host, args.port)


def positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a positive {kind.__name__}, got {text!r}") from None
        if value <= 0 and not (kind is float and value == 0):
            raise argparse.ArgumentTypeError(f"must be a positive {kind.__name__}, got {text!r}")
        return value
    return parse


def build_parser():
    parser = Parser(prog="python -m tinytorch.models.chat", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name in ("tokenizer", "pretrain", "sft", "reward-model", "rl", "dpo", "speedrun"):
        p = sub.add_parser(name)
        p.add_argument("--out", required=True, help="the run folder")
        p.add_argument("--preset", default="tiny", choices=list(PRESETS), help="smoke or tiny (default)")
        p.add_argument("--overwrite", action="store_true", help="replace a finished stage")
        p.add_argument("--quiet", action="store_true", help="no progress bars")
        if name == "rl":
            p.add_argument("--seed", type=int, default=0)
            p.add_argument("--reward", choices=("task", "reward-model"),
                           help="task: exact match (default); reward-model: RLHF with a KL penalty to SFT")
        p.set_defaults(run=cmd_speedrun if name == "speedrun" else cmd_stage)
    p = sub.add_parser("report")
    p.add_argument("--out", required=True)
    p.set_defaults(run=cmd_report)
    for name in ("chat", "serve"):
        p = sub.add_parser(name)
        p.add_argument("--out", required=True, help="a run folder with the finished stages")
        p.add_argument("--model", default="rl", choices=MODELS, help="which stage's model answers (default rl)")
        if name == "chat":
            p.add_argument("--temperature", type=positive(float), default=0.8)
            p.add_argument("--top-k", type=positive(int), default=50)
            p.add_argument("--top-p", type=positive(float), default=None)
            p.add_argument("--max-tokens", type=positive(int), default=64)
            p.add_argument("--seed", type=int, default=0)
        else:
            p.add_argument("--host", default="127.0.0.1", help="the address to bind (default 127.0.0.1: this machine only)")
            p.add_argument("--port", type=positive(int), default=8000)
        p.set_defaults(run=cmd_chat if name == "chat" else cmd_serve)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
