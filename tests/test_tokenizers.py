"""BasicTokenizer / RegexTokenizer: minbpe's merges and ids, round trips, special tokens, files.

The oracle is minbpe's straightforward BPE (tests/twins/minbpe.py: recount every pair for each
merge, `max(stats, key=stats.get)`), plus the numbers minbpe published or that running minbpe's
train.py gives (../shared/reference/REFERENCE_NUMBERS.md rows 36-38).
"""
import pytest
from hypothesis import given, strategies as st

from tinytorch.data import read_text
from twins import minbpe
from tinytorch.tokenizers import (GPT2_SPLIT_PATTERN, GPT4_SPLIT_PATTERN, BasicTokenizer, RegexTokenizer,
                                  load_tokenizer)


# ------------------------------------------------------------------ fixtures and strategies
PATTERNS = {"basic": "", "gpt2": GPT2_SPLIT_PATTERN, "gpt4": GPT4_SPLIT_PATTERN}


def make(kind):
    return BasicTokenizer() if kind == "basic" else RegexTokenizer(PATTERNS[kind])


@pytest.fixture(scope="module")
def taylorswift():
    return read_text("taylorswift.txt")


@pytest.fixture(scope="module")
def trained(taylorswift):
    """Basic and GPT-4-pattern Regex tokenizers trained like minbpe's train.py (vocab 512)."""
    tokenizers = {}
    for kind in ("basic", "gpt4"):
        tok = make(kind)
        counts = tok.train(taylorswift, 512)
        tokenizers[kind] = (tok, counts)
    return tokenizers


# few letters -> many equal counts, which is where tie-breaking matters
tie_heavy_text = st.text(alphabet="ab \n'1", max_size=80)
any_text = st.text(max_size=60)
mixed_text = st.one_of(tie_heavy_text, any_text, st.text(alphabet="aé😉中 \n\t1.", max_size=60))


# ------------------------------------------------------------------ training
@pytest.mark.parametrize("kind", ["basic", "gpt4"])
def test_wikipedia_example(kind):
    tok = make(kind)
    tok.train("aaabdaaabac", 256 + 3)
    assert tok.encode("aaabdaaabac") == [258, 100, 258, 97, 99]
    assert tok.decode([258, 100, 258, 97, 99]) == "aaabdaaabac"


@pytest.mark.parametrize("kind, first, last, vocab", [
    ("basic", ((101, 32), 2981), ((49, 50), 86), (b"e ", b"12")),
    ("gpt4", ((101, 114), 2359), ((306, 263), 82), (b"er", b" she")),
], ids=["basic", "regex"])
def test_taylorswift_merges_match_minbpe(trained, kind, first, last, vocab):
    """The first and the last of 256 merges with their pair counts, and the tokens they make."""
    tok, counts = trained[kind]
    merges = sorted(tok.merges, key=tok.merges.get)
    assert (merges[0], counts[0]) == first
    assert (merges[255], counts[255]) == last
    assert (tok.vocab[256], tok.vocab[511]) == vocab


@pytest.mark.parametrize("kind, num_tokens", [("basic", 78_746), ("gpt4", 87_339)])
def test_taylorswift_compression_matches_minbpe(trained, taylorswift, kind, num_tokens):
    tok, _ = trained[kind]
    ids = tok.encode(taylorswift)
    assert len(ids) == num_tokens
    assert tok.decode(ids) == taylorswift


@pytest.mark.parametrize("kind", ["basic", "gpt4"])
def test_taylorswift_slice_merges_match_oracle(taylorswift, kind):
    text = taylorswift[:4000]
    expected = minbpe.train(text, PATTERNS[kind], 60)
    tok = make(kind)
    counts = tok.train(text, 256 + 60)
    assert sorted(tok.merges.items(), key=lambda kv: kv[1]) == [(p, 256 + t) for t, (p, _) in enumerate(expected)]
    assert counts == [c for _, c in expected]


@pytest.mark.parametrize("kind", ["basic", "gpt2", "gpt4"])
@given(text=mixed_text, num_merges=st.integers(0, 40))
def test_merges_and_counts_match_oracle(kind, text, num_merges):
    expected = minbpe.train(text, PATTERNS[kind], num_merges)
    tok = make(kind)
    counts = tok.train(text, 256 + len(expected))
    assert [pair for pair, _ in sorted(tok.merges.items(), key=lambda kv: kv[1])] == [p for p, _ in expected]
    assert counts == [c for _, c in expected]
    assert counts == sorted(counts, reverse=True)  # BPE's best count never grows


@pytest.mark.parametrize("kind", ["basic", "gpt4"])
@given(text=mixed_text, probe=mixed_text)
def test_encode_matches_oracle_and_round_trips(kind, text, probe):
    tok = make(kind)
    tok.train(text, 256 + len(minbpe.train(text, PATTERNS[kind], 20)))
    for s in (text, probe, text + probe):
        ids = tok.encode(s)
        assert ids == minbpe.encode(s, PATTERNS[kind], tok.merges)
        assert tok.decode(ids) == s


@pytest.mark.parametrize("length", [1, 2, 3, 500, 501])
def test_runs_of_one_byte_merge_like_minbpe(length):
    """Overlapping pairs ("aaa"): minbpe merges left to right, leaving the odd one at the end."""
    text = "a" * length + " b" + "a" * (length // 2)
    tok = BasicTokenizer()
    expected = minbpe.train(text, "", 6)
    tok.train(text, 256 + len(expected))
    assert sorted(tok.merges, key=tok.merges.get) == [p for p, _ in expected]
    assert tok.encode(text) == minbpe.encode(text, "", tok.merges)


def test_train_errors_are_clear():
    with pytest.raises(ValueError, match="at least 256"):
        BasicTokenizer().train("hello", 100)
    with pytest.raises(ValueError, match="at most 260"):  # 4 merges make "hello" one token
        BasicTokenizer().train("hello", 300)
    assert BasicTokenizer().train("", 256) == []


# ------------------------------------------------------------------ encoding and decoding
@pytest.mark.parametrize("kind", ["basic", "gpt4"])
@given(text=st.text())
def test_round_trip_any_text(trained, kind, text):
    tok, _ = trained[kind]
    assert tok.decode(tok.encode(text)) == text


@given(data=st.binary(max_size=40))
def test_decode_invalid_utf8_replaces(trained, data):
    tok, _ = trained["basic"]
    assert tok.decode(list(data)) == data.decode("utf-8", errors="replace")
    assert tok.decode_bytes(list(data)) == data


def test_decode_errors_name_the_id(trained):
    tok, _ = trained["basic"]
    with pytest.raises(ValueError, match="unknown token id 512"):
        tok.decode([97, 512])


def test_small_cache_gives_the_same_ids(trained, taylorswift):
    tok, _ = trained["gpt4"]
    text = taylorswift[:20000]
    small = RegexTokenizer()
    small.train(taylorswift, 512)
    small.cache_size, small.longest_cached_chunk = 8, 3
    assert small.encode(text) == small.encode(text) == tok.encode(text) == minbpe.encode(
        text, GPT4_SPLIT_PATTERN, tok.merges)


# ------------------------------------------------------------------ special tokens
SPECIALS = {"<|endoftext|>": 600, "<|fim|>": 601}


def trained_with_specials(kind, text):
    tok = make(kind)
    tok.train(text, 512)
    tok.register_special_tokens(SPECIALS)
    return tok


@pytest.fixture
def with_specials(taylorswift):
    return trained_with_specials("gpt4", taylorswift)


def test_special_tokens_follow_tiktoken_rules(with_specials):
    tok = with_specials
    text = "hi<|endoftext|>there <|fim|>!"
    with pytest.raises(ValueError, match="special token '<\\|endoftext\\|>' at character 2"):
        tok.encode(text)
    hi, there, bang = tok.encode_ordinary("hi"), tok.encode_ordinary("there "), tok.encode_ordinary("!")
    assert tok.encode(text, allowed_special="all") == hi + [600] + there + [601] + bang
    assert tok.encode(text, disallowed_special=()) == tok.encode_ordinary(text)
    assert tok.encode(text, allowed_special={"<|fim|>"}, disallowed_special=()) == (
        tok.encode_ordinary("hi<|endoftext|>there ") + [601] + bang)
    with pytest.raises(ValueError, match="endoftext"):  # allowed: fim only; endoftext still disallowed
        tok.encode(text, allowed_special={"<|fim|>"})
    assert tok.decode(tok.encode(text, allowed_special="all")) == text


def test_special_token_errors(with_specials):
    tok = with_specials
    with pytest.raises(ValueError, match="not special tokens"):
        tok.encode("x", allowed_special={"<|nope|>"})
    with pytest.raises(ValueError, match="must be \"all\" or a set"):
        tok.encode("x", allowed_special="none")
    with pytest.raises(ValueError, match="already the id of the ordinary token"):
        tok.register_special_tokens({"<|bad|>": 300})
    with pytest.raises(ValueError, match="share an id"):
        tok.register_special_tokens({"<|twin|>": 600})
    assert tok.special_tokens == SPECIALS  # failed registrations change nothing


# ------------------------------------------------------------------ files
@pytest.mark.parametrize("kind", ["basic", "gpt4"])
def test_save_load_round_trip(taylorswift, tmp_path, kind):
    tok = trained_with_specials(kind, taylorswift)
    tok.save(tmp_path / "tok")
    loaded_in_place = make(kind)
    loaded_in_place.load(tmp_path / "tok.model")
    sample = taylorswift[:5000] + "<|endoftext|>"
    for loaded in (loaded_in_place, load_tokenizer(str(tmp_path / "tok"))):
        assert type(loaded) is type(tok)
        assert (loaded.merges, loaded.vocab, loaded.pattern) == (tok.merges, tok.vocab, tok.pattern)
        assert loaded.special_tokens == tok.special_tokens == SPECIALS
        assert loaded.encode(sample, allowed_special="all") == tok.encode(sample, allowed_special="all")
    listing = (tmp_path / "tok.vocab").read_text(encoding="utf-8").splitlines()
    assert ("[e][ ] -> [e ] 256" if kind == "basic" else "[e][r] -> [er] 256") in listing
    assert "[<|endoftext|>] 600 (special)" in listing


def test_load_reads_a_minbpe_file(tmp_path):
    (tmp_path / "m.model").write_text("minbpe v1\n\n0\n97 97\n256 98\n", encoding="utf-8")
    tok = BasicTokenizer()
    tok.load(tmp_path / "m.model")
    assert tok.merges == {(97, 97): 256, (256, 98): 257}
    assert tok.encode("aaabaab") == [256, 97, 98, 257]  # aa a b aa b -> aa a b (aa b)


@pytest.mark.parametrize("content, message", [
    ("minbpe v2\n\n0\n", r"m.model:1: expected 'minbpe v1'"),
    ("minbpe v1\n\nx\n", r"m.model:3: expected the number of special tokens"),
    ("minbpe v1\n\n1\n", r"m.model:4: expected a special token line"),
    ("minbpe v1\n\n0\n97 97\n97\n", r"m.model:5: expected a merge line"),
    ("minbpe v1\n\n0\n97 300\n", r"merge \(97, 300\) -> 256 must join two smaller existing ids"),
    ("minbpe v1\n\\s+\n0\n", r"is a RegexTokenizer model"),
])
def test_load_rejects_bad_files(tmp_path, content, message):
    (tmp_path / "m.model").write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        BasicTokenizer().load(tmp_path / "m.model")
