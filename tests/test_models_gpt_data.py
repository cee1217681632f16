"""GPT data: token shards (writing, streaming with rank/world_size and shuffling), random windows,
the named dataset, and `prepare` feeding a training run."""
import numpy as np
import pytest

from tinytorch.models.gpt.cli import main
from tinytorch.models.gpt.data import RandomWindows, ShardFolder, open_dataset
from tinytorch.models.gpt.presets import resolve
from tinytorch.models.gpt.shards import ShardStream, write_shards
from tinytorch.models.gpt.train import train


def letters(text):
    return [ord(c) - ord("a") + 1 for c in text]


def test_write_shards_prepends_eot_and_continues_documents_across_shards(tmp_path):
    paths = write_shards(["abc", "de", "fghij"], tmp_path, shard_tokens=4, encode=letters, eot=0)
    assert [p.name for p in paths] == ["val_000000.npy", "train_000001.npy", "train_000002.npy", "train_000003.npy"]
    shards = [np.load(p) for p in paths]
    assert all(s.dtype == np.uint16 for s in shards)
    assert [s.tolist() for s in shards] == [[0, 1, 2, 3], [0, 4, 5, 0], [6, 7, 8, 9], [10]]


def write_counting_shards(folder, sizes):
    """Shards whose tokens count up across the whole stream: shard i holds the next sizes[i] integers."""
    folder.mkdir(exist_ok=True)
    paths, start = [], 0
    for i, n in enumerate(sizes):
        paths.append(folder / f"train_{i + 1:06d}.npy")
        np.save(paths[-1], np.arange(start, start + n, dtype=np.uint16))
        start += n
    return paths


def test_shard_stream_splits_the_stream_between_ranks_and_moves_to_the_next_shard(tmp_path):
    paths = write_counting_shards(tmp_path, [30, 30])
    ranks = [ShardStream(paths, batch_size=2, block_size=3, rank=r, world_size=2) for r in range(2)]
    seen = []
    for _ in range(4):  # 2 groups of 12 tokens fit in a 30-token shard (each read needs one more), then shard 2
        for stream in ranks:
            x, y = stream.next_batch()
            assert x.shape == (2, 3) and x.dtype == np.int64
            np.testing.assert_array_equal(y, x + 1)  # targets are the next tokens
            seen.append(x.ravel().tolist())
    assert seen[0] == [0, 1, 2, 3, 4, 5] and seen[1] == [6, 7, 8, 9, 10, 11]
    assert seen[2] == [12, 13, 14, 15, 16, 17] and seen[3] == [18, 19, 20, 21, 22, 23]
    assert seen[4] == [30, 31, 32, 33, 34, 35] and seen[5] == [36, 37, 38, 39, 40, 41]
    assert ranks[0].state_dict() == {"epoch": 1, "shard": 0, "position": 0}  # both shards used: a new epoch


def test_shard_stream_starts_a_new_epoch_with_a_reshuffled_order_and_resumes_from_its_state(tmp_path):
    paths = write_counting_shards(tmp_path, [8] * 6)
    stream = ShardStream(paths, batch_size=1, block_size=4, shuffle=True, seed=3)
    assert sorted(stream.order(0)) == list(range(6)) and stream.order(0) != stream.order(1)
    firsts = [stream.next_batch()[0][0, 0] // 8 for _ in range(12)]  # one batch per 8-token shard
    assert firsts[:6] == stream.order(0) and firsts[6:] == stream.order(1)
    twin = ShardStream(paths, batch_size=1, block_size=4, shuffle=True, seed=3)
    twin.load_state_dict(stream.state_dict())
    for _ in range(5):
        np.testing.assert_array_equal(twin.next_batch()[0], stream.next_batch()[0])


def test_shard_stream_rejects_shards_too_short_and_bad_ranks(tmp_path):
    paths = write_counting_shards(tmp_path, [12])
    with pytest.raises(ValueError, match="fewer than one step needs"):
        ShardStream(paths, batch_size=2, block_size=6)
    with pytest.raises(ValueError, match="rank 2"):
        ShardStream(paths, batch_size=1, block_size=2, rank=2, world_size=2)


def test_random_windows_give_shifted_targets_and_restore_their_position():
    tokens = np.arange(1000, dtype=np.uint16)
    windows = RandomWindows(tokens, batch_size=8, block_size=16, seed=0)
    x, y = windows.next_batch()
    assert x.shape == (8, 16) and x.flags.c_contiguous and y.flags.c_contiguous
    np.testing.assert_array_equal(np.diff(x, axis=1), 1)
    np.testing.assert_array_equal(y, x + 1)
    state = windows.state_dict()
    expected = windows.next_batch()
    again = RandomWindows(tokens, batch_size=8, block_size=16, seed=99)
    again.load_state_dict(state)
    np.testing.assert_array_equal(again.next_batch()[0], expected[0])


def test_tinyshakespeare_is_nanogpts_character_dataset():
    data = open_dataset("tinyshakespeare")
    assert data.tokenizer.vocab_size == 65
    assert (len(data.splits["train"]), len(data.splits["val"])) == (1_003_854, 111_540)
    assert data.tokenizer.decode(data.splits["train"][:14].tolist()) == "First Citizen:"


def test_prepare_writes_gpt2_shards_that_train_a_model(tmp_path, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    sentence = "The quick brown fox jumps over the lazy dog, and the dog does not mind at all. "
    (docs / "a.txt").write_text(sentence * 6)
    (docs / "b.txt").write_text(sentence.upper() * 4)
    main(["prepare", "--input", str(docs), "--out", str(tmp_path / "shards"), "--shard-tokens", "70"])
    assert "shards" in capsys.readouterr().out
    data = open_dataset(str(tmp_path / "shards"))
    assert isinstance(data, ShardFolder) and data.tokenizer.vocab_size == 50257
    val = np.load(tmp_path / "shards" / "val_000000.npy")
    assert val[0] == 50256 and data.tokenizer.decode(val[1:4].tolist()) == "The quick brown"
    settings = resolve("shakespeare-char-cpu", ["--n_layer=1", "--n_embd=16", "--n_head=2", "--block_size=8",
                                                "--batch_size=2", "--max_iters=3", "--eval_interval=3",
                                                "--eval_iters=1", "--sample_tokens=0",
                                                f"--dataset={tmp_path / 'shards'}"])
    metrics = train(settings, tmp_path / "run", progress=False)
    assert metrics["steps"] == 3 and metrics["model_config"]["vocab_size"] == 50257


@pytest.mark.parametrize("content", [b"", b"\x93NUMPY garbage", np.float32([1.5, 2.5])])
def test_a_damaged_shard_is_an_error_naming_the_file(tmp_path, content):
    paths = write_counting_shards(tmp_path, [40, 40])
    if isinstance(content, bytes):
        paths[1].write_bytes(content)
    else:
        np.save(paths[1], content)
    with pytest.raises(ValueError, match=rf"shard {paths[1]} (is not a readable \.npy file|holds a float32 array)"):
        ShardStream(paths, batch_size=2, block_size=3)


def test_prepare_refuses_a_folder_holding_shards_unless_overwrite_is_given(tmp_path, capsys):
    text = tmp_path / "a.txt"
    text.write_text("The quick brown fox jumps over the lazy dog. " * 40)  # about 400 tokens
    out = tmp_path / "shards"
    main(["prepare", "--input", str(text), "--out", str(out), "--shard-tokens", "100"])
    first = sorted(p.name for p in out.iterdir())
    with pytest.raises(SystemExit) as exit_info:
        main(["prepare", "--input", str(text), "--out", str(out), "--shard-tokens", "300"])
    assert exit_info.value.code == 2
    assert f"--out {out} already holds shards (" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == first
    main(["prepare", "--input", str(text), "--out", str(out), "--shard-tokens", "300", "--overwrite"])
    assert sorted(p.name for p in out.iterdir()) == ["train_000001.npy", "val_000000.npy"]  # no old shard left
