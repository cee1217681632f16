"""The chat pipeline's four losses against their PyTorch twins (tests/twins/chat.py) on a tiny GPT in
float64, the same weights and the same batches: SFT's masked cross-entropy, Bradley-Terry, the policy
gradient and DPO; the loss and the gradient of every parameter must match torch's."""
import numpy as np
import pytest
import torch

import tinytorch
from tinytorch.models.chat.losses import (bradley_terry_loss, dpo_loss, masked_targets, pad_rows,
                                          policy_gradient_loss, sequence_log_probs, sft_loss)
from tinytorch.models.chat.reward_model import RewardModel
from tinytorch.models.chat.sft import pack
from tinytorch.models.gpt import GPT, GPTConfig
from twins import chat as twin_losses
from twins.gpt import TorchGPT, copy_weights

pytestmark = pytest.mark.torch

CONFIG = GPTConfig(block_size=16, vocab_size=31, n_layer=2, n_head=2, n_embd=16, bias=False)
PAD = 30


def gpt_and_twin(seed):
    tinytorch.manual_seed(seed)
    model = GPT(CONFIG).double()
    return model, copy_weights(TorchGPT(CONFIG), model, torch.float64)


def conversations(rng, n):
    """(ids, mask) pairs shaped like rendered chats: a prompt (mask 0), a reply (mask 1) with an injected
    tool output inside it (mask 0)."""
    out = []
    for _ in range(n):
        prompt, reply, output = (rng.integers(0, PAD, size=rng.integers(2, 5)).tolist() for _ in range(3))
        ids = prompt + reply[:1] + output + reply[1:]
        mask = [0] * len(prompt) + [1] + [0] * len(output) + [1] * (len(reply) - 1)
        out.append((ids, mask))
    return out


def assert_same_gradients(ours, theirs):
    theirs = dict(theirs.named_parameters())
    ours = dict(ours.named_parameters())
    assert ours.keys() == theirs.keys()
    for name, p in ours.items():
        assert p.grad is not None, name
        np.testing.assert_allclose(p.grad.numpy(), theirs[name].grad.numpy(), rtol=1e-7, atol=1e-12, err_msg=name)


def test_sft_masked_loss_and_gradients_match_torch():
    model, twin = gpt_and_twin(0)
    ids, mask = pack(conversations(np.random.default_rng(0), 9), CONFIG.block_size, PAD)
    inputs, targets = masked_targets(ids, mask)
    assert (targets == -1).any() and (targets != -1).any()
    loss = sft_loss(model, tinytorch.from_numpy(inputs), tinytorch.from_numpy(targets))
    t_loss = twin_losses.sft_loss(twin(torch.from_numpy(inputs))[0], torch.from_numpy(targets))
    loss.backward()
    t_loss.backward()
    assert loss.item() == pytest.approx(t_loss.item(), rel=1e-12)
    assert_same_gradients(model, twin)


def test_masked_targets_ignore_exactly_the_unsupervised_tokens():
    ids = np.array([[5, 6, 7, 8, 9]])
    mask = np.array([[0, 1, 0, 1, 1]])
    inputs, targets = masked_targets(ids, mask)
    assert inputs.tolist() == [[5, 6, 7, 8]]
    assert targets.tolist() == [[6, -1, 8, 9]]


def test_bradley_terry_loss_and_gradients_match_torch():
    tinytorch.manual_seed(1)
    model = RewardModel(CONFIG).double()
    with tinytorch.no_grad():
        model.head.weight.copy_(tinytorch.randn(1, CONFIG.n_embd, dtype=tinytorch.float64))
    twin = twin_losses.copy_reward_model(twin_losses.TorchRewardModel(CONFIG), model)
    rng = np.random.default_rng(1)
    rows = [rng.integers(0, PAD, size=rng.integers(3, 12)).tolist() for _ in range(8)]
    ids, _ = pad_rows(rows, [[1] * len(r) for r in rows], PAD)
    lengths = np.array([len(r) for r in rows])
    scores = model(tinytorch.from_numpy(ids), tinytorch.from_numpy(lengths))
    t_scores = twin(torch.from_numpy(ids), torch.from_numpy(lengths))
    np.testing.assert_allclose(scores.detach().numpy(), t_scores.detach().numpy(), rtol=1e-10)
    loss = bradley_terry_loss(scores[:4], scores[4:])
    t_loss = twin_losses.bradley_terry_loss(t_scores[:4], t_scores[4:])
    loss.backward()
    t_loss.backward()
    assert loss.item() == pytest.approx(t_loss.item(), rel=1e-12)
    assert_same_gradients(model, twin)


def test_reward_model_scores_only_read_up_to_each_rows_length():
    tinytorch.manual_seed(2)
    model = RewardModel(CONFIG).double()
    with tinytorch.no_grad():
        model.head.weight.copy_(tinytorch.randn(1, CONFIG.n_embd, dtype=tinytorch.float64))
    row = [3, 4, 5, 6]
    padded = tinytorch.tensor([row + [PAD] * 5, row + [7] * 5])
    scores = model(padded, tinytorch.tensor([4, 4]))
    assert scores[0].item() == pytest.approx(scores[1].item(), rel=1e-12)  # what follows the last token is unseen


def test_policy_gradient_loss_and_gradients_match_torch():
    model, twin = gpt_and_twin(3)
    rng = np.random.default_rng(3)
    rollouts = conversations(rng, 6)
    ids, mask = pad_rows([r[0] for r in rollouts], [r[1] for r in rollouts], PAD)
    inputs, targets = masked_targets(ids, mask)
    rewards = np.array([1.0, 0.0, 1.0, 0.0, 0.0, 1.0])
    advantages = rewards - rewards.mean()
    loss = policy_gradient_loss(model(tinytorch.from_numpy(inputs))[0], tinytorch.from_numpy(targets),
                                tinytorch.from_numpy(advantages))
    t_loss = twin_losses.policy_gradient_loss(twin(torch.from_numpy(inputs))[0], torch.from_numpy(targets),
                                              torch.from_numpy(advantages))
    loss.backward()
    t_loss.backward()
    assert loss.item() == pytest.approx(t_loss.item(), rel=1e-10)
    assert_same_gradients(model, twin)


def test_policy_gradient_is_zero_when_every_sample_did_equally_well():
    model, _ = gpt_and_twin(4)
    ids, mask = pad_rows(*zip(*conversations(np.random.default_rng(4), 3)), PAD)
    inputs, targets = masked_targets(ids, mask)
    loss = policy_gradient_loss(model(tinytorch.from_numpy(inputs))[0], tinytorch.from_numpy(targets),
                                tinytorch.zeros(3, dtype=tinytorch.float64))
    loss.backward()
    assert all(float(abs(p.grad).max()) == 0.0 for p in model.parameters())


def test_dpo_loss_and_gradients_match_torch():
    policy, twin = gpt_and_twin(5)
    reference, twin_reference = gpt_and_twin(6)
    rng = np.random.default_rng(5)
    chosen, rejected = conversations(rng, 4), conversations(rng, 4)
    ids, mask = pad_rows([c[0] for c in chosen + rejected], [c[1] for c in chosen + rejected], PAD)
    inputs, targets = masked_targets(ids, mask)
    x, y = tinytorch.from_numpy(inputs), tinytorch.from_numpy(targets)
    with tinytorch.no_grad():
        ref = sequence_log_probs(reference(x)[0], y)
    logp = sequence_log_probs(policy(x)[0], y)
    loss = dpo_loss(logp[:4], logp[4:], ref[:4], ref[4:], beta=0.5)
    tx, ty = torch.from_numpy(inputs), torch.from_numpy(targets)
    with torch.no_grad():
        t_ref = twin_losses.token_log_probs(twin_reference(tx)[0], ty).sum(1)
    t_logp = twin_losses.token_log_probs(twin(tx)[0], ty).sum(1)
    t_loss = twin_losses.dpo_loss(t_logp[:4], t_logp[4:], t_ref[:4], t_ref[4:], beta=0.5)
    loss.backward()
    t_loss.backward()
    assert loss.item() == pytest.approx(t_loss.item(), rel=1e-10)
    assert_same_gradients(policy, twin)


def test_dpo_loss_is_log_2_when_the_policy_is_the_reference():
    logp = tinytorch.tensor([-3.0, -1.0])
    assert dpo_loss(logp[:1], logp[1:], logp[:1], logp[1:], beta=0.1).item() == pytest.approx(np.log(2))
