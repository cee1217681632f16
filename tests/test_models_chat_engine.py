"""The engine: KV-cache sampling equals sampling without the cache, temperature 0 is deterministic, top-k /
top-p restrict the choice, and the calculator's output is injected as forced tokens with mask 0, exactly
as the chat template renders (and masks) it for training (models/chat/engine.py)."""
import numpy as np
import pytest

import tinytorch
from chat_run import tokenizer, untrained_gpt
from tinytorch.models.chat.calculator import calculate
from tinytorch.models.chat.engine import Engine, sample_next_token
from tinytorch.models.chat.losses import masked_targets, pad_rows
from tinytorch.models.chat.tasks import Problem
from tinytorch.models.gpt import GPTConfig

PROBLEM = Problem("addition", "addition:347+589", "What is 347+589?", "936", "347+589", "347+589=936")


def prompt_ids():
    return tokenizer().render_for_completion(PROBLEM.prompt())


@pytest.mark.parametrize("settings", [dict(temperature=1.0), dict(temperature=0.9, top_k=20, top_p=0.9),
                                      dict(temperature=0.0)])
def test_kv_cache_sampling_equals_sampling_without_the_cache(settings):
    engine = Engine(untrained_gpt(), tokenizer())
    cached = engine.generate_batch(prompt_ids(), 4, max_tokens=30, seed=7, **settings)
    uncached = engine.generate_batch(prompt_ids(), 4, max_tokens=30, seed=7, use_cache=False, **settings)
    assert cached == uncached
    assert len(cached[0][0]) > len(prompt_ids())


def test_temperature_zero_is_deterministic_and_greedy():
    model = untrained_gpt()
    engine = Engine(model, tokenizer())
    first = engine.generate_batch(prompt_ids(), 3, max_tokens=20, temperature=0.0, seed=1)[0]
    second = engine.generate_batch(prompt_ids(), 3, max_tokens=20, temperature=0.0, seed=2)[0]
    assert first == second and first[0] == first[1] == first[2]
    greedy = model.generate(tinytorch.tensor([prompt_ids()]), 20, temperature=0)[0].tolist()
    assert first[0] == greedy[:len(first[0])]


def test_different_seeds_give_different_samples():
    engine = Engine(untrained_gpt(), tokenizer())
    a = engine.generate_batch(prompt_ids(), 4, max_tokens=10, seed=1)[0]
    b = engine.generate_batch(prompt_ids(), 4, max_tokens=10, seed=2)[0]
    assert a != b and len({tuple(s) for s in a}) > 1  # rows differ too: one prefill, independent samples


def test_top_k_and_top_p_restrict_the_choice():
    logits = tinytorch.tensor([[4.0, 3.0, 2.0, 1.0, 0.0]]).expand(2000, 5)
    g = tinytorch.Generator("cpu").manual_seed(0)
    assert set(sample_next_token(logits, 1.0, top_k=2, generator=g)[:, 0].tolist()) == {0, 1}
    # probabilities 0.64, 0.24, 0.09, ...: top_p = 0.7 keeps the first two, 0.5 only the first
    assert set(sample_next_token(logits, 1.0, top_p=0.7, generator=g)[:, 0].tolist()) == {0, 1}
    assert set(sample_next_token(logits, 1.0, top_p=0.5, generator=g)[:, 0].tolist()) == {0}
    assert set(sample_next_token(logits, 1.0, generator=g)[:, 0].tolist()) == {0, 1, 2, 3, 4}


class ScriptedModel:
    """A stand-in for the GPT that, at every position after the prompt, puts all its probability on the
    next token of `script` (whatever it was fed), with or without the cache."""

    def __init__(self, script, prompt_length, vocab_size):
        self.script, self.prompt_length, self.vocab_size = script, prompt_length, vocab_size
        self.config = GPTConfig(block_size=64, vocab_size=vocab_size, n_layer=1, n_head=1, n_embd=4)
        self.training = False
        self.weight = tinytorch.zeros(1)

    def parameters(self):
        return iter([self.weight])

    def eval(self):
        return self

    def train(self, mode=True):
        return self

    def logits_after(self, length, rows):
        logits = np.full((rows, self.vocab_size), -30.0, dtype=np.float32)
        logits[:, self.script[min(length - self.prompt_length, len(self.script) - 1)]] = 30.0
        return tinytorch.from_numpy(logits)

    def decode_step(self, idx, cache):
        cache.advance(idx.shape[1])
        return self.logits_after(cache.length, idx.shape[0])

    def __call__(self, idx):
        return self.logits_after(idx.shape[1], idx.shape[0])[:, None, :].expand(idx.shape[0], idx.shape[1], -1), None


def scripted_engine(reply_text, expression):
    """An engine whose model writes <|python_start|>expression<|python_end|>, then (where the engine
    should force the calculator's output) as many "x" tokens as that output has, then reply_text and
    <|assistant_end|>."""
    tok = tokenizer()
    result = calculate(expression)
    filler = [tok.encode("x")[0]] * (0 if result is None else len(tok.encode(result)) + 2)
    script = [tok.python_start, *tok.encode(expression), tok.python_end, *filler, *tok.encode(reply_text),
              tok.assistant_end]
    return Engine(ScriptedModel(script, len(prompt_ids()), tok.vocab_size), tok)


@pytest.mark.parametrize("use_cache", [True, False])
def test_the_calculators_output_is_forced_and_masked_like_the_chat_template(use_cache):
    tok = tokenizer()
    engine = scripted_engine("The answer is 936.", "347+589")
    sequences, masks = engine.generate_batch(prompt_ids(), 2, max_tokens=40, use_cache=use_cache)
    ids, mask = tok.render_conversation(PROBLEM.conversation())
    assert sequences[0] == ids and sequences[1] == ids  # the worked reply, tool output included
    assert masks[0] == [0] * len(prompt_ids()) + mask[len(prompt_ids()):]
    forced = [t for t, m in zip(sequences[0], masks[0]) if m == 0][len(prompt_ids()):]
    assert tok.decode(forced) == "<|output_start|>936<|output_end|>"
    assert engine.reply_text(sequences[0], len(prompt_ids())) == \
        "<|python_start|>347+589<|python_end|><|output_start|>936<|output_end|>The answer is 936."


def test_forced_tokens_are_never_training_targets():
    tok = tokenizer()
    sequences, masks = scripted_engine("The answer is 936.", "347+589").generate_batch(prompt_ids(), 1)
    _, targets = masked_targets(*pad_rows(sequences, masks, tok.assistant_end))
    kept = [t for t in targets[0].tolist() if t != -1]
    assert tok.decode(kept) == "<|python_start|>347+589<|python_end|>The answer is 936.<|assistant_end|>"


@pytest.mark.parametrize("expression", ["__import__('os')", "2**99", "1/0", "x+1"])
def test_a_refused_expression_injects_nothing(expression):
    tok = tokenizer()
    sequences, masks = scripted_engine("ok", expression).generate_batch(prompt_ids(), 1, max_tokens=40)
    completion = sequences[0][len(prompt_ids()):]
    assert tok.output_start not in completion and all(masks[0][len(prompt_ids()):])


def test_generation_stops_at_assistant_end_and_within_the_context():
    tok = tokenizer()
    engine = scripted_engine("The answer is 936.", "347+589")
    columns = list(engine.generate(prompt_ids(), 3, max_tokens=60))
    assert columns[-1][0] == [tok.assistant_end] * 3
    with pytest.raises(ValueError, match="no room"):
        list(Engine(untrained_gpt(block_size=8), tok).generate(prompt_ids(), 1))
