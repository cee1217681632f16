"""MultiheadAttention and the transformer layers against torch.nn: a torch module's state_dict loaded
into tinytorch's gives the same outputs and the same gradients of the inputs and of every parameter
(float64, eval mode and train mode with dropout 0), the same initial weights from the same seed, the
same names and repr; with dropout, the same masks (float32, torch's random streams)."""
import warnings

import numpy as np
import pytest
import torch

import tinytorch

E, H, L, S, N = 8, 2, 5, 6, 3
RNG = np.random.default_rng(0)
X, MEMORY, VALUE = RNG.standard_normal((L, N, E)), RNG.standard_normal((S, N, E)), RNG.standard_normal((S, N, E))
PADDING = np.zeros((N, S), bool)
PADDING[0, -2:] = PADDING[2, -1] = True
BOOL_MASK = np.triu(np.ones((L, S), bool), 1)
FLOAT_MASK = RNG.standard_normal((N * H, L, S))
CAUSAL = np.triu(np.full((L, L), -np.inf), 1)


def batch_first(a):
    return np.ascontiguousarray(a.transpose(1, 0, 2))


def causal(m):
    """The (L, L) float64 causal mask as a tensor of library m."""
    return m.tensor(CAUSAL)


# name: (make(m) -> module, call(m, module, *tensors) -> output(s), input arrays)
CASES = {
    "mha_self": (lambda m: m.nn.MultiheadAttention(E, H), lambda m, a, q: a(q, q, q), [X]),
    "mha_self_fused": (lambda m: m.nn.MultiheadAttention(E, H),
                       lambda m, a, q: a(q, q, q, need_weights=False), [X]),
    "mha_weights_per_head": (lambda m: m.nn.MultiheadAttention(E, H),
                             lambda m, a, q: a(q, q, q, average_attn_weights=False), [X]),
    "mha_cross_batch_first": (lambda m: m.nn.MultiheadAttention(E, H, batch_first=True), lambda m, a, q, k: a(q, k, k),
                              [batch_first(X), batch_first(MEMORY)]),
    "mha_key_value_apart": (lambda m: m.nn.MultiheadAttention(E, H), lambda m, a, q, k, v: a(q, k, v),
                            [X, MEMORY, VALUE]),
    "mha_kdim_vdim": (lambda m: m.nn.MultiheadAttention(E, H, kdim=3, vdim=5), lambda m, a, q, k, v: a(q, k, v),
                      [X, RNG.standard_normal((S, N, 3)), RNG.standard_normal((S, N, 5))]),
    "mha_bias_kv_zero_attn": (lambda m: m.nn.MultiheadAttention(E, H, add_bias_kv=True, add_zero_attn=True),
                              lambda m, a, q, k, kp: a(q, k, k, key_padding_mask=kp), [X, MEMORY, PADDING]),
    "mha_bool_masks": (lambda m: m.nn.MultiheadAttention(E, H),
                       lambda m, a, q, k, kp, am: a(q, k, k, key_padding_mask=kp, attn_mask=am),
                       [X, MEMORY, PADDING, BOOL_MASK]),
    "mha_bool_masks_fused": (lambda m: m.nn.MultiheadAttention(E, H), lambda m, a, q, k, kp, am: a(
        q, k, k, key_padding_mask=kp, attn_mask=am, need_weights=False), [X, MEMORY, PADDING, BOOL_MASK]),
    "mha_float_3d_mask_no_bias": (lambda m: m.nn.MultiheadAttention(E, H, bias=False),
                                  lambda m, a, q, k, am: a(q, k, k, attn_mask=am), [X, MEMORY, FLOAT_MASK]),
    "mha_is_causal": (lambda m: m.nn.MultiheadAttention(E, H),
                      lambda m, a, q, am: a(q, q, q, attn_mask=am, is_causal=True, need_weights=False), [X, CAUSAL]),
    "mha_unbatched": (lambda m: m.nn.MultiheadAttention(E, H), lambda m, a, q: a(q, q, q), [X[:, 0]]),
    "encoder_layer": (lambda m: m.nn.TransformerEncoderLayer(E, H, 16, dropout=0.0), lambda m, a, x: a(x), [X]),
    "encoder_layer_gelu_norm_first": (
        lambda m: m.nn.TransformerEncoderLayer(E, H, 16, activation="gelu", norm_first=True, batch_first=True),
        lambda m, a, x, kp: a(x, src_key_padding_mask=kp), [batch_first(MEMORY), PADDING]),
    "encoder_layer_callable_activation": (
        lambda m: m.nn.TransformerEncoderLayer(E, H, 16, activation=lambda t: t.tanh(), layer_norm_eps=1e-3),
        lambda m, a, x, am: a(x, src_mask=am, is_causal=True), [X, CAUSAL]),
    "decoder_layer": (lambda m: m.nn.TransformerDecoderLayer(E, H, 16, dropout=0.0),
                      lambda m, a, x, mem, kp: a(x, mem, tgt_mask=causal(m), memory_key_padding_mask=kp),
                      [X, MEMORY, PADDING]),
    "encoder_with_norm": (
        lambda m: m.nn.TransformerEncoder(m.nn.TransformerEncoderLayer(E, H, 16, batch_first=True), 3,
                                          m.nn.LayerNorm(E)),
        lambda m, a, x, kp: a(x, src_key_padding_mask=kp), [batch_first(MEMORY), PADDING]),
    "decoder_stack": (lambda m: m.nn.TransformerDecoder(m.nn.TransformerDecoderLayer(E, H, 16, norm_first=True), 2),
                      lambda m, a, x, mem, am: a(x, mem, tgt_mask=am), [X, MEMORY, CAUSAL]),
    "transformer": (lambda m: m.nn.Transformer(E, H, 2, 2, 16, dropout=0.0),
                    lambda m, a, src, tgt: a(src, tgt, tgt_mask=m.nn.Transformer.generate_square_subsequent_mask(
                        L, dtype=m.float64)), [MEMORY, X]),
    "transformer_batch_first": (
        lambda m: m.nn.Transformer(E, H, 1, 1, 16, batch_first=True, activation="gelu"),
        lambda m, a, src, tgt, kp: a(src, tgt, src_key_padding_mask=kp, memory_key_padding_mask=kp,
                                     tgt_is_causal=True, tgt_mask=causal(m)),
        [batch_first(MEMORY), batch_first(X), PADDING]),
}


def _run(m, module, call, inputs, train):
    """(outputs, input gradients, parameter gradients) of library m's module on the inputs."""
    module.train(train)
    tensors = [m.tensor(a, requires_grad=a.dtype.kind == "f" and not any(a is mask for mask in (CAUSAL, FLOAT_MASK)))
               for a in inputs]
    out = call(m, module, *tensors)
    outs = [o for o in (out if isinstance(out, tuple) else (out,)) if o is not None]
    weights = [np.cos(np.arange(o.numel())).reshape(tuple(o.shape)) for o in outs]
    sum((o * m.tensor(w)).sum() for o, w in zip(outs, weights)).backward()
    return ([o.detach().numpy() for o in outs], [t.grad.numpy() for t in tensors if t.requires_grad],
            {k: p.grad.numpy() for k, p in module.named_parameters()})


@pytest.mark.torch
@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("name", CASES)
def test_outputs_and_gradients_match_torch_on_torchs_weights(name, train):
    make, call, inputs = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's enable_nested_tensor notice, for both
        theirs_module, ours_module = (_without_dropout(make)(m).double() for m in (torch, tinytorch))
    assert list(ours_module.state_dict()) == list(theirs_module.state_dict())
    ours_module.load_state_dict({k: v.numpy() for k, v in theirs_module.state_dict().items()})
    theirs = _run(torch, theirs_module, call, inputs, train)
    ours = _run(tinytorch, ours_module, call, inputs, train)
    assert len(ours[0]) == len(theirs[0])
    for got, want in zip(ours[0] + ours[1], theirs[0] + theirs[1]):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11)
    assert ours[2].keys() == theirs[2].keys()
    for k in theirs[2]:
        np.testing.assert_allclose(ours[2][k], theirs[2][k], rtol=1e-9, atol=1e-11, err_msg=k)


def _without_dropout(make):
    """make(m) with every dropout probability of the built module set to 0 (train mode parity
    without random masks; test_dropout_draws_torchs_masks_in_train_mode checks the masks)."""
    def made(m):
        module = make(m)
        for sub in module.modules():
            if isinstance(sub, m.nn.Dropout):
                sub.p = 0.0
            if isinstance(sub, m.nn.MultiheadAttention):
                sub.dropout = 0.0
        return module
    return made


@pytest.mark.torch
@pytest.mark.parametrize("make", [
    lambda m: m.nn.MultiheadAttention(E, H, add_bias_kv=True),
    lambda m: m.nn.MultiheadAttention(E, H, kdim=3, vdim=5, bias=False),
    lambda m: m.nn.TransformerEncoderLayer(E, H, 16),
    lambda m: m.nn.TransformerEncoder(m.nn.TransformerEncoderLayer(E, H, 16), 2, enable_nested_tensor=False),
    lambda m: m.nn.Transformer(E, H, 1, 2, 16),
], ids=["mha_bias_kv", "mha_kdim_vdim", "encoder_layer", "encoder", "transformer"])
def test_same_seed_same_initial_weights_names_and_repr(make):
    torch.manual_seed(3)
    theirs = make(torch)
    tinytorch.manual_seed(3)
    ours = make(tinytorch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[k].numpy(), v.numpy(), err_msg=k)
    assert repr(ours) == repr(theirs)


@pytest.mark.torch
def test_dropout_draws_torchs_masks_in_train_mode():
    """float32 with dropout: the attention's, the residual branches' and the feed-forward's masks are
    torch's (the same seed gives the same output), for both batch layouts and MHA's explicit weights."""
    x = RNG.standard_normal((N, L, E)).astype(np.float32)

    def run(m):
        m.manual_seed(0)
        first = m.nn.TransformerEncoderLayer(E, H, 16, dropout=0.3, batch_first=True)(m.tensor(x))
        second = m.nn.TransformerEncoderLayer(E, H, 16, dropout=0.3)(m.tensor(x))
        third = m.nn.MultiheadAttention(E, H, dropout=0.5)(*[m.tensor(x)] * 3)
        return [t.detach().numpy() for t in (first, second, *third)]
    for got, want in zip(run(tinytorch), run(torch)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.torch
def test_eval_encoder_without_gradients_zeroes_padded_positions_as_torch():
    """torch's nested-tensor path: in eval mode under no_grad, with right padding, the padded
    positions come out 0 (before the final norm); with gradients they do not."""
    x = batch_first(MEMORY).astype(np.float32)
    outs = []
    for m in (torch, tinytorch):
        m.manual_seed(0)
        encoder = m.nn.TransformerEncoder(m.nn.TransformerEncoderLayer(E, H, 16, batch_first=True), 2).eval()
        with m.no_grad():
            outs.append(encoder(m.tensor(x), src_key_padding_mask=m.tensor(PADDING)).numpy())
        outs.append(encoder(m.tensor(x), src_key_padding_mask=m.tensor(PADDING)).detach().numpy())
    no_grad_theirs, with_grad_theirs, no_grad_ours, with_grad_ours = outs
    assert not no_grad_ours[PADDING].any() and with_grad_ours[PADDING].all()
    np.testing.assert_allclose(no_grad_ours, no_grad_theirs, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(with_grad_ours, with_grad_theirs, rtol=1e-5, atol=1e-5)


@pytest.mark.torch
def test_square_subsequent_mask_and_causal_detection():
    mask = tinytorch.nn.Transformer.generate_square_subsequent_mask(4)
    np.testing.assert_array_equal(mask.numpy(), torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())
    from tinytorch.nn.transformer import _detect_is_causal_mask
    assert _detect_is_causal_mask(mask) and not _detect_is_causal_mask(mask.t())
    assert _detect_is_causal_mask(None, True) and not _detect_is_causal_mask(mask, False)


def test_encoder_layers_are_independent_deep_copies():
    layer = tinytorch.nn.TransformerEncoderLayer(E, H, 16)
    encoder = tinytorch.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    first, second = encoder.layers
    assert first is not layer and first.linear1.weight is not second.linear1.weight
    np.testing.assert_array_equal(first.linear1.weight.numpy(force=True), second.linear1.weight.numpy(force=True))
    with tinytorch.no_grad():
        first.linear1.weight.add_(1.0)
    assert not np.array_equal(first.linear1.weight.numpy(force=True), second.linear1.weight.numpy(force=True))


@pytest.mark.torch
@pytest.mark.parametrize("call", [
    lambda m, a, q: a(q, q, q, is_causal=True),
    lambda m, a, q: a(q, q, q, attn_mask=m.zeros(2, 2, dtype=m.bool)),
    lambda m, a, q: a(q, q, q, key_padding_mask=m.zeros(N, S + 1, dtype=m.bool)),
    lambda m, a, q: a(q[0, 0], q[0, 0], q[0, 0]),
    lambda m, a, q: a(q, q, q, attn_mask=m.zeros(L, L, dtype=m.int64)),
], ids=["is_causal_without_mask", "mask_shape", "padding_shape", "query_dims", "int_mask"])
def test_bad_arguments_raise_torchs_exception_class(call):
    kinds = []
    for m in (torch, tinytorch):
        module = m.nn.MultiheadAttention(E, H).double()
        with pytest.raises((RuntimeError, AssertionError)) as caught:
            call(m, module, m.tensor(X))
        kinds.append(AssertionError if isinstance(caught.value, AssertionError) else RuntimeError)
    assert kinds[0] == kinds[1]
    with pytest.raises(AssertionError, match="divisible"):
        tinytorch.nn.MultiheadAttention(6, 4)
    with pytest.raises(RuntimeError, match="relu/gelu"):
        tinytorch.nn.TransformerEncoderLayer(E, H, activation="swish")
