"""nn.NLLLoss, the module form of F.nll_loss, against torch's: one row per form of its options, and
the way PyTorch's word_language_model example uses it with Tensor.narrow."""
import numpy as np
import pytest

from harness import run_both

RNG = np.random.default_rng(0)
LOG_PROBS = RNG.standard_normal((6, 4))
LOG_PROBS -= np.log(np.exp(LOG_PROBS).sum(1, keepdims=True))
TARGETS = np.array([0, 3, 1, 2, 2, 1])
WEIGHT = np.array([0.5, 1.0, 2.0, 0.25])
TOKENS = RNG.integers(0, 10, 53)

ROWS = {  # name: (constructor arguments, targets)
    "mean": ({}, TARGETS),
    "sum": ({"reduction": "sum"}, TARGETS),
    "none": ({"reduction": "none"}, TARGETS),
    "weight": ({"weight": WEIGHT}, TARGETS),
    "ignore_index": ({"ignore_index": 2}, TARGETS),
    "weight_ignore_none": ({"weight": WEIGHT, "ignore_index": 1, "reduction": "none"}, TARGETS),
    "legacy_size_average": ({"size_average": False}, TARGETS),
    "spatial": ({}, np.array([[0, 1], [3, 3], [2, 0]])),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", ROWS)
def test_nll_loss_module_matches_torch(name):
    options, targets = ROWS[name]

    def loss_and_gradient(m):
        kwargs = {k: m.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
        loss_fn = m.nn.NLLLoss(**kwargs)
        x = m.tensor(LOG_PROBS if targets.ndim == 1 else LOG_PROBS.reshape(3, 2, 4).transpose(0, 2, 1).copy(),
                     requires_grad=True)
        loss = loss_fn(x, m.tensor(targets))
        (loss * m.tensor(np.cos(np.arange(loss.numel())).reshape(tuple(loss.shape)))).sum().backward()
        return loss, x.grad, repr(loss_fn).replace("torch", "tinytorch"), list(loss_fn.state_dict())
    run_both(loss_and_gradient)


@pytest.mark.torch
def test_word_language_model_batching_and_loss():
    """batchify (narrow, view, t, contiguous), get_batch (slices), log_softmax and NLLLoss, as the example."""
    def train_step(m):
        data = m.tensor(TOKENS)
        nbatch = data.size(0) // 4
        batches = data.narrow(0, 0, nbatch * 4).view(4, -1).t().contiguous()
        source, target = batches[0:5], batches[1:6].reshape(-1)
        m.manual_seed(0)
        model = m.nn.Sequential(m.nn.Embedding(10, 8), m.nn.Linear(8, 10)).double()
        output = m.nn.functional.log_softmax(model(source), dim=-1)
        loss = m.nn.NLLLoss()(output.view(-1, 10), target)
        loss.backward()
        return batches, loss, model[1].weight.grad
    run_both(train_step)
