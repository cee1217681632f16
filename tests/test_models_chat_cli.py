"""The chat pipeline's command line (models/chat/cli.py): a shrunken speedrun writes every stage and the
report; finished stages are not replaced without --overwrite; bad input is one line with exit status 2;
the terminal chat answers."""
import io
import json

import pytest

from chat_run import make_run
from tinytorch.models.chat import cli, presets
from tinytorch.models.chat.presets import (DPOConfig, EvalConfig, PretrainConfig, RewardModelConfig, RLConfig,
                                           SFTConfig, TokenizerConfig)

STAGES = ["tokenizer", "pretrain", "sft", "reward_model", "rl", "dpo"]


def shrunk():
    """The smoke preset made smaller still, so the whole pipeline runs in seconds."""
    return {
        "tokenizer": TokenizerConfig(vocab_size=300, task_chars=5_000),
        "pretrain": PretrainConfig(model=dict(n_layer=1, n_head=2, n_embd=16, block_size=48, bias=False),
                                   train=dict(batch_size=4, max_iters=4, warmup_iters=1, eval_interval=2,
                                              eval_iters=1, sample_tokens=0)),
        "sft": SFTConfig(steps=3, batch_size=4, warmup_iters=1, eval_interval=2, val_conversations=4),
        "reward_model": RewardModelConfig(train_prompts=4, test_prompts=3, samples=2, epochs=1, batch_size=2),
        "rl": RLConfig(steps=2, prompts_per_step=2, samples=2, seeds=(0, 1)),
        "dpo": DPOConfig(epochs=1, batch_size=2, win_problems=3),
        "eval": EvalConfig(problems=2, samples=2, max_tokens=12),
    }


@pytest.fixture(scope="module")
def speedrun(tmp_path_factory):
    run = tmp_path_factory.mktemp("speedrun") / "run"
    patch = pytest.MonkeyPatch()
    patch.setitem(presets.PRESETS, "smoke", shrunk)
    try:
        cli.main(["speedrun", "--preset", "smoke", "--out", str(run), "--quiet"])
    finally:
        patch.undo()
    return run


@pytest.mark.slow
def test_speedrun_writes_every_stage_and_the_report(speedrun):
    report = json.loads((speedrun / "report.json").read_text())
    assert list(report["stages"]) == STAGES
    for stage in STAGES:
        entry = report["stages"][stage]
        assert entry["seconds"] > 0 and entry["config"] and entry["metrics"], stage
    rl = report["stages"]["rl"]["metrics"]
    assert rl["seeds"] == [0, 1] and set(rl["tasks"]) == {"addition", "subtraction"}
    addition = rl["tasks"]["addition"]["pass@1"]
    assert len(addition["rl_per_seed"]) == 2 and 0 <= addition["sft"] <= 1
    assert 0 <= report["stages"]["reward_model"]["metrics"]["pairwise_accuracy"] <= 1
    assert 0 <= report["stages"]["dpo"]["metrics"]["win_rate_vs_sft"] <= 1
    markdown = (speedrun / "report.md").read_text()
    for png in ("pretrain_loss", "sft_loss", "reward_model_accuracy", "rl_pass_at_1", "rl_reward_seed1", "dpo_loss"):
        assert f"plots/{png}.png" in markdown and (speedrun / "plots" / f"{png}.png").stat().st_size > 1000
    assert (speedrun / "pretrain" / "model.safetensors").is_file()
    assert not list(speedrun.rglob("*.tmp"))


@pytest.mark.slow
def test_a_finished_stage_is_not_replaced_without_overwrite(speedrun, capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main(["sft", "--preset", "smoke", "--out", str(speedrun)])
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--overwrite" in err
    with pytest.raises(SystemExit):
        cli.main(["speedrun", "--preset", "smoke", "--out", str(speedrun)])


@pytest.mark.parametrize("argv, flag", [
    (["speedrun", "--preset", "huge", "--out", "x"], "--preset"),
    (["rl", "--out", "x", "--reward", "vibes"], "--reward"),
    (["chat", "--out", "x", "--model", "base"], "--model"),
    (["serve", "--out", "x", "--port", "-1"], "--port"),
    (["chat", "--out", "x", "--temperature", "hot"], "--temperature"),
    (["dance", "--out", "x"], "dance"),
])
def test_bad_flags_get_one_line_and_exit_2(argv, flag, capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main(argv)
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and flag in err and err.startswith("error:")


def test_a_stage_without_its_inputs_names_the_stage_to_run(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main(["sft", "--preset", "smoke", "--out", str(tmp_path / "empty")])
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "tokenizer" in err


def test_another_preset_is_refused_for_a_run(tmp_path, capsys):
    (tmp_path / "run.json").write_text('{"preset": "tiny"}')
    with pytest.raises(SystemExit):
        cli.main(["tokenizer", "--preset", "smoke", "--out", str(tmp_path)])
    assert "--preset" in capsys.readouterr().err


def test_the_terminal_chat_answers_each_message(tmp_path, monkeypatch, capsys):
    run = make_run(tmp_path / "run")
    monkeypatch.setattr("sys.stdin", io.StringIO("What is 17+25?\nclear\nAnd 2+2?\nquit\n"))
    cli.main(["chat", "--out", str(run), "--max-tokens", "8"])
    out = capsys.readouterr().out
    assert out.count("Assistant: ") == 2 and "You: " in out


@pytest.mark.slow
def test_rlhf_trains_against_the_reward_model_with_a_kl_penalty(speedrun, monkeypatch):
    monkeypatch.setitem(presets.PRESETS, "smoke", shrunk)
    cli.main(["rl", "--preset", "smoke", "--out", str(speedrun), "--seed", "9", "--reward", "reward-model", "--quiet"])
    metrics = json.loads((speedrun / "rl" / "seed-9" / "metrics.json").read_text())
    assert metrics["config"]["reward"] == "reward-model" and len(metrics["reward"]) == 2
    assert set(metrics["after"]) == {"addition", "subtraction"}
