"""WaveNetConv (models/wavenet_conv.py) against its oracles: the lecture's tree WaveNet on the same
weights (eval mode: the logits at every position equal the tree's on that position's 8-character
window, and the losses agree; from one seed both draw the same weights) and its PyTorch twin
(tests/twins/makemore.py: training-mode logits, BatchNorm running statistics and every parameter
gradient). Training-mode numbers differ from the tree's by design (BatchNorm's batch statistics
cover other positions), so training is checked only to run and lower the loss."""
import numpy as np
import pytest

import tinytorch as torch
from tinytorch.models.makemore_data import CharVocab, context_examples, lecture_split, read_words, sequence_examples
from tinytorch.models.sampling import fixed_context
from tinytorch.models.wavenet import WaveNet
from tinytorch.models.wavenet_conv import WaveNetConv, pair_weight_to_conv, tree_to_conv_state_dict
from tinytorch.nn import functional as F

LENGTH = 16  # names.txt: longest name 15 characters, plus the start token


@pytest.fixture(scope="module")
def names():
    words = read_words(torch.data.get_path("names.txt"))
    return lecture_split(words).train, CharVocab.from_words(words)


def trained_tree(words, vocab, seed=0):
    """A float64 tree WaveNet whose BatchNorm running statistics moved: three training-mode
    forward passes over context windows of `words`."""
    torch.manual_seed(seed)
    tree = WaveNet(len(vocab)).double()
    X, _ = context_examples(words, vocab, tree.block_size)
    tree.train()
    with torch.no_grad():
        for start in (0, 64, 128):
            tree(X[start:start + 64])
    return tree.eval()


def test_one_seed_draws_the_tree_weights():
    torch.manual_seed(42)
    tree = WaveNet(27)
    torch.manual_seed(42)
    conv = WaveNetConv(27)
    expected = tree_to_conv_state_dict(tree.state_dict())
    assert sum(p.numel() for p in conv.parameters()) == sum(p.numel() for p in tree.parameters()) == 76_579
    assert sorted(conv.state_dict()) == sorted(expected)
    for key, value in conv.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), expected[key].numpy(), err_msg=key)


@pytest.mark.parametrize("dilation", [1, 2, 4])
def test_a_pair_linear_is_a_dilated_conv_with_tap_0_the_older_input(dilation):
    C, H, T = 3, 5, 11
    torch.manual_seed(dilation)
    weight = torch.randn(H, 2 * C, dtype=torch.float64)
    x = torch.randn(2, C, T, dtype=torch.float64)
    pairs = torch.cat((x[:, :, :T - dilation], x[:, :, dilation:]), 1)  # (B, 2C, T - d): [x_{t-d} ; x_t]
    expected = (weight @ pairs).numpy()
    got = F.conv1d(x, pair_weight_to_conv(weight), dilation=dilation).numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-13)


@pytest.mark.parametrize("count", [5, 40])
def test_eval_logits_at_every_position_and_loss_equal_the_trees(names, count):
    words, vocab = names
    tree = trained_tree(words[:200], vocab)
    conv = WaveNetConv.from_tree(tree).eval()
    batch = words[1000:1000 + count]
    X, Y = sequence_examples(batch, vocab, LENGTH)
    with torch.no_grad():
        logits, loss = conv(X, Y)
        per_position = torch.stack([tree(fixed_context(X[:, :t + 1], tree.block_size))[0] for t in range(LENGTH)], 1)
        _, tree_loss = tree(*context_examples(batch, vocab, tree.block_size))
    assert logits.shape == (count, LENGTH, len(vocab)) and logits.dtype == torch.float64
    np.testing.assert_allclose(logits.numpy(), per_position.numpy(), rtol=1e-12, atol=1e-12)
    assert loss.item() == pytest.approx(tree_loss.item(), rel=1e-12)


def test_a_prompt_shorter_than_the_block_is_padded_with_the_boundary_token(names):
    words, vocab = names
    tree = trained_tree(words[:200], vocab, seed=1)
    conv = WaveNetConv.from_tree(tree).eval()
    prompt = torch.tensor([[0, 5, 13], [0, 1, 2]])
    with torch.no_grad():
        np.testing.assert_allclose(conv(prompt)[0][:, -1].numpy(), tree(prompt)[0].numpy(), rtol=1e-12, atol=1e-12)
    start = torch.zeros(3, 1, dtype=torch.long)
    expected = tree.generate(start, 12, generator=torch.Generator().manual_seed(5))
    assert conv.generate(start, 12, generator=torch.Generator().manual_seed(5)).tolist() == expected.tolist()


def test_training_steps_run_and_lower_the_loss(names):
    words, vocab = names
    X, Y = sequence_examples(words[:32], vocab, LENGTH)
    torch.manual_seed(0)
    model = WaveNetConv(len(vocab))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(20):
        _, loss = model(X, Y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert abs(losses[0] - np.log(len(vocab))) < 0.05  # the lecture's init: the head scaled by 0.1
    assert losses[-1] < losses[0] - 0.5


@pytest.mark.torch
def test_training_step_matches_the_torch_twin(names):
    import torch as real
    from twins.makemore import TorchWaveNetConv

    words, vocab = names
    X, Y = sequence_examples(words[:24], vocab, LENGTH)
    torch.manual_seed(3)
    model = WaveNetConv(len(vocab))
    with torch.no_grad():
        for norm in model.norms:  # BatchNorm's affine parameters away from 1 and 0
            norm.weight.copy_(1 + 0.2 * torch.randn(norm.weight.shape))
            norm.bias.copy_(0.2 * torch.randn(norm.bias.shape))
    twin = TorchWaveNetConv(len(vocab))
    twin.load_state_dict({k: real.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    logits, loss = model(X, Y)
    loss.backward()
    expected_logits, expected_loss = twin(real.from_numpy(X.numpy()), real.from_numpy(Y.numpy()))
    expected_loss.backward()
    np.testing.assert_allclose(logits.detach().numpy(), expected_logits.detach().numpy(), rtol=1e-4, atol=1e-5)
    assert loss.item() == pytest.approx(expected_loss.item(), rel=1e-5)
    twin_params = dict(twin.named_parameters())
    for name, param in model.named_parameters():
        np.testing.assert_allclose(param.grad.numpy(), twin_params[name].grad.numpy(), rtol=1e-4, atol=1e-6,
                                   err_msg=name)
    twin_state = twin.state_dict()
    for name, value in model.state_dict().items():
        if "running" in name or "num_batches" in name:
            np.testing.assert_allclose(value.numpy(), twin_state[name].numpy(), rtol=1e-5, atol=1e-6, err_msg=name)
