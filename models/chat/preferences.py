"""Preference pairs sampled from the SFT model, for the reward model and DPO.

For each prompt (train-split problems of every task in turn, and separately test-split ones for the
held-out pairs), the SFT model samples k replies through the engine (temperature 1, the calculator on);
the task's reward marks each correct or not. A prompt with at least one correct and one incorrect reply
gives a pair (chosen = the first correct, rejected = the first incorrect). When no sample is correct,
the task's worked reply is the chosen one (counted as `gold_chosen` in the metrics), so the pairs do not
depend only on what a small SFT model already gets right.

A pair keeps token ids and masks: `prompt` (ending with <|assistant_start|>), and for each reply its
tokens after the prompt with their mask (1 = sampled by the model, 0 = injected calculator output).
"""
import random

from tqdm import tqdm

import tinytorch

from .engine import Engine
from .evaluate import sample_problem
from .tasks import mixture


def sample_pairs(model, tokenizer, tasks, split, n_prompts, cfg, seed, progress=True, desc="pairs"):
    """(pairs, stats) from n_prompts problems of `split`."""
    engine = Engine(model, tokenizer)
    pairs, stats = [], {"prompts": n_prompts, "all_correct": 0, "gold_chosen": 0}
    for i, problem in enumerate(tqdm(mixture(tasks, split, n_prompts, seed), desc=desc, disable=not progress,
                                     dynamic_ncols=True)):
        prompt = tokenizer.render_for_completion(problem.prompt())
        sequences, masks, rewards, replies = sample_problem(engine, problem, cfg, seed=seed * 100_003 + i)
        wrong = [j for j, r in enumerate(rewards) if r == 0]
        right = [j for j, r in enumerate(rewards) if r == 1]
        if not wrong:
            stats["all_correct"] += 1
            continue
        rejected = (sequences[wrong[0]][len(prompt):], masks[wrong[0]][len(prompt):], replies[wrong[0]])
        if right:
            chosen = (sequences[right[0]][len(prompt):], masks[right[0]][len(prompt):], replies[right[0]])
        else:
            ids, mask = tokenizer.render_conversation(problem.conversation())
            if len(ids) > model.config.block_size:
                continue
            chosen = (ids[len(prompt):], mask[len(prompt):], tokenizer.decode(ids[len(prompt):-1]))
            stats["gold_chosen"] += 1
        pairs.append({"task": problem.task, "question": problem.question, "answer": problem.answer,
                      "prompt": prompt, "chosen": chosen[0], "chosen_mask": chosen[1], "chosen_text": chosen[2],
                      "rejected": rejected[0], "rejected_mask": rejected[1], "rejected_text": rejected[2]})
    stats["pairs"] = len(pairs)
    return pairs, stats


def train_on_pairs(model, pairs, config, batch_loss, evaluate, log, desc, progress=True):
    """The reward model's and DPO's training loop: AdamW (lr config.learning_rate, betas (0.9, 0.95), no
    weight decay) over config.epochs passes of the pairs, shuffled each pass with random.Random(config.seed),
    in batches of config.batch_size (a last partial batch dropped). batch_loss(batch) is a step's loss,
    appended to log["step_loss"]; after each pass, log["evals"] gets {"step": steps so far, **evaluate()}."""
    optimizer = tinytorch.optim.AdamW(model.parameters(), lr=config.learning_rate, betas=(0.9, 0.95),
                                      weight_decay=0.0)
    rng = random.Random(config.seed)
    steps_per_epoch = max(1, len(pairs) // config.batch_size)
    bar = tqdm(total=config.epochs * steps_per_epoch, desc=desc, disable=not progress, dynamic_ncols=True)
    for _ in range(config.epochs):
        order = rng.sample(pairs, len(pairs))
        for i in range(steps_per_epoch):
            loss = batch_loss(order[i * config.batch_size:(i + 1) * config.batch_size])
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            log["step_loss"].append(loss.item())
            bar.update(1)
            bar.set_postfix_str(f"loss {loss.item():.3f}", refresh=False)
        log["evals"].append({"step": len(log["step_loss"]), **evaluate()})
    bar.close()
    return log
