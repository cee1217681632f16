"""`python -m tinytorch.tokenizers {train,encode,decode,visualize}`."""
import os
import subprocess
import sys

import pytest

from tinytorch.data import read_text
from tinytorch.tokenizers import GPT2_SPLIT_PATTERN, GPT2Tokenizer, RegexTokenizer, load_tokenizer
from tinytorch.tokenizers.__main__ import main


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "taylor.txt"
    path.write_text(read_text("taylorswift.txt")[:30000], encoding="utf-8")
    return path


def run(capsys, *argv):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as e:  # bad input: one line on stderr, exit status 2
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def test_train_writes_a_loadable_tokenizer(capsys, corpus, tmp_path):
    code, out, _ = run(capsys, "train", "--input", corpus, "--vocab-size", 300, "--pattern", "gpt2",
                       "--out", tmp_path / "tok")
    assert code == 0 and out.startswith("trained 44 merges")
    expected = RegexTokenizer(GPT2_SPLIT_PATTERN)
    expected.train(corpus.read_text(encoding="utf-8"), 300)
    loaded = load_tokenizer(str(tmp_path / "tok"))
    assert (loaded.merges, loaded.pattern) == (expected.merges, expected.pattern)


def test_train_without_pattern_is_basic(capsys, corpus, tmp_path):
    assert run(capsys, "train", "--input", corpus, "--vocab-size", 260, "--pattern", "none",
               "--out", tmp_path / "basic")[0] == 0
    assert type(load_tokenizer(str(tmp_path / "basic"))).__name__ == "BasicTokenizer"


def test_encode_decode_round_trip(capsys):
    text = "hello world, <|endoftext|> 😉"
    code, out, _ = run(capsys, "encode", "--tokenizer", "gpt2", "--text", text, "--allowed-special", "all")
    assert code == 0
    ids = [int(i) for i in out.split()]
    assert ids[:2] == [31373, 995] and 50256 in ids
    code, out, _ = run(capsys, "decode", "--tokenizer", "gpt2", "--ids", " ".join(map(str, ids)))
    assert (code, out) == (0, text + "\n")


def test_encode_reads_a_file(capsys, corpus):
    code, out, _ = run(capsys, "encode", "--input", corpus)
    assert code == 0 and [int(i) for i in out.split()] == GPT2Tokenizer().encode(corpus.read_text(encoding="utf-8"))


def test_visualize_shows_token_boundaries(capsys):
    code, out, _ = run(capsys, "visualize", "--tokenizer", "gpt2", "--text", "hello world\n😉", "--color", "never",
                       "--ids")
    lines = out.splitlines()
    assert code == 0
    assert lines[:2] == ["hello| world|↵", "|\\xf0\\x9f\\x98|\\x89"]  # the emoji is 2 tokens of raw bytes
    assert lines[2] == "5 tokens, 13 characters, 16 bytes (3.20 bytes/token)"
    assert lines[3] == "31373 995 198 47249 231"


def test_visualize_colours_each_token(capsys):
    code, out, _ = run(capsys, "visualize", "--text", "hello world", "--color", "always")
    assert code == 0 and out.count("\x1b[30;48;5;") == 2 and "hello" in out


@pytest.mark.parametrize("argv, message", [
    (["encode", "--text", "a <|endoftext|>"], "special token '<|endoftext|>'"),
    (["decode", "--ids", "1 two"], "'two' is not a token id"),
    (["decode", "--ids", "99999999"], "unknown token id 99999999"),
    (["encode", "--tokenizer", "no/such/prefix", "--text", "x"], "no/such/prefix.model does not exist"),
    (["train", "--input", "no/such/file.txt", "--vocab-size", "300", "--out", "x"], "no/such/file.txt"),
    (["train", "--input", "{corpus}", "--vocab-size", "99", "--out", "x"], "--vocab-size: must be an integer >= 256"),
])
def test_errors_are_one_line(capsys, corpus, argv, message):
    code, out, err = run(capsys, *(a.format(corpus=corpus) for a in argv))
    assert code == 2 and out == ""
    assert "error: " in err and err.count("\n") == 1 and message in err


def test_runs_as_a_module():
    result = subprocess.run([sys.executable, "-m", "tinytorch.tokenizers", "encode", "--text", "hello world"],
                            capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout) == (0, "31373 995\n")


@pytest.mark.parametrize("color", ["never", "always"])
def test_visualize_escapes_control_characters_of_the_text(capsys, color):
    code, out, _ = run(capsys, "visualize", "--tokenizer", "gpt4", "--text", "hi\x1b[2J\x07\rok\tyes", "--color", color)
    assert code == 0
    assert "\x07" not in out and "\r" not in out and "\\x1b" in out and "\\x07" in out and "\\x0d" in out
    assert out.count("\x1b") == (0 if color == "never" else 2 * out.count("\x1b[0m"))  # only our own colours
    assert "\t" in out  # layout stays


def test_decode_escapes_control_characters_on_a_terminal_only(capsys, monkeypatch):
    ids = " ".join(map(str, GPT2Tokenizer().encode("a\x1b[2Jb")))
    assert run(capsys, "decode", "--ids", ids)[1] == "a\x1b[2Jb\n"  # into a pipe or file: the exact text
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert run(capsys, "decode", "--ids", ids)[1] == "a\\x1b[2Jb\n"


def test_train_refuses_to_replace_a_tokenizer_unless_overwrite_is_given(capsys, corpus, tmp_path):
    argv = ["train", "--input", corpus, "--vocab-size", 260, "--out", tmp_path / "tok"]
    old_umask = os.umask(0o022)
    try:
        assert run(capsys, *argv)[0] == 0
    finally:
        os.umask(old_umask)
    assert {oct(os.stat(tmp_path / f"tok.{ext}").st_mode & 0o777) for ext in ("model", "vocab")} == {"0o644"}
    code, out, err = run(capsys, *argv[:-3], 270, "--out", tmp_path / "tok")
    assert code == 2 and out == ""
    assert err == (f"error: --out {tmp_path / 'tok'}: {tmp_path / 'tok.model'} and {tmp_path / 'tok.vocab'} already "
                   "exist; give --overwrite to replace them\n")
    assert len(load_tokenizer(str(tmp_path / "tok")).merges) == 4
    assert run(capsys, *argv[:-3], 270, "--out", tmp_path / "tok", "--overwrite")[0] == 0
    assert len(load_tokenizer(str(tmp_path / "tok")).merges) == 14
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tok.model", "tok.vocab"]
