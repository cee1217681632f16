"""Lecture 5, "becoming a backprop ninja": the MLP with BatchNorm, with every gradient by hand.

The network (batch n, block 3, embedding e, hidden h, vocabulary V):

    emb = C[X] (n, 3, e) -> embcat (n, 3e) -> hprebn = embcat @ W1 + b1 (n, h)
    BatchNorm with Bessel's variance:  bnraw = (hprebn - mean) / sqrt(var_{n-1} + 1e-5)
    hpreact = bngain * bnraw + bnbias -> h = tanh(hpreact) -> logits = h @ W2 + b2 (n, V)
    loss = mean over the batch of -log softmax(logits)[target]

`forward_steps` is the lecture's exercise-1 forward, one small op per line, returning every
intermediate; `backward_steps` differentiates each of those lines by hand (exercise 1).
`manual_gradients` trains with the closed forms of exercises 2 to 4:

    dlogits = (softmax(logits) - onehot(y)) / n
    dhprebn = bngain * bnvar_inv / n * (n dhpreact - sum_b dhpreact
                                        - n/(n-1) * bnraw * sum_b(dhpreact * bnraw))

No autograd is used to train: `check_gradients` compares the hand-made gradients with
autograd's, tensor by tensor, in the lecture's `exact | approximate | maxdiff` format.
"""
import tinytorch as torch
from tinytorch import nn
from tinytorch.nn import functional as F
from tinytorch.testing import cmp

from .sampling import Generates, fixed_context

BN_EPS = 1e-5
# Exercise 1 checks these, in this order: every intermediate, then the parameters.
CHECKED = ("logprobs probs counts_sum_inv counts_sum counts norm_logits logit_maxes logits h W2 b2 hpreact "
           "bngain bnbias bnraw bnvar_inv bnvar bndiff2 bndiff bnmeani hprebn embcat W1 b1 emb C").split()


def cross_entropy_and_grad(logits, targets):
    """(mean cross-entropy, its gradient (softmax(logits) - onehot(targets)) / n)."""
    n = targets.shape[0]
    dlogits = F.softmax(logits, dim=1)
    dlogits[torch.arange(n, device=targets.device), targets] -= 1
    return F.cross_entropy(logits, targets), dlogits / n


class BackpropNinjaMLP(Generates, nn.Module):
    """Lecture 5's MLP; hidden 64 for the gradient check, 200 for training (12,297 parameters).

    The init is the lecture's deliberately unusual one (b1, W2, b2 scaled by 0.1, bngain
    1 + 0.1 N(0, 1), bnbias 0.1 N(0, 1)), so that no gradient hides behind a zero. In eval mode
    BatchNorm uses `bnmean`/`bnvar`, set by `calibrate` from the whole training set.
    """

    def __init__(self, vocab_size, block_size=3, n_embd=10, n_hidden=200):
        super().__init__()
        self.vocab_size, self.block_size = vocab_size, block_size
        fan_in = n_embd * block_size
        self.C = nn.Parameter(torch.randn(vocab_size, n_embd))
        self.W1 = nn.Parameter(torch.randn(fan_in, n_hidden) * (5 / 3) / fan_in ** 0.5)
        self.b1 = nn.Parameter(torch.randn(n_hidden) * 0.1)
        self.W2 = nn.Parameter(torch.randn(n_hidden, vocab_size) * 0.1)
        self.b2 = nn.Parameter(torch.randn(vocab_size) * 0.1)
        self.bngain = nn.Parameter(torch.randn(1, n_hidden) * 0.1 + 1.0)
        self.bnbias = nn.Parameter(torch.randn(1, n_hidden) * 0.1)
        self.register_buffer("bnmean", torch.zeros(1, n_hidden))
        self.register_buffer("bnvar", torch.ones(1, n_hidden))

    # ---- the fused forward, used to train, evaluate and sample ---------------------------------
    def _hprebn(self, idx):
        emb = self.C[fixed_context(idx, self.block_size)]
        embcat = emb.view(emb.shape[0], -1)
        return emb, embcat, embcat @ self.W1 + self.b1

    def _fused_forward(self, idx):
        """The intermediates that the closed-form backward needs; batch statistics in training."""
        emb, embcat, hprebn = self._hprebn(idx)
        if self.training:
            mean, var = hprebn.mean(0, keepdim=True), hprebn.var(0, keepdim=True, unbiased=True)
        else:
            mean, var = self.bnmean, self.bnvar
        bnvar_inv = (var + BN_EPS) ** -0.5
        bnraw = (hprebn - mean) * bnvar_inv
        h = (self.bngain * bnraw + self.bnbias).tanh()
        logits = h @ self.W2 + self.b2
        return dict(idx=idx, emb=emb, embcat=embcat, bnvar_inv=bnvar_inv, bnraw=bnraw, h=h, logits=logits)

    def forward(self, idx, targets=None):
        logits = self._fused_forward(idx)["logits"]
        return logits, None if targets is None else F.cross_entropy(logits, targets)

    @torch.no_grad()
    def calibrate(self, idx):
        """BatchNorm's mean and variance (Bessel) over all of `idx`, e.g. the training set."""
        _, _, hprebn = self._hprebn(idx)
        self.bnmean.copy_(hprebn.mean(0, keepdim=True))
        self.bnvar.copy_(hprebn.var(0, keepdim=True, unbiased=True))

    # ---- training without autograd ------------------------------------------------------------
    @torch.no_grad()
    def manual_gradients(self, idx, targets):
        """Forward one batch, set every parameter's `.grad` by the closed forms; return the loss."""
        t = self._fused_forward(idx)
        loss, dlogits = cross_entropy_and_grad(t["logits"], targets)
        grads = self._fused_backward(t, dlogits)
        for name, p in self.named_parameters():
            p.grad = grads[name]
        return loss

    def _fused_backward(self, t, dlogits):
        """Gradients of every parameter from dL/dlogits, through the fused BatchNorm formula."""
        n = dlogits.shape[0]
        h, bnraw, bnvar_inv = t["h"], t["bnraw"], t["bnvar_inv"]
        g = dict(W2=h.T @ dlogits, b2=dlogits.sum(0))
        dhpreact = (1 - h ** 2) * (dlogits @ self.W2.T)
        g["bngain"] = (bnraw * dhpreact).sum(0, keepdim=True)
        g["bnbias"] = dhpreact.sum(0, keepdim=True)
        dhprebn = self.bngain * bnvar_inv / n * (n * dhpreact - dhpreact.sum(0)
                                                  - n / (n - 1) * bnraw * (dhpreact * bnraw).sum(0))
        g["hprebn"] = dhprebn
        g["W1"], g["b1"] = t["embcat"].T @ dhprebn, dhprebn.sum(0)
        demb = (dhprebn @ self.W1.T).view(t["emb"].shape)
        g["C"] = self._embedding_backward(t["idx"], demb)
        return g

    def _embedding_backward(self, idx, demb):
        """dC[v] = sum of demb at every position where the context holds token v."""
        rows = F.one_hot(fixed_context(idx, self.block_size).reshape(-1), self.vocab_size).to(demb.dtype)
        return rows.T @ demb.reshape(rows.shape[0], -1)

    # ---- exercise 1: the forward as small steps, and their backward by hand ---------------------
    def forward_steps(self, idx, targets):
        """The training forward, one op per line; returns {name: tensor} of the intermediates."""
        t = {}
        n = targets.shape[0]
        t["emb"] = self.C[fixed_context(idx, self.block_size)]
        t["embcat"] = t["emb"].view(n, -1)
        t["hprebn"] = t["embcat"] @ self.W1 + self.b1
        t["bnmeani"] = 1 / n * t["hprebn"].sum(0, keepdim=True)
        t["bndiff"] = t["hprebn"] - t["bnmeani"]
        t["bndiff2"] = t["bndiff"] ** 2
        t["bnvar"] = 1 / (n - 1) * t["bndiff2"].sum(0, keepdim=True)
        t["bnvar_inv"] = (t["bnvar"] + BN_EPS) ** -0.5
        t["bnraw"] = t["bndiff"] * t["bnvar_inv"]
        t["hpreact"] = self.bngain * t["bnraw"] + self.bnbias
        t["h"] = t["hpreact"].tanh()
        t["logits"] = t["h"] @ self.W2 + self.b2
        t["logit_maxes"] = t["logits"].max(1, keepdim=True).values
        t["norm_logits"] = t["logits"] - t["logit_maxes"]
        t["counts"] = t["norm_logits"].exp()
        t["counts_sum"] = t["counts"].sum(1, keepdim=True)
        t["counts_sum_inv"] = t["counts_sum"] ** -1
        t["probs"] = t["counts"] * t["counts_sum_inv"]
        t["logprobs"] = t["probs"].log()
        t["loss"] = -t["logprobs"][torch.arange(n, device=targets.device), targets].mean()
        return t

    @torch.no_grad()
    def backward_steps(self, t, idx, targets):
        """d loss / d(every tensor of `forward_steps`), each line the chain rule of one op."""
        n = targets.shape[0]
        rows = torch.arange(n, device=targets.device)
        d = {}
        d["logprobs"] = torch.zeros_like(t["logprobs"])
        d["logprobs"][rows, targets] = -1.0 / n
        d["probs"] = d["logprobs"] / t["probs"]
        d["counts_sum_inv"] = (t["counts"] * d["probs"]).sum(1, keepdim=True)
        d["counts_sum"] = -t["counts_sum"] ** -2 * d["counts_sum_inv"]
        d["counts"] = t["counts_sum_inv"] * d["probs"] + d["counts_sum"]
        d["norm_logits"] = t["counts"] * d["counts"]
        d["logit_maxes"] = -d["norm_logits"].sum(1, keepdim=True)
        is_max = F.one_hot(t["logits"].argmax(1), self.vocab_size).to(t["logits"].dtype)
        d["logits"] = d["norm_logits"] + is_max * d["logit_maxes"]
        d["h"] = d["logits"] @ self.W2.T
        d["W2"] = t["h"].T @ d["logits"]
        d["b2"] = d["logits"].sum(0)
        d["hpreact"] = (1 - t["h"] ** 2) * d["h"]
        d["bngain"] = (t["bnraw"] * d["hpreact"]).sum(0, keepdim=True)
        d["bnbias"] = d["hpreact"].sum(0, keepdim=True)
        d["bnraw"] = self.bngain * d["hpreact"]
        d["bnvar_inv"] = (t["bndiff"] * d["bnraw"]).sum(0, keepdim=True)
        d["bnvar"] = -0.5 * (t["bnvar"] + BN_EPS) ** -1.5 * d["bnvar_inv"]
        d["bndiff2"] = 1 / (n - 1) * torch.ones_like(t["bndiff2"]) * d["bnvar"]
        d["bndiff"] = t["bnvar_inv"] * d["bnraw"] + 2 * t["bndiff"] * d["bndiff2"]
        d["bnmeani"] = -d["bndiff"].sum(0, keepdim=True)
        d["hprebn"] = d["bndiff"] + 1 / n * torch.ones_like(t["hprebn"]) * d["bnmeani"]
        d["embcat"] = d["hprebn"] @ self.W1.T
        d["W1"] = t["embcat"].T @ d["hprebn"]
        d["b1"] = d["hprebn"].sum(0)
        d["emb"] = d["embcat"].view(t["emb"].shape)
        d["C"] = self._embedding_backward(idx, d["emb"])
        return d


def check_gradients(model, idx, targets):
    """Print and return [(name, exact, approximate, maxdiff)] for every hand-made gradient.

    Exercise 1's 26 tensors, then the fused closed forms of exercises 2 and 3 (`logits`,
    `hprebn`), each against autograd's gradient of the same forward.
    """
    model.train()
    model.zero_grad()
    t = model.forward_steps(idx, targets)
    for name in CHECKED:
        if name in t:
            t[name].retain_grad()
    t["loss"].backward()
    autograd = {name: (t[name] if name in t else getattr(model, name)).grad for name in CHECKED}
    manual = model.backward_steps(t, idx, targets)
    rows = [(name, *cmp(name, manual[name], autograd[name])) for name in CHECKED]
    with torch.no_grad():
        fused = model._fused_forward(idx)
        _, dlogits = cross_entropy_and_grad(fused["logits"], targets)
        fused_grads = model._fused_backward(fused, dlogits)
    rows.append(("logits (fused)", *cmp("logits (fused)", dlogits, autograd["logits"])))
    rows.append(("hprebn (fused)", *cmp("hprebn (fused)", fused_grads["hprebn"], autograd["hprebn"])))
    model.zero_grad()
    return rows
