"""The multi-turn conversation behind the terminal chat and the server (models/chat/chat.py)."""
import pytest

from chat_run import tokenizer, untrained_gpt
from tinytorch.models.chat.chat import Conversation
from tinytorch.models.chat.engine import Engine


def test_tool_tokens_read_as_a_calculator_line():
    tok = tokenizer()
    c = Conversation(tok, 96)
    ids = [tok.python_start, *tok.encode("17+25"), tok.python_end, tok.output_start, *tok.encode("42"),
           tok.output_end, *tok.encode("The answer is 42."), tok.assistant_end]
    assert c.text(ids) == "[calculator] 17+25 = 42\nThe answer is 42."


def test_turns_accumulate_in_the_chat_template():
    tok = tokenizer()
    c = Conversation(tok, 96)
    c.add_user("hi")
    reply = "".join(c.reply(Engine(untrained_gpt(), tok), max_tokens=6, seed=1))
    assert c.ids[:2] == [tok.bos, tok.user_start] and c.ids[-1] == tok.assistant_end
    assert c.ids.count(tok.assistant_start) == 1
    expected, _ = tok.render_conversation({"messages": [{"role": "user", "content": "hi"}]})
    assert c.ids[:len(expected)] == expected
    assert isinstance(reply, str)


def test_the_oldest_turns_are_dropped_to_make_room():
    tok = tokenizer()
    c = Conversation(tok, 64)
    for text in ("first question here", "second question", "third"):
        c.add_user(text)
        c.add_assistant("an answer")
    c.fit(30)
    assert len(c.ids) + 1 + 30 <= 64 and c.ids[0] == tok.bos and c.ids[1] == tok.user_start
    assert tok.decode(c.ids).endswith("third<|user_end|><|assistant_start|>an answer<|assistant_end|>")
    c = Conversation(tok, 64)
    c.add_user("x " * 60)
    with pytest.raises(ValueError, match="too long"):
        c.fit(30)
