"""The settings of every stage, per preset: `smoke` (the whole pipeline in about a minute, to check it runs)
and `tiny` (under 20 minutes with three RL seeds on a 2-core box; see docs/chat.md for what it shows).

The pretraining recipe is models/gpt's TrainConfig (AdamW, warmup then cosine decay); the later stages
start from the previous stage's weights with a smaller learning rate.
"""
from dataclasses import asdict, dataclass, field

from .tasks import CALCULATOR_EMPHASIS


@dataclass
class TokenizerConfig:
    vocab_size: int = 2048
    task_chars: int = 2_200_000  # generated task text in the corpus (characters); corpus.py
    seed: int = 0


@dataclass
class PretrainConfig:
    model: dict = field(default_factory=lambda: dict(n_layer=4, n_head=4, n_embd=128, block_size=96, bias=False))
    train: dict = field(default_factory=lambda: dict(batch_size=12, max_iters=3000, learning_rate=2e-3, min_lr=2e-4,
                                                     warmup_iters=20, beta2=0.99, eval_interval=500, eval_iters=10,
                                                     sample_tokens=0, seed=1337))


@dataclass
class SFTConfig:
    steps: int = 100
    batch_size: int = 12          # packed rows of block_size tokens
    task_weights: dict = field(default_factory=lambda: dict(CALCULATOR_EMPHASIS))  # problems per turn; others 1
    learning_rate: float = 1.5e-3
    min_lr: float = 1e-4
    warmup_iters: int = 20
    eval_interval: int = 50
    val_conversations: int = 150  # test-split conversations for the validation loss
    seed: int = 0


@dataclass
class EvalConfig:
    tasks: tuple = ("addition", "subtraction", "count", "reverse", "sort")
    problems: int = 64            # held-out problems per task
    samples: int = 8              # k: samples per problem (pass@1 is averaged over them, pass@k)
    temperature: float = 1.0
    top_k: int = 50
    max_tokens: int = 40
    seed: int = 12345


@dataclass
class RewardModelConfig:
    train_prompts: int = 160      # train-split prompts sampled from the SFT model for preference pairs
    test_prompts: int = 64        # test-split prompts: the held-out pairs
    samples: int = 6              # samples per prompt; a pair is (a correct one, an incorrect one)
    epochs: int = 3
    batch_size: int = 16
    learning_rate: float = 3e-4
    seed: int = 0


@dataclass
class RLConfig:
    tasks: tuple = ("addition", "subtraction")
    steps: int = 40
    prompts_per_step: int = 8
    samples: int = 8              # k samples per prompt; advantage = reward - their mean
    learning_rate: float = 5e-5   # linear decay to 0
    reward: str = "task"          # "task" (exact match) or "reward-model" (RLHF, with a KL penalty)
    kl_coef: float = 0.05         # RLHF only: reward - kl_coef * sum_t log(pi / pi_sft) of the sample
    seeds: tuple = (0, 1, 2)


@dataclass
class DPOConfig:
    epochs: int = 3
    batch_size: int = 16
    learning_rate: float = 1e-4
    beta: float = 0.1
    win_problems: int = 60        # held-out problems (all tasks) for the win rate against the SFT model
    seed: int = 0


STAGES = ("tokenizer", "pretrain", "sft", "reward_model", "rl", "dpo")


def tiny():
    return {"tokenizer": TokenizerConfig(), "pretrain": PretrainConfig(), "sft": SFTConfig(),
            "reward_model": RewardModelConfig(), "rl": RLConfig(), "dpo": DPOConfig(), "eval": EvalConfig()}


def smoke():
    return {
        "tokenizer": TokenizerConfig(vocab_size=384, task_chars=50_000),
        "pretrain": PretrainConfig(
            model=dict(n_layer=2, n_head=2, n_embd=32, block_size=64, bias=False),
            train=dict(batch_size=8, max_iters=30, learning_rate=3e-3, min_lr=3e-4, warmup_iters=5, beta2=0.99,
                       eval_interval=15, eval_iters=2, sample_tokens=0, seed=1337)),
        "sft": SFTConfig(steps=20, batch_size=8, learning_rate=2e-3, warmup_iters=2, eval_interval=10,
                         val_conversations=16),
        "reward_model": RewardModelConfig(train_prompts=12, test_prompts=6, samples=4, epochs=2, batch_size=4),
        "rl": RLConfig(steps=3, prompts_per_step=2, samples=4, seeds=(0,)),
        "dpo": DPOConfig(epochs=1, batch_size=4, win_problems=6),
        "eval": EvalConfig(problems=6, samples=4, max_tokens=24),
    }


PRESETS = {"smoke": smoke, "tiny": tiny}


def preset(name):
    if name not in PRESETS:
        raise ValueError(f"--preset must be one of {', '.join(PRESETS)}, got {name!r}")
    return PRESETS[name]()


def as_dict(config):
    return asdict(config)
