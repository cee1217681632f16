"""GPT model: config checks, names and init, loss at init, the parameter count, generation with a KV cache."""
import math

import numpy as np
import pytest

import tinytorch
from devices import on_devices
from tinytorch import nn
from tinytorch.models.gpt import GPT, GPTConfig, PRESETS
from tinytorch.models.gpt.kv_cache import KVCache
from tinytorch.models.gpt.model import pick_next_token
from tinytorch.models.gpt.presets import model_config

SMALL = dict(block_size=16, vocab_size=37, n_layer=2, n_head=2, n_embd=32)


def small_gpt(seed=0, **kw):
    tinytorch.manual_seed(seed)
    return GPT(GPTConfig(**{**SMALL, **kw}))


@pytest.mark.parametrize("bad, message", [
    (dict(n_embd=30, n_head=4), "not divisible"),
    (dict(n_layer=0), "n_layer"),
    (dict(dropout=1.0), "dropout"),
    (dict(block_size=2.5), "block_size"),
])
def test_config_rejects_bad_values(bad, message):
    with pytest.raises(ValueError, match=message):
        GPTConfig(**{**SMALL, **bad})


def test_parameter_names_are_hugging_face_gpt2_names_and_lm_head_is_tied():
    model = small_gpt(bias=True)
    names = [name for name, _ in model.named_parameters()]
    assert names[:2] == ["transformer.wte.weight", "transformer.wpe.weight"]
    assert {"transformer.h.0.ln_1.weight", "transformer.h.0.ln_1.bias", "transformer.h.0.attn.c_attn.weight",
            "transformer.h.0.attn.c_attn.bias", "transformer.h.1.attn.c_proj.weight", "transformer.h.1.ln_2.bias",
            "transformer.h.1.mlp.c_fc.weight", "transformer.h.1.mlp.c_proj.bias", "transformer.ln_f.weight",
            "transformer.ln_f.bias"} <= set(names)
    assert "lm_head.weight" not in names  # the same Parameter as wte, listed once
    assert model.lm_head.weight is model.transformer.wte.weight
    no_bias = [name for name, _ in small_gpt(bias=False).named_parameters()]
    assert not any(name.endswith(".bias") for name in no_bias)


def test_init_follows_gpt2():
    model = small_gpt(n_layer=4, n_embd=64, n_head=4, vocab_size=500, bias=True)
    params = dict(model.named_parameters())
    residual = 0.02 / math.sqrt(2 * 4)
    for name, p in params.items():
        data = p.detach().numpy()
        if name.endswith("c_proj.weight"):
            assert data.std() == pytest.approx(residual, rel=0.1), name
        elif name.endswith(("wte.weight", "wpe.weight", "c_attn.weight", "c_fc.weight")):
            assert data.std() == pytest.approx(0.02, rel=0.1), name
        elif name.endswith("ln_1.weight") or name.endswith("ln_f.weight"):
            assert np.all(data == 1), name
        elif name.endswith(".bias"):
            assert np.all(data == 0), name


def test_loss_at_init_is_close_to_uniform_and_targets_minus_one_are_ignored():
    model = small_gpt()
    idx = tinytorch.randint(0, 37, (4, 16))
    targets = tinytorch.randint(0, 37, (4, 16))  # not idx: tied weights favour repeating the input token
    with tinytorch.no_grad():
        logits, loss = model(idx, targets)
    assert tuple(logits.shape) == (4, 16, 37)
    assert logits.dtype == tinytorch.float32
    assert abs(loss.item() - math.log(37)) < 0.1
    targets[:, 8:] = -1
    with tinytorch.no_grad():
        _, partial = model(idx, targets)
    expected = -np.take_along_axis(
        logits.numpy()[:, :8] - np.log(np.exp(logits.numpy()[:, :8]).sum(-1, keepdims=True)),
        targets.numpy()[:, :8, None], -1).mean()
    assert partial.item() == pytest.approx(expected, rel=1e-5)


def test_forward_rejects_too_long_sequences_and_bad_shapes():
    model = small_gpt()
    with pytest.raises(ValueError, match="block_size is only 16"):
        model(tinytorch.zeros(1, 17, dtype=tinytorch.long))
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        model(tinytorch.zeros(16, dtype=tinytorch.long))
    idx = tinytorch.zeros(2, 8, dtype=tinytorch.long)
    with pytest.raises(ValueError, match="targets shape"):
        model(idx, tinytorch.zeros(2, 7, dtype=tinytorch.long))


def test_gpt2_124m_preset_has_124_439_808_parameters(monkeypatch):
    for name in ("normal_", "uniform_", "kaiming_uniform_", "zeros_", "ones_"):  # structure only: skip drawing
        monkeypatch.setattr(nn.init, name, lambda tensor, *args, **kwargs: tensor)
    model = GPT(model_config(PRESETS["gpt2-124m"]["model"], vocab_size=50257))
    assert model.num_params() == 124_439_808
    assert model.num_params(non_embedding=True) == 123_653_376  # nanoGPT's "123.65M"


def test_shakespeare_char_cpu_preset_matches_nanogpt_size():
    model = GPT(model_config(PRESETS["shakespeare-char-cpu"]["model"], vocab_size=65))
    assert model.num_params(non_embedding=True) == 795_904  # nanoGPT README's CPU run


def test_configure_optimizers_decays_exactly_the_2d_parameters():
    model = small_gpt(bias=True)
    optimizer = model.configure_optimizers(weight_decay=0.1, learning_rate=1e-3, betas=(0.9, 0.95))
    decay, no_decay = optimizer.param_groups
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert all(p.dim() == 2 for p in decay["params"]) and all(p.dim() == 1 for p in no_decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))
    assert decay["betas"] == (0.9, 0.95) and decay["eps"] == 1e-8


@on_devices
@pytest.mark.parametrize("prompt_len, new_tokens, window_shift", [(1, 10, 1), (5, 30, 1), (20, 30, 1), (5, 40, 8)])
def test_kv_cache_generation_equals_full_rerun_greedy(prompt_len, new_tokens, window_shift, device):
    model = small_gpt(bias=True).eval().to(device)  # block_size 16: most cases run past the window
    prompt = tinytorch.randint(0, 37, (3, prompt_len), device=device)
    cached = model.generate(prompt, new_tokens, temperature=0, use_cache=True, window_shift=window_shift)
    full = model.generate(prompt, new_tokens, temperature=0, use_cache=False, window_shift=window_shift)
    assert tuple(cached.shape) == (3, prompt_len + new_tokens) and cached.device.type == device
    assert cached.tolist() == full.tolist()


def test_window_shift_one_is_nanogpts_crop_to_the_last_block_size_tokens():
    model = small_gpt().eval()
    idx = tinytorch.randint(0, 37, (2, 3))
    expected = idx
    with tinytorch.no_grad():
        for _ in range(25):
            logits, _ = model(expected[:, -16:])
            expected = tinytorch.cat([expected, logits[:, -1, :].argmax(dim=-1, keepdim=True)], dim=1)
    assert model.generate(idx, 25, temperature=0).tolist() == expected.tolist()


def test_a_larger_window_shift_keeps_the_window_in_place_for_longer():
    model = small_gpt().eval()
    idx = tinytorch.randint(0, 37, (1, 16))  # the window is full from the start
    seen = []
    original = model._last_logits
    model._last_logits = lambda context, cache=None: seen.append(context.shape[1]) or original(context, cache)
    model.generate(idx, 9, temperature=0, use_cache=False, window_shift=8)
    assert seen == [16, 9, 10, 11, 12, 13, 14, 15, 16]  # moved by 8 at the first overflow, then growing
    with pytest.raises(ValueError, match="window_shift"):
        model.generate(idx, 1, window_shift=17)


@on_devices
def test_cached_logits_match_full_forward_at_every_position(device):
    model = small_gpt().eval().to(device)
    idx = tinytorch.randint(0, 37, (2, 12), device=device)
    with tinytorch.no_grad():
        full = model(idx)[0].numpy(force=True)
        cache = KVCache.for_model(model, 2, device)
        first = model._last_logits(idx[:, :4], cache)
        steps = [model._last_logits(idx[:, t:t + 1], cache) for t in range(4, 12)]
    np.testing.assert_allclose(first.numpy(force=True), full[:, 3], atol=1e-5)
    for t, logits in zip(range(4, 12), steps):
        np.testing.assert_allclose(logits.numpy(force=True), full[:, t], atol=1e-5)


def test_sampling_is_reproducible_and_top_k_one_is_greedy():
    model = small_gpt().eval()
    prompt = tinytorch.zeros(2, 1, dtype=tinytorch.long)

    def sample(seed, **kw):
        return model.generate(prompt, 12, generator=tinytorch.Generator().manual_seed(seed), **kw).tolist()

    assert sample(1) == sample(1)
    assert sample(1) != sample(2)
    assert sample(3, top_k=1) == model.generate(prompt, 12, temperature=0).tolist()


def test_pick_next_token_samples_only_the_top_k_and_follows_temperature():
    logits = tinytorch.tensor([[0.0, 3.0, 1.0, 2.5, -1.0]]).repeat(2000, 1)
    generator = tinytorch.Generator().manual_seed(0)
    picked = pick_next_token(logits, temperature=1.0, top_k=2, generator=generator).numpy().ravel()
    assert set(picked.tolist()) == {1, 3}
    p1 = math.exp(3.0) / (math.exp(3.0) + math.exp(2.5))
    assert (picked == 1).mean() == pytest.approx(p1, abs=0.04)
    hot = pick_next_token(logits, temperature=100.0, generator=generator).numpy().ravel()
    assert set(hot.tolist()) == {0, 1, 2, 3, 4}
    assert pick_next_token(logits[:3], temperature=0).numpy().ravel().tolist() == [1, 1, 1]
