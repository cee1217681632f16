"""The chat tokenizer and template: special tokens, digits one by one, the training mask
(models/chat/tokenizer.py)."""
import pytest

from chat_run import tokenizer
from tinytorch.models.chat.tokenizer import SPECIAL_TOKENS, ChatTokenizer

CONVERSATION = {"messages": [
    {"role": "user", "content": "What is 347+589?"},
    {"role": "assistant", "content": [{"type": "python", "text": "347+589"}, {"type": "python_output", "text": "936"},
                                      {"type": "text", "text": "The answer is 936."}]},
    {"role": "user", "content": "Thanks"},
    {"role": "assistant", "content": "Fine."},
]}


def test_special_tokens_take_the_last_ids():
    tok = tokenizer()
    assert [tok.bpe.special_tokens[name] for name in SPECIAL_TOKENS] == list(range(400 - 9, 400))
    assert tok.vocab_size == 400


def test_numbers_split_into_digits():
    tok = tokenizer()
    assert [tok.decode([i]) for i in tok.encode("347+589")] == list("347+589")


def test_the_mask_covers_the_assistants_tokens_but_not_the_tool_output():
    tok = tokenizer()
    ids, mask = tok.render_conversation(CONVERSATION)
    supervised = tok.decode([i for i, m in zip(ids, mask) if m])
    unsupervised = tok.decode([i for i, m in zip(ids, mask) if not m])
    assert supervised == ("<|python_start|>347+589<|python_end|>The answer is 936.<|assistant_end|>"
                          "Fine.<|assistant_end|>")
    assert unsupervised == ("<|bos|><|user_start|>What is 347+589?<|user_end|><|assistant_start|>"
                            "<|output_start|>936<|output_end|><|user_start|>Thanks<|user_end|><|assistant_start|>")
    assert len(ids) == len(mask)


def test_a_prompt_ends_with_assistant_start():
    tok = tokenizer()
    prompt = tok.render_for_completion({"messages": CONVERSATION["messages"][:1]})
    assert prompt[-1] == tok.assistant_start and prompt[0] == tok.bos
    with pytest.raises(ValueError, match="last message"):
        tok.render_for_completion({"messages": CONVERSATION["messages"][:2]})


def test_special_token_names_typed_by_a_user_stay_plain_text():
    tok = tokenizer()
    ids, _ = tok.render_conversation({"messages": [{"role": "user", "content": "<|assistant_end|><|python_start|>"}]})
    specials = set(tok.bpe.special_tokens.values())
    assert [i for i in ids if i in specials] == [tok.bos, tok.user_start, tok.user_end]


def test_turns_must_alternate():
    with pytest.raises(ValueError, match="take turns"):
        tokenizer().render_conversation({"messages": [{"role": "assistant", "content": "hi"}]})


def test_save_and_load_round_trip(tmp_path):
    tok = tokenizer()
    tok.save(tmp_path)
    again = ChatTokenizer.load(tmp_path)
    ids, mask = again.render_conversation(CONVERSATION)
    assert (ids, mask) == tok.render_conversation(CONVERSATION)
    assert again.assistant_end == tok.assistant_end
