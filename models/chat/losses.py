"""The losses after pretraining, with their gradients: SFT, Bradley-Terry, policy gradient, DPO.

Notation: z_t are the logits at position t, p_t = softmax(z_t), y_t the target token, m_t in {0, 1} the
mask (1 where the token is the assistant's own: sampled or supervised; 0 on prompts, padding and the
calculator's injected output). Targets with m_t = 0 are stored as -1 (ignore_index) and count nowhere.
sigma is the logistic function; log sigma(u) = min(u, 0) - log(1 + exp(-|u|)) without overflow, and
d/du log sigma(u) = 1 - sigma(u).

SFT (`sft_loss`), the mean cross-entropy over supervised tokens, N = sum_t m_t:
    L = -(1/N) sum_t m_t log p_t[y_t]            dL/dz_t = m_t (p_t - onehot(y_t)) / N

Bradley-Terry (`bradley_terry_loss`), scores r_c, r_r of the chosen and rejected replies of pair i, and
P(chosen preferred) = sigma(r_c - r_r):
    L = -(1/B) sum_i log sigma(r_c,i - r_r,i)     dL/dr_c,i = -(1 - sigma(r_c,i - r_r,i)) / B = -dL/dr_r,i

Policy gradient (`policy_gradient_loss`, nanochat's on-policy REINFORCE with a group-mean baseline and
token-level normalisation), sample i with advantage A_i = r_i - mean_j r_j over its prompt's samples,
N = number of sampled tokens in the batch:
    L = -(1/N) sum_i A_i sum_t m_it log p_it[y_it]
    dL/dz_it = -(A_i m_it / N) (onehot(y_it) - p_it)
i.e. each sampled token's log-probability is pushed up in proportion to how much better than its
siblings its sample did; there is no KL term and no ratio clipping (the samples come from the current
weights, one step per batch).

DPO (`dpo_loss`), with log pi(y|x) = sum_t m_t log p_t[y_t] for the policy and the frozen reference, and
u_i = beta [(log pi(y_c) - log ref(y_c)) - (log pi(y_r) - log ref(y_r))]:
    L = -(1/B) sum_i log sigma(u_i)
    dL/d log pi(y_c,i) = -beta (1 - sigma(u_i)) / B = -dL/d log pi(y_r,i)
the Bradley-Terry loss with the implicit reward beta log(pi / ref) in place of a reward model.
"""
import numpy as np

import tinytorch
from tinytorch.nn import functional as F

IGNORE = -1


def masked_targets(ids, mask):
    """(inputs, targets), NumPy int64 (B, T), of rows ids (B, T+1): targets are ids shifted by one, -1
    where mask is 0."""
    targets = np.where(mask[:, 1:] == 1, ids[:, 1:], IGNORE)
    return np.ascontiguousarray(ids[:, :-1], dtype=np.int64), targets.astype(np.int64)


def pad_rows(sequences, masks, pad):
    """(ids, mask), NumPy int64 (B, longest), of token lists padded on the right with `pad` (mask 0)."""
    width = max(map(len, sequences))
    ids = np.full((len(sequences), width), pad, dtype=np.int64)
    mask = np.zeros((len(sequences), width), dtype=np.int64)
    for r, (s, m) in enumerate(zip(sequences, masks)):
        ids[r, :len(s)], mask[r, :len(m)] = s, m
    return ids, mask


def log_sigmoid(u):
    return tinytorch.minimum(u, tinytorch.zeros_like(u)) - (-u.abs()).exp().log1p()


def token_log_probs(logits, targets):
    """log p_t[y_t] (B, T) for each target; 0 where the target is ignored."""
    B, T, V = logits.shape
    nll = F.cross_entropy(logits.reshape(B * T, V), targets.reshape(B * T), ignore_index=IGNORE, reduction="none")
    return -nll.view(B, T)


def sft_loss(model, inputs, targets):
    """Mean cross-entropy of the supervised targets (the GPT's own loss with ignore_index=-1)."""
    return model(inputs, targets)[1]


def bradley_terry_loss(chosen_scores, rejected_scores):
    return -log_sigmoid(chosen_scores - rejected_scores).mean()


def policy_gradient_loss(logits, targets, advantages):
    """logits (B, T, V), targets (B, T) with -1 off the sampled tokens, advantages (B,)."""
    logp = token_log_probs(logits, targets)
    valid = (targets != IGNORE).sum().item()
    return -(logp * advantages.view(-1, 1)).sum() / max(valid, 1)


def sequence_log_probs(logits, targets):
    """log pi(y|x) (B,): the sum of the log-probabilities of each row's non-ignored targets."""
    return token_log_probs(logits, targets).sum(dim=1)


def dpo_loss(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta):
    """Inputs: sequence log-probs (B,) of the chosen and rejected replies under the policy and the reference."""
    margin = (policy_chosen - ref_chosen) - (policy_rejected - ref_rejected)
    return -log_sigmoid(beta * margin).mean()
