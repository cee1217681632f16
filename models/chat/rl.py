"""Reinforcement learning on the verifiable tasks, as nanochat's chat_rl does it.

Each step takes `prompts_per_step` train-split problems; for each, the current policy samples k replies
through the engine (temperature 1, the calculator on), and each reply gets a reward: 1 if its final
answer is right, else 0 (`reward="task"`). The advantage of a reply is its reward minus the mean reward
of its prompt's k replies, and the loss is losses.policy_gradient_loss: the advantage-weighted
log-probability of every sampled token (forced calculator tokens and the prompt excluded), divided by
the number of sampled tokens in the step (token-level normalisation). No KL term, no PPO ratio or
clipping: the samples come from the current weights and are used for one step. A prompt whose k
rewards are all equal has zero advantages; it is left out of the step (DAPO's dynamic sampling), and
a step with none left is skipped. The learning rate decays linearly to 0.

RLHF (`reward="reward-model"`): the reward is instead the reward model's score of the reply minus
kl_coef times the sample's log-ratio to the SFT model, sum_t [log pi(y_t) - log pi_sft(y_t)] over its
sampled tokens (a one-sample estimate of KL(pi || pi_sft)), which keeps the policy near the SFT model
where the reward model was trained.

Before and after: pass@1 and pass@k of the SFT model and of the RL model on held-out problems
(evaluate.py, the same samples' seeds for both).
"""
import dataclasses
import json
import time

from tqdm import tqdm

import tinytorch
from tinytorch.nn.utils import clip_grad_norm_

from . import corpus, plots, reward_model
from .engine import Engine
from .evaluate import pass_at_k, sample_problem
from .losses import masked_targets, pad_rows, policy_gradient_loss, sequence_log_probs
from .presets import as_dict
from .run_folder import finished, load_gpt, load_tokenizer, read_json, save_model, stage_folder, write_json
from .tasks import mixture

SFT_EVAL = "sft_eval.json"  # RUN/rl/sft_eval.json: the SFT model's pass@k, shared by the seeds


def run(run_dir, config, eval_config, seed=0, overwrite=False, progress=True):
    started = time.perf_counter()
    out = stage_folder(run_dir, f"rl/seed-{seed}", overwrite)
    tokenizer = load_tokenizer(run_dir)
    sft_folder = finished(run_dir, "sft")
    tasks = corpus.tasks()
    before = sft_evaluation(run_dir, load_gpt(sft_folder), tokenizer, tasks, config, eval_config)
    tinytorch.manual_seed(seed)
    policy = load_gpt(sft_folder).train()
    judge = RewardModelJudge(run_dir, sft_folder, config.kl_coef) if config.reward == "reward-model" else None
    optimizer = tinytorch.optim.AdamW(policy.parameters(), lr=config.learning_rate, betas=(0.9, 0.95),
                                      weight_decay=0.0)
    engine = Engine(policy, tokenizer)
    rollout = dataclasses.replace(eval_config, samples=config.samples)
    pool = {name: tasks[name] for name in config.tasks}
    problems = mixture(pool, "train", config.steps * config.prompts_per_step, seed)
    log = {"reward": [], "loss": [], "used_prompts": []}
    for step in tqdm(range(config.steps), desc=f"rl seed {seed}", disable=not progress, dynamic_ncols=True):
        rows, masks, advantages, step_rewards = [], [], [], []
        for j, problem in enumerate(problems[step * config.prompts_per_step:(step + 1) * config.prompts_per_step]):
            sequences, sample_masks, rewards, _ = sample_problem(engine, problem, rollout,
                                                                 seed=(seed * 1_000_003 + step) * 64 + j)
            step_rewards += rewards
            if judge is not None:
                rewards = judge.rewards(policy, sequences, sample_masks, tokenizer.assistant_end)
            mean = sum(rewards) / len(rewards)
            if any(r != mean for r in rewards):
                rows += sequences
                masks += sample_masks
                advantages += [r - mean for r in rewards]
        log["reward"].append(sum(step_rewards) / len(step_rewards))
        log["used_prompts"].append(len(rows) // config.samples)
        if not rows:
            log["loss"].append(0.0)
            continue
        for group in optimizer.param_groups:
            group["lr"] = config.learning_rate * (1 - step / config.steps)
        inputs, targets = masked_targets(*pad_rows(rows, masks, tokenizer.assistant_end))
        logits = policy(tinytorch.from_numpy(inputs))[0]
        loss = policy_gradient_loss(logits, tinytorch.from_numpy(targets), tinytorch.tensor(advantages))
        loss.backward()
        clip_grad_norm_(list(policy.parameters()), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        log["loss"].append(loss.item())
    after = pass_at_k(policy.eval(), tokenizer, tasks, eval_config, config.tasks)
    save_model(out, policy)
    steps = list(range(1, config.steps + 1))
    plots.curves({"mean reward of the step's samples": (steps, log["reward"])}, out / "reward.png",
                 f"RL (seed {seed}): training reward", "step", "reward")
    metrics = {"seed": seed, "before": before, "after": after, **log, "seconds": time.perf_counter() - started,
               "config": as_dict(config), "eval_config": as_dict(eval_config)}
    write_json(out / "metrics.json", metrics)
    return metrics


def sft_evaluation(run_dir, sft, tokenizer, tasks, config, eval_config):
    """The SFT model's pass@k on the RL tasks, measured once per run folder and evaluation settings."""
    path = finished(run_dir, "sft").parent / "rl" / SFT_EVAL
    settings = json.dumps({"tasks": list(config.tasks), "eval_config": as_dict(eval_config)}, sort_keys=True)
    if path.is_file() and read_json(path)["settings"] == settings:
        return read_json(path)["results"]
    started = time.perf_counter()
    results = pass_at_k(sft, tokenizer, tasks, eval_config, config.tasks)
    write_json(path, {"settings": settings, "results": results, "seconds": time.perf_counter() - started})
    return results


class RewardModelJudge:
    """RLHF rewards: reward-model score minus kl_coef * log(pi / pi_sft) of each sample."""

    def __init__(self, run_dir, sft_folder, kl_coef):
        self.reward_model = reward_model.load(run_dir)
        self.reference = load_gpt(sft_folder)
        self.kl_coef = kl_coef

    @tinytorch.no_grad()
    def rewards(self, policy, sequences, masks, pad):
        scores = reward_model.score(self.reward_model, sequences, pad)
        inputs, targets = (tinytorch.from_numpy(a) for a in masked_targets(*pad_rows(sequences, masks, pad)))
        log_ratio = sequence_log_probs(policy(inputs)[0], targets) - sequence_log_probs(self.reference(inputs)[0], targets)
        return (scores - self.kl_coef * log_ratio).tolist()
