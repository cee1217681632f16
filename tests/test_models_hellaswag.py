"""HellaSwag: both readers, rendering, and completion-style scoring checked against a hand computation
(tiktoken tokens, a PyTorch twin's log-softmax) on the two raw items of hellaswag_val_head2.jsonl."""
import numpy as np
import pytest

import tinytorch
from tinytorch.models.gpt import GPT, GPTConfig
from tinytorch.models.gpt.data import gpt2_bpe
from tinytorch.models.hellaswag import ending_losses, evaluate, main, read_examples, render_example


def head2():
    return tinytorch.data.get_path("hellaswag_val_head2.jsonl")


def test_jsonl_reader_gives_context_endings_and_label():
    items = list(read_examples(head2()))
    assert len(items) == 2
    assert items[0]["context"] == "A man is sitting on a roof. he"
    assert items[0]["endings"][3] == "starts pulling up roofing on a roof."
    assert [item["label"] for item in items] == [3, 3]


def test_text_format_reader_parses_all_10042_validation_items():
    items = list(read_examples(tinytorch.data.get_path("hellaswag")))
    assert len(items) == 10042
    assert all(len(item["endings"]) == 4 and 0 <= item["label"] <= 3 for item in items)
    first = list(read_examples(head2()))[0]
    assert items[0]["context"] == "Roof shingle removal: " + first["context"]
    assert items[0]["endings"] == first["endings"] and items[0]["label"] == first["label"]
    counts = np.bincount([item["label"] for item in items], minlength=4)
    assert counts.min() > 2000  # gold labels are spread over the four endings


@pytest.mark.parametrize("text, message", [
    ("ctx\n1\na\nb\nc\n", "not a multiple of 6"),
    ("ctx\nx\na\nb\nc\nd\n", "expected the gold label"),
    ("ctx\n7\na\nb\nc\nd\n", "label in 0..3"),
])
def test_text_format_reader_names_the_line_of_a_malformed_item(tmp_path, text, message):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        list(read_examples(path))


def test_render_example_masks_exactly_the_ending_tokens():
    item = {"context": "ab", "endings": ["c", "dd", "e", "fff"], "label": 1}
    tokens, mask = render_example(item, lambda s: [ord(c) for c in s])
    assert tokens.shape == mask.shape == (4, 6)
    assert tokens[1].tolist() == [97, 98, 32, 100, 100, 0]
    assert mask.tolist() == [[0, 0, 1, 1, 0, 0], [0, 0, 1, 1, 1, 0], [0, 0, 1, 1, 0, 0], [0, 0, 1, 1, 1, 1]]


def tiktoken_gpt2():
    tiktoken_load = pytest.importorskip("tiktoken.load")
    import tiktoken
    ranks = tiktoken_load.data_gym_to_mergeable_bpe_ranks(str(tinytorch.data.get_path("vocab.bpe")),
                                                          str(tinytorch.data.get_path("encoder.json")))
    pattern = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
    return tiktoken.Encoding("gpt2", pat_str=pattern, mergeable_ranks=ranks,
                             special_tokens={"<|endoftext|>": 50256}, explicit_n_vocab=50257)


@pytest.mark.torch
def test_scoring_matches_a_hand_computation_on_the_two_raw_items():
    import torch
    from twins.gpt import TorchGPT, copy_weights
    tinytorch.manual_seed(0)
    model = GPT(GPTConfig(block_size=64, vocab_size=50257, n_layer=2, n_head=2, n_embd=32)).eval()
    with tinytorch.no_grad():
        for p in model.parameters():  # weights far from the 0.02 init, so the endings' losses differ clearly
            p.normal_(0.0, 0.3)
    twin = copy_weights(TorchGPT(model.config), model).eval()
    enc = tiktoken_gpt2()
    items = list(read_examples(head2()))
    expected_sum, expected_mean = [], []
    for item in items:
        context = enc.encode(item["context"])
        sums, means = [], []
        for ending in item["endings"]:
            ids = context + enc.encode(" " + ending)
            with torch.no_grad():
                logp = torch.log_softmax(twin(torch.tensor([ids]))[0][0].double(), dim=-1)
            losses = [-logp[t - 1, ids[t]].item() for t in range(len(context), len(ids))]
            sums.append(sum(losses))
            means.append(sum(losses) / len(losses))
        expected_sum.append(sums)
        expected_mean.append(means)
        tokens, mask = render_example(item, gpt2_bpe().encode)
        summed, mean = ending_losses(model, tokens, mask)
        np.testing.assert_allclose(summed, sums, rtol=1e-5)
        np.testing.assert_allclose(mean, means, rtol=1e-5)
    result = evaluate(model, items, gpt2_bpe().encode, progress=False)
    acc = np.mean([np.argmin(s) == item["label"] for s, item in zip(expected_sum, items)])
    acc_norm = np.mean([np.argmin(m) == item["label"] for m, item in zip(expected_mean, items)])
    assert result == {"n": 2, "acc": acc, "acc_norm": acc_norm}
    assert evaluate(model, items, gpt2_bpe().encode, limit=1, progress=False)["n"] == 1


def test_cli_needs_one_model_source(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--data", str(head2())])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "exactly one of --pretrained" in err


@pytest.mark.parametrize("limit", ["0", "-2"])
def test_cli_refuses_a_limit_below_one_in_one_line(tmp_path, capsys, limit):
    with pytest.raises(SystemExit) as exit_info:
        main(["--checkpoint", str(tmp_path), "--limit", limit])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (f"python -m tinytorch.models.hellaswag: error: argument --limit: must be an "
                                       f"integer >= 1, got {limit} (see --help)\n")
