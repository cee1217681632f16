"""PyTorch twins of the chat pipeline's models and losses (models/chat/losses.py, reward_model.py), written
the obvious way with torch.nn.functional: the oracle of tests/test_models_chat_losses.py."""
import numpy as np
import torch
from torch.nn import functional as F

from twins.gpt import TorchGPT, copy_weights


def hidden_states(twin, idx):
    """The twin GPT's final-LayerNorm output (B, T, C)."""
    pos = torch.arange(idx.size(1))
    x = twin.transformer.drop(twin.transformer.wte(idx) + twin.transformer.wpe(pos))
    for block in twin.transformer.h:
        x = block(x)
    return twin.transformer.ln_f(x)


class TorchRewardModel(torch.nn.Module):
    def __init__(self, config):
        super().__init__()
        self.gpt = TorchGPT(config)
        self.head = torch.nn.Linear(config.n_embd, 1)

    def forward(self, idx, lengths):
        h = hidden_states(self.gpt, idx)
        return self.head(h[torch.arange(idx.size(0)), lengths - 1]).squeeze(-1)


def copy_reward_model(twin, model):
    """Copy a tinytorch RewardModel's parameters into the twin, in float64."""
    twin = twin.double()
    copy_weights(twin.gpt, model.gpt, torch.float64)
    with torch.no_grad():
        for name, p in twin.head.named_parameters():
            p.copy_(torch.from_numpy(getattr(model.head, name).detach().numpy().astype(np.float64)))
    return twin


def token_log_probs(logits, targets):
    B, T, V = logits.shape
    return -F.cross_entropy(logits.reshape(B * T, V), targets.reshape(B * T), ignore_index=-1,
                            reduction="none").view(B, T)


def sft_loss(logits, targets):
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-1)


def bradley_terry_loss(chosen, rejected):
    return -F.logsigmoid(chosen - rejected).mean()


def policy_gradient_loss(logits, targets, advantages):
    logp = token_log_probs(logits, targets)
    return -(logp * advantages[:, None]).sum() / (targets != -1).sum()


def dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta):
    return -F.logsigmoid(beta * ((policy_chosen - ref_chosen) - (policy_rejected - ref_rejected))).mean()
