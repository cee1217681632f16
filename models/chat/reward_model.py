"""The reward model: the SFT model's GPT trunk with a scalar head, trained on preference pairs with the
Bradley-Terry loss (losses.bradley_terry_loss).

    score(conversation) = head(h_last),   h_last = the trunk's final hidden state (after ln_f) at the
                                          conversation's last token (its <|assistant_end|>)

The trunk starts from the SFT weights and the head from zero (so every pair starts at loss ln 2). Pairs
come from preferences.py: train-split prompts for training, test-split prompts for the held-out pairwise
accuracy, the fraction of pairs whose chosen reply scores higher.
"""
import dataclasses
import time

import tinytorch
from tinytorch import nn
from tinytorch.models.gpt import GPT

from . import corpus, plots
from .losses import bradley_terry_loss, pad_rows
from .preferences import sample_pairs, train_on_pairs
from .presets import as_dict
from .run_folder import (finished, load_gpt, load_state, load_tokenizer, read_json, save_model, stage_folder,
                         write_json)

PAIRS = "pairs.json"


class RewardModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.gpt = GPT(config)
        self.head = nn.Linear(config.n_embd, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, idx, lengths):
        """Scores (B,) of the rows of idx (B, T), each `lengths[b]` tokens long (then padding)."""
        h = self.gpt.hidden_states(idx)
        B, _, C = h.shape
        last = (lengths - 1).view(B, 1, 1).expand(B, 1, C)
        return self.head(h.gather(1, last)).view(B)

    @classmethod
    def from_gpt(cls, gpt):
        model = cls(gpt.config)
        model.gpt.load_state_dict(dict(gpt.named_parameters()))
        return model

    @classmethod
    def load(cls, folder):
        config, params = load_state(folder)
        model = cls(config)
        model.gpt.load_state_dict({k[len("gpt."):]: v for k, v in params.items() if k.startswith("gpt.")})
        model.head.load_state_dict({k[len("head."):]: v for k, v in params.items() if k.startswith("head.")})
        return model.eval()


def score(model, sequences, pad):
    """Scores (B,) of full token sequences (prompt and reply)."""
    ids, _ = pad_rows(sequences, [[1] * len(s) for s in sequences], pad)
    lengths = tinytorch.tensor([len(s) for s in sequences], dtype=tinytorch.long)
    return model(tinytorch.from_numpy(ids), lengths)


def pair_scores(model, pairs, pad):
    """(chosen scores, rejected scores) of a batch of pairs, in one forward pass."""
    rows = [p["prompt"] + p["chosen"] for p in pairs] + [p["prompt"] + p["rejected"] for p in pairs]
    scores = score(model, rows, pad)
    return scores[:len(pairs)], scores[len(pairs):]


@tinytorch.no_grad()
def pairwise_accuracy(model, pairs, pad, batch_size=32):
    """Fraction of pairs whose chosen reply scores higher (ties count half)."""
    model.eval()
    wins = 0.0
    for i in range(0, len(pairs), batch_size):
        chosen, rejected = pair_scores(model, pairs[i:i + batch_size], pad)
        diff = (chosen - rejected).numpy()
        wins += float((diff > 0).sum() + 0.5 * (diff == 0).sum())
    model.train()
    return wins / max(1, len(pairs))


def run(run_dir, config, eval_config, overwrite=False, progress=True):
    started = time.perf_counter()
    out = stage_folder(run_dir, "reward_model", overwrite)
    tokenizer = load_tokenizer(run_dir)
    sft = load_gpt(finished(run_dir, "sft"))
    tasks = corpus.tasks()
    sampling = dataclasses.replace(eval_config, samples=config.samples)
    train_pairs, train_stats = sample_pairs(sft, tokenizer, tasks, "train", config.train_prompts, sampling,
                                            config.seed, progress, desc="pairs (train prompts)")
    test_pairs, test_stats = sample_pairs(sft, tokenizer, tasks, "test", config.test_prompts, sampling,
                                          config.seed + 1, progress, desc="pairs (test prompts)")
    write_json(out / PAIRS, {"train": train_pairs, "test": test_pairs})
    if not train_pairs or not test_pairs:
        raise ValueError("reward model: the SFT model's samples gave no preference pairs; train it longer")
    sampled_seconds = time.perf_counter() - started
    tinytorch.manual_seed(config.seed)
    model = RewardModel.from_gpt(sft).train()
    pad = tokenizer.assistant_end

    def accuracies():
        return {"train": pairwise_accuracy(model, train_pairs, pad), "val": pairwise_accuracy(model, test_pairs, pad)}
    log = train_on_pairs(model, train_pairs, config, lambda batch: bradley_terry_loss(*pair_scores(model, batch, pad)),
                         accuracies, {"step_loss": [], "evals": [{"step": 0, **accuracies()}]}, "reward model",
                         progress)
    save_model(out, model.eval())
    plots.losses(log["step_loss"], [], out / "loss.png", "reward model: Bradley-Terry loss")
    plots.curves({split: ([e["step"] for e in log["evals"]], [e[split] for e in log["evals"]])
                  for split in ("train", "val")}, out / "accuracy.png",
                 "reward model: pairwise accuracy (val = held-out pairs)", "step", "accuracy")
    metrics = {"pairs": {"train": train_stats, "test": test_stats},
               "pairwise_accuracy": log["evals"][-1]["val"], "train_pairwise_accuracy": log["evals"][-1]["train"],
               "example_pair": {k: test_pairs[0][k] for k in ("question", "chosen_text", "rejected_text")},
               **log, "sampling_seconds": sampled_seconds, "seconds": time.perf_counter() - started,
               "config": as_dict(config)}
    write_json(out / "metrics.json", metrics)
    return metrics


def load(run_dir):
    return RewardModel.load(finished(run_dir, "reward_model"))


def read_pairs(run_dir):
    """{"train": [...], "test": [...]}: the preference pairs the reward-model stage sampled."""
    return read_json(finished(run_dir, "reward_model") / PAIRS)
