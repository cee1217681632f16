"""DPO: the SFT model trained directly on the reward model's preference pairs, with no reward model.

The policy starts from the SFT weights; the reference is the frozen SFT model, whose log-probabilities
of every chosen and rejected reply are computed once. The loss is losses.dpo_loss (beta sets how far
the implicit reward beta log(pi / ref) may pull the policy from the reference); log pi(y|x) sums the
log-probabilities of the reply's sampled tokens (the calculator's injected output excluded).

Win rate against the SFT model: on held-out problems of every task, the DPO model and the SFT model each
sample replies with the same seeds; a reply wins when it is right and the other's is wrong (the tasks'
exact-match reward is the judge), ties count half.
"""
import time

import tinytorch

from . import corpus, plots
from .engine import Engine
from .evaluate import sample_problem
from .losses import dpo_loss, masked_targets, pad_rows, sequence_log_probs
from .preferences import train_on_pairs
from .presets import as_dict
from .reward_model import read_pairs
from .run_folder import finished, load_gpt, load_tokenizer, save_model, stage_folder, write_json
from .tasks import mixture


def reply_log_probs(model, pairs, pad):
    """(log pi(chosen), log pi(rejected)), each (B,), of a batch of pairs in one forward pass."""
    rows = [p["prompt"] + p["chosen"] for p in pairs] + [p["prompt"] + p["rejected"] for p in pairs]
    masks = [[0] * len(p["prompt"]) + p["chosen_mask"] for p in pairs] + \
            [[0] * len(p["prompt"]) + p["rejected_mask"] for p in pairs]
    inputs, targets = masked_targets(*pad_rows(rows, masks, pad))
    logp = sequence_log_probs(model(tinytorch.from_numpy(inputs))[0], tinytorch.from_numpy(targets))
    return logp[:len(pairs)], logp[len(pairs):]


@tinytorch.no_grad()
def reference_log_probs(reference, pairs, pad, batch_size=32):
    """Adds "ref_chosen" and "ref_rejected" (floats) to each pair."""
    for i in range(0, len(pairs), batch_size):
        batch = pairs[i:i + batch_size]
        chosen, rejected = reply_log_probs(reference, batch, pad)
        for p, c, r in zip(batch, chosen.tolist(), rejected.tolist()):
            p["ref_chosen"], p["ref_rejected"] = c, r


def batch_loss(policy, pairs, pad, beta):
    chosen, rejected = reply_log_probs(policy, pairs, pad)
    ref_chosen = tinytorch.tensor([p["ref_chosen"] for p in pairs])
    ref_rejected = tinytorch.tensor([p["ref_rejected"] for p in pairs])
    return dpo_loss(chosen, rejected, ref_chosen, ref_rejected, beta)


def win_rate(model, baseline, tokenizer, problems, cfg):
    """(win rate of model against baseline, model's accuracy, baseline's accuracy) over cfg.samples
    samples per problem, the same seeds for both."""
    engines = Engine(model, tokenizer), Engine(baseline, tokenizer)
    score, right, right_baseline, n = 0.0, 0.0, 0.0, 0
    for i, problem in enumerate(problems):
        ours, theirs = (sample_problem(engine, problem, cfg, seed=cfg.seed + i)[2] for engine in engines)
        for a, b in zip(ours, theirs):
            score += 1.0 if a > b else 0.5 if a == b else 0.0
            right, right_baseline, n = right + a, right_baseline + b, n + 1
    return score / n, right / n, right_baseline / n


def run(run_dir, config, eval_config, overwrite=False, progress=True):
    started = time.perf_counter()
    out = stage_folder(run_dir, "dpo", overwrite)
    tokenizer = load_tokenizer(run_dir)
    pairs = read_pairs(run_dir)
    sft_folder = finished(run_dir, "sft")
    reference = load_gpt(sft_folder)
    pad = tokenizer.assistant_end
    for split in ("train", "test"):
        reference_log_probs(reference, pairs[split], pad)
    tinytorch.manual_seed(config.seed)
    policy = load_gpt(sft_folder).train()

    def held_out():
        with tinytorch.no_grad():
            return {"val": batch_loss(policy, pairs["test"], pad, config.beta).item()}
    log = train_on_pairs(policy, pairs["train"], config, lambda batch: batch_loss(policy, batch, pad, config.beta),
                         held_out, {"step_loss": [], "evals": []}, "dpo", progress)
    policy.eval()
    save_model(out, policy)
    problems = mixture(corpus.tasks(), "test", config.win_problems, config.seed)
    rate, accuracy, sft_accuracy = win_rate(policy, reference, tokenizer, problems, eval_config)
    plots.losses(log["step_loss"], log["evals"], out / "loss.png", "DPO loss (val = held-out pairs)",
                 ylabel="DPO loss")
    metrics = {"win_rate_vs_sft": rate, "accuracy": accuracy, "sft_accuracy": sft_accuracy,
               "judged_problems": len(problems), "samples_per_problem": eval_config.samples,
               "train_pairs": len(pairs["train"]), "val_loss": log["evals"][-1]["val"], **log,
               "seconds": time.perf_counter() - started, "config": as_dict(config)}
    write_json(out / "metrics.json", metrics)
    return metrics
