"""GPT2Tokenizer and GPT4Tokenizer give exactly tiktoken's "gpt2" and "cl100k_base" ids.

tiktoken runs offline: its own encoding definitions (patterns, special tokens, sha256 checks)
are loaded from a TIKTOKEN_CACHE_DIR that holds the TINYTORCH_DATA files under the names tiktoken
looks for (the sha1 of their download URL), as ../shared/data/tiktoken_offline.py shows.
"""
import hashlib
import shutil

import pytest
from hypothesis import given, strategies as st

from tinytorch.data import get_path, read_text
from tinytorch.tokenizers import GPT2Tokenizer, GPT4Tokenizer
from tinytorch.tokenizers.unicode_compat import UNICODE_17_LETTERS_AND_NUMBERS

tiktoken = pytest.importorskip("tiktoken")

OPENAI = "https://openaipublic.blob.core.windows.net/"
TIKTOKEN_FILES = {"vocab.bpe": OPENAI + "gpt-2/encodings/main/vocab.bpe",
                  "encoder.json": OPENAI + "gpt-2/encodings/main/encoder.json",
                  "cl100k_base.tiktoken": OPENAI + "encodings/cl100k_base.tiktoken"}


@pytest.fixture(scope="module")
def tiktoken_encodings(tmp_path_factory):
    cache = tmp_path_factory.mktemp("tiktoken-cache")
    for name, url in TIKTOKEN_FILES.items():
        shutil.copyfile(get_path(name), cache / hashlib.sha1(url.encode()).hexdigest())
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
        return {"gpt2": tiktoken.get_encoding("gpt2"), "gpt4": tiktoken.get_encoding("cl100k_base")}


@pytest.fixture(scope="module")
def tokenizers():
    return {"gpt2": GPT2Tokenizer(), "gpt4": GPT4Tokenizer()}


@pytest.fixture(scope="module", params=["gpt2", "gpt4"])
def pair(request, tokenizers, tiktoken_encodings):
    """(ours, tiktoken's) for one encoding."""
    return tokenizers[request.param], tiktoken_encodings[request.param]


SPECIAL_TEXT = "<|endoftext|>hello<|fim_prefix|>a<|fim_middle|>b<|fim_suffix|>c<|endofprompt|> x<|endoftext|>"
PIECES = ["hello", " world", "'s", "'LL", " don't", "123", "45678", "١٢٣", "Ⅻ", " ", "   ", "\t", "\n", "\r\n",
          "\n\n\n", "  \n ", "😉", "👍🏽", "👨‍👩‍👧", "🇫🇷", "中文字", "안녕하세요", "é", "e\u0301", "\u0301\u0302",
          "\u00a0", "\u2028", "\u3000", "\x1c", "\x85", "!", "?!", "...", "<|", "|>", "ǅ", "ß", "İ", "'ſ", "K",
          "\U00012550", "\u0558", "\U000323b0"]  # last three: letters/numbers new in Unicode 17.0
unicode_text = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), max_size=24).map("".join)


def test_vocab_and_size_match(pair):
    ours, theirs = pair
    assert ours.n_vocab == theirs.n_vocab
    assert ours.special_tokens == {token: theirs.encode_single_token(token) for token in theirs.special_tokens_set}
    assert all(ours.vocab[idx] == theirs.decode_single_token_bytes(idx) for idx in range(len(ours.vocab)))


@pytest.mark.parametrize("name", ["tinyshakespeare.txt", "taylorswift.txt"])
def test_whole_files_match(pair, name):
    ours, theirs = pair
    text = read_text(name)
    ids = ours.encode(text)
    assert ids == theirs.encode(text)
    assert ours.decode(ids) == text


def test_minbpe_readme_examples(tokenizers):
    gpt4 = tokenizers["gpt4"]
    assert gpt4.encode("hello123!!!? (안녕하세요!) 😉") == [
        15339, 4513, 12340, 30, 320, 31495, 230, 75265, 243, 92245, 16715, 57037]
    assert gpt4.encode("<|endoftext|>hello world", allowed_special="all") == [100257, 15339, 1917]
    assert tokenizers["gpt2"].encode("hello world") == [31373, 995]


@pytest.mark.parametrize("text", ["", "?", " ", "\n", "hello world!!!", "  leading and trailing  \n\n",
                                  "1234567890 12.5 ١٢٣٤", "\ud83d\ude09 lone \ud83d surrogate"])
def test_small_strings_match(pair, text):
    ours, theirs = pair
    assert ours.encode(text) == theirs.encode(text)


@pytest.mark.parametrize("allowed, disallowed", [
    ("all", "all"), (set(), ()), ({"<|endoftext|>"}, ()), ({"<|endoftext|>"}, "all"), (set(), "all"),
    (set(), {"<|fim_prefix|>"}),
])
def test_special_tokens_match(pair, allowed, disallowed):
    ours, theirs = pair
    allowed = allowed if allowed == "all" else allowed & set(ours.special_tokens)
    try:
        expected = theirs.encode(SPECIAL_TEXT, allowed_special=allowed, disallowed_special=disallowed)
    except ValueError:
        with pytest.raises(ValueError, match="special token"):
            ours.encode(SPECIAL_TEXT, allowed_special=allowed, disallowed_special=disallowed)
    else:
        assert ours.encode(SPECIAL_TEXT, allowed_special=allowed, disallowed_special=disallowed) == expected


@pytest.mark.parametrize("first, last", UNICODE_17_LETTERS_AND_NUMBERS)
def test_unicode_17_letters_split_like_tiktoken(pair, first, last):
    """tiktoken (Unicode 16.0 tables) treats these as unassigned, not as letters or numbers."""
    ours, theirs = pair
    for cp in (first, last):
        text = f"{chr(cp)}'s a{chr(cp)}b 1{chr(cp)} {chr(cp)}{chr(cp)}"
        assert ours.encode(text) == theirs.encode(text)
    assert ours.encode("\U00012550's") == theirs.encode("\U00012550's")


@given(text=unicode_text)
def test_unicode_text_matches(pair, text):
    ours, theirs = pair
    ids = ours.encode_ordinary(text)
    assert ids == theirs.encode_ordinary(text)
    assert ours.decode(ids) == text


@given(parts=st.lists(st.one_of(unicode_text, st.sampled_from(["<|endoftext|>", "<|fim_prefix|>",
                                                                "<|endofprompt|>"])), max_size=6))
def test_text_with_special_tokens_matches(pair, parts):
    ours, theirs = pair
    text = "".join(parts)
    assert ours.encode(text, allowed_special="all") == theirs.encode(text, allowed_special="all")


@given(ids=st.lists(st.integers(0, 50_255), max_size=12))
def test_decode_matches_including_broken_utf8(pair, ids):
    ours, theirs = pair
    assert ours.decode(ids) == theirs.decode(ids)


def test_pretrained_cannot_be_trained_or_saved(tokenizers, tmp_path):
    with pytest.raises(NotImplementedError, match="pretrained"):
        tokenizers["gpt2"].train("some text", 300)
    with pytest.raises(ValueError, match="shuffled byte ids"):
        tokenizers["gpt4"].save(tmp_path / "gpt4")


def test_missing_data_file_is_reported(monkeypatch, tmp_path):
    monkeypatch.setenv("TINYTORCH_DATA", str(tmp_path))
    monkeypatch.setenv("TINYTORCH_CACHE", str(tmp_path))
    monkeypatch.setattr("tinytorch.data.fetch", _offline)
    with pytest.raises(FileNotFoundError, match="encoder.json"):
        GPT2Tokenizer()


def _offline(url, timeout=60):
    raise OSError("offline (test)")
