"""makemore's data helper: reading word lists, the vocabulary, the lectures' splits, examples."""
import pytest

import tinytorch as torch
from tinytorch.models.makemore_data import (CharVocab, DataError, context_examples, lecture_split, makemore_split,
                                            read_words, sequence_examples)


@pytest.fixture(scope="module")
def names():
    return read_words(torch.data.get_path("names.txt"))


def test_names_has_32033_words_and_27_tokens(names):
    vocab = CharVocab.from_words(names)
    assert len(names) == 32033
    assert vocab.itos == ["."] + list("abcdefghijklmnopqrstuvwxyz")


def test_lecture_split_gives_the_canonical_example_counts(names):
    # REFERENCE_NUMBERS.md §2.3: 182,625 / 22,655 / 22,866 contexts with random.seed(42).
    vocab = CharVocab.from_words(names)
    splits = lecture_split(names)
    counts = [context_examples(words, vocab, 3)[0].shape[0] for _, words in splits.items()]
    assert counts == [182625, 22655, 22866]
    assert [len(w) for _, w in splits.items()] == [25626, 3203, 3204]
    assert sorted(splits.train + splits.val + splits.test) == sorted(names)


def test_context_examples_of_emma():
    vocab = CharVocab("abcdefghijklmnopqrstuvwxyz")
    X, Y = context_examples(["emma"], vocab, 3)
    e, m, a = 5, 13, 1
    assert X.tolist() == [[0, 0, 0], [0, 0, e], [0, e, m], [e, m, m], [m, m, a]]
    assert Y.tolist() == [e, m, m, a, 0]


def test_sequence_examples_pad_targets_with_ignore():
    vocab = CharVocab("abc")
    X, Y = sequence_examples(["ab", "c"], vocab, 4)
    assert X.tolist() == [[0, 1, 2, 0], [0, 3, 0, 0]]
    assert Y.tolist() == [[1, 2, 0, -1], [3, 0, -1, -1]]
    with pytest.raises(DataError, match="block size 2"):
        sequence_examples(["abc"], vocab, 2)


def test_makemore_split_holds_out_min_1000_or_10_percent(names):
    splits = makemore_split(names)
    assert len(splits.test) == 1000 and splits.val is splits.test
    assert len(splits.train) == 31033
    assert sorted(splits.train + splits.test) == sorted(names)
    small = makemore_split([f"w{chr(97 + i)}" for i in range(20)])
    assert len(small.test) == 2 and len(small.train) == 18


def test_vocab_takes_non_ascii_characters_and_decode_stops_at_the_boundary():
    vocab = CharVocab.from_words(["zoë", "josé", "łukasz"])
    assert set("ëéł") <= set(vocab.itos) and vocab.itos[0] == "."
    ids = vocab.encode("zoë")
    assert vocab.decode(ids + [0] + vocab.encode("jo")) == "zoë"


def test_read_words_strips_and_drops_blank_lines(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("  anna \n\n bob\n\t\ncleo", encoding="utf-8")
    assert read_words(path) == ["anna", "bob", "cleo"]


@pytest.mark.parametrize("content, message", [
    (b"", "no words"),
    (b"\n \n\t\n", "no words"),
    (b"anna\n\xff\xfebob\n", "not UTF-8"),
    (b"anna\nb.ob\n", "line 2"),
])
def test_read_words_rejects_bad_files_in_one_line(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message) as info:
        read_words(path)
    assert "\n" not in str(info.value)


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_words(tmp_path / "missing.txt")


@pytest.mark.parametrize("split", [lecture_split, makemore_split])
def test_too_few_words_is_a_data_error(split):
    with pytest.raises(DataError, match="empty"):
        split(["anna"])
