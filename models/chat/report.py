"""RUN/report.json and RUN/report.md: every stage's headline metrics, time and config, and the plots.

report.json has `stages` with the keys tokenizer, pretrain, sft, reward_model, rl, dpo, each
{"metrics": {...}, "seconds": wall time, "config": {...}}; RL's metrics hold pass@1 / pass@k before
(SFT) and after RL per task and seed, and their mean and spread (sample standard deviation) over the
seeds. The PNGs are copied to RUN/plots/ so that report.md, report.json and plots/ can be kept together.
"""
import os
import platform
import shutil
import statistics
from pathlib import Path

from . import plots
from .presets import STAGES
from .run_folder import finished, read_json, rl_seed_folders, write_json, write_text

PLOTS = {"pretrain": ["loss.png"], "sft": ["loss.png"], "reward_model": ["loss.png", "accuracy.png"],
         "dpo": ["loss.png"]}


def machine():
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version()}


def rl_summary(run):
    """RL metrics over the seed folders: before/after per task, mean and spread of the after values."""
    runs = [read_json(folder / "metrics.json") for folder in rl_seed_folders(run)]
    tasks = list(runs[0]["after"])
    summary = {"seeds": [r["seed"] for r in runs], "tasks": {}}
    for task in tasks:
        k = runs[0]["before"][task]["samples"]
        row = {"problems": runs[0]["before"][task]["problems"], "samples": k}
        for metric in ("pass@1", f"pass@{k}"):
            after = [r["after"][task][metric] for r in runs]
            row[metric] = {"sft": runs[0]["before"][task][metric], "rl_per_seed": after,
                           "rl_mean": statistics.mean(after),
                           "rl_std": statistics.stdev(after) if len(after) > 1 else 0.0}
        summary["tasks"][task] = row
    summary["final_reward_per_seed"] = [statistics.mean(r["reward"][-max(1, len(r["reward"]) // 5):]) for r in runs]
    summary["first_reward_per_seed"] = [statistics.mean(r["reward"][:max(1, len(r["reward"]) // 5)]) for r in runs]
    seconds = [r["seconds"] for r in runs]
    sft_eval = read_json(Path(run) / "rl" / "sft_eval.json")
    return summary, sum(seconds), {"per_seed_seconds": seconds, "sft_eval_seconds": sft_eval["seconds"]}, runs


def headline(stage, m):
    """The few numbers of a stage that the report shows (the rest stay in RUN/<stage>/metrics.json)."""
    keep = {"tokenizer": ("vocab_size", "merges", "chars_per_token", "example"),
            "pretrain": ("params", "tokens_seen", "mix", "train_loss", "val_loss", "sample"),
            "sft": ("train_rows", "supervised_fraction", "val_loss"),
            "reward_model": ("pairs", "pairwise_accuracy", "train_pairwise_accuracy", "example_pair",
                             "sampling_seconds"),
            "dpo": ("win_rate_vs_sft", "accuracy", "sft_accuracy", "judged_problems", "samples_per_problem",
                    "train_pairs", "val_loss")}[stage]
    out = {k: m[k] for k in keep}
    if stage == "sft":
        out["val_loss_before"] = m["evals"][0]["val"]
    return out


def write(run, preset, load=None):
    """Write RUN/report.json and RUN/report.md from the finished stages; returns the report."""
    run = Path(run)
    (run / "plots").mkdir(exist_ok=True)
    stages = {}
    for stage in STAGES:
        if stage == "rl":
            summary, seconds, timing, runs = rl_summary(run)
            stages[stage] = {"metrics": {**summary, **timing}, "seconds": seconds, "config": runs[0]["config"],
                             "eval_config": runs[0]["eval_config"]}
            for r in runs:
                shutil.copyfile(run / "rl" / f"seed-{r['seed']}" / "reward.png",
                                run / "plots" / f"rl_reward_seed{r['seed']}.png")
            continue
        m = read_json(finished(run, stage) / "metrics.json")
        stages[stage] = {"metrics": headline(stage, m), "seconds": m["seconds"], "config": m["config"]}
        for name in PLOTS.get(stage, []):
            shutil.copyfile(run / stage / name, run / "plots" / f"{stage}_{name}")
    rl = stages["rl"]["metrics"]
    plots.bars({task: {"SFT": row["pass@1"]["sft"], "RL (mean over seeds)": row["pass@1"]["rl_mean"]}
                for task, row in rl["tasks"].items()}, run / "plots" / "rl_pass_at_1.png",
               "held-out pass@1 (temperature 1) before and after RL", "pass@1")
    report = {"preset": preset, "machine": machine(), "load_average": load,
              "total_seconds": sum(s["seconds"] for s in stages.values()), "stages": stages}
    write_json(run / "report.json", report)
    write_text(run / "report.md", markdown(report))
    return report


def _pct(x):
    return f"{100 * x:.1f} %"


def markdown(report):
    s = report["stages"]
    rl = s["rl"]["metrics"]
    add = rl["tasks"].get("addition")
    k = add["samples"] if add else None
    lines = [f"# State of GPT on tinytorch: `{report['preset']}` report card", "",
             f"`python -m tinytorch.models.chat speedrun --preset {report['preset']} --out RUN` (or the stages one by "
             "one); every number below is in report.json, every stage's full metrics in RUN/<stage>/metrics.json.", "",
             f"Machine: {report['machine']['processor']}, {report['machine']['cpus']} CPUs, "
             f"{report['machine']['platform']}, Python {report['machine']['python']}."]
    if report.get("load_average"):
        lines.append(f"1-minute load average at the start and end of the run: {report['load_average']} "
                     "(other jobs shared the machine when it is above the CPU count; the times include that).")
    lines += ["", "| stage | wall time | headline |", "|---|---|---|"]
    pre, rm, dpo = s["pretrain"]["metrics"], s["reward_model"]["metrics"], s["dpo"]["metrics"]
    heads = {
        "tokenizer": f"vocab {s['tokenizer']['metrics']['vocab_size']} (9 special tokens)",
        "pretrain": f"{pre['params']:,} params, {pre['tokens_seen']:,} tokens; val loss {pre['val_loss']:.3f}",
        "sft": f"val loss on assistant tokens {s['sft']['metrics']['val_loss_before']:.3f} -> "
               f"{s['sft']['metrics']['val_loss']:.3f}",
        "reward_model": f"held-out pairwise accuracy {_pct(rm['pairwise_accuracy'])} "
                        f"({rm['pairs']['test']['pairs']} pairs)",
        "rl": (f"addition pass@1 {_pct(add['pass@1']['sft'])} (SFT) -> {_pct(add['pass@1']['rl_mean'])} "
               f"± {_pct(add['pass@1']['rl_std'])} (RL, {len(rl['seeds'])} seeds)") if add else "",
        "dpo": f"win rate vs SFT {_pct(dpo['win_rate_vs_sft'])}",
    }
    for stage in STAGES:
        lines.append(f"| {stage} | {s[stage]['seconds']:.0f} s | {heads[stage]} |")
    lines += ["", f"Total: {report['total_seconds'] / 60:.1f} minutes.", "",
              "## Pretraining", "",
              f"Corpus mix: {pre['mix']}.", "", "![pretraining loss](plots/pretrain_loss.png)", "",
              "Sample of the base model (temperature 0.8):", "", "```", pre["sample"].strip(), "```", "",
              "## SFT", "", "![SFT loss](plots/sft_loss.png)", "",
              "## Reward model", "",
              f"Preference pairs: {rm['pairs']}.", "",
              f"Held-out pairwise accuracy {_pct(rm['pairwise_accuracy'])}, train "
              f"{_pct(rm['train_pairwise_accuracy'])}.", "",
              "![reward model loss](plots/reward_model_loss.png) ![accuracy](plots/reward_model_accuracy.png)", "",
              "## RL", "",
              f"Held-out problems, {k} samples each at temperature 1 (pass@1 = the mean fraction of correct samples). "
              f"Seeds: {rl['seeds']}.", "",
              "| task | pass@1 SFT | pass@1 RL (mean ± sd) | per seed | pass@k SFT | pass@k RL |", "|---|---|---|---|---|---|"]
    for task, row in rl["tasks"].items():
        p1, pk = row["pass@1"], row[f"pass@{row['samples']}"]
        lines.append(f"| {task} | {_pct(p1['sft'])} | {_pct(p1['rl_mean'])} ± {_pct(p1['rl_std'])} | "
                     f"{', '.join(_pct(x) for x in p1['rl_per_seed'])} | {_pct(pk['sft'])} | "
                     f"{_pct(pk['rl_mean'])} ± {_pct(pk['rl_std'])} |")
    lines += ["", "![pass@1](plots/rl_pass_at_1.png)", ""]
    lines += [f"![RL reward, seed {seed}](plots/rl_reward_seed{seed}.png)" for seed in rl["seeds"]]
    lines += ["", "## DPO", "",
              f"Win rate against the SFT model {_pct(dpo['win_rate_vs_sft'])} on {dpo['judged_problems']} held-out "
              f"problems × {dpo['samples_per_problem']} samples (exact-match judge, ties half); accuracy "
              f"{_pct(dpo['sft_accuracy'])} (SFT) -> {_pct(dpo['accuracy'])} (DPO).", "",
              "![DPO loss](plots/dpo_loss.png)", ""]
    return "\n".join(lines)
