"""The run folder: one subfolder per stage, each written atomically, read by the stages after it.

    RUN/tokenizer/     tokenizer.model, tokenizer.vocab, metrics.json
    RUN/pretrain/      model.safetensors, metrics.json, loss.png
    RUN/sft/           model.safetensors, metrics.json, loss.png
    RUN/reward_model/  model.safetensors, pairs.json (the preference pairs), metrics.json, loss.png
    RUN/rl/seed-S/     model.safetensors, metrics.json, reward.png (one folder per seed)
    RUN/dpo/           model.safetensors, metrics.json, loss.png
    RUN/report.json, RUN/report.md

A stage refuses to replace a finished stage (one with metrics.json) unless told to (`overwrite`).
Models are saved with tinytorch.save as safetensors: {"config": GPTConfig as a dict, "model": parameters}.
"""
import json
import shutil
from pathlib import Path

import tinytorch
from tinytorch.models.gpt import GPT, GPTConfig
from tinytorch.serialization.atomic import replacing

from .tokenizer import ChatTokenizer

MODEL = "model.safetensors"
METRICS = "metrics.json"


def stage_folder(run, stage, overwrite=False):
    """RUN/stage, created empty; ValueError if it holds a finished stage and overwrite is False."""
    folder = Path(run) / stage
    if (folder / METRICS).exists():
        if not overwrite:
            raise ValueError(f"--out {run}: the {stage} stage is already there ({folder / METRICS}); "
                             "pass --overwrite to replace it")
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def finished(run, stage):
    """RUN/stage after checking that it finished (FileNotFoundError naming the stage to run otherwise)."""
    folder = Path(run) / stage
    if not (folder / METRICS).is_file():
        command = stage.split("/")[0].replace("_", "-")
        raise FileNotFoundError(f"--out {run}: no finished {stage} stage there (run the `{command}` stage first)")
    return folder


def rl_seed_folders(run):
    """The finished RL folders RUN/rl/seed-S, by seed."""
    found = sorted((Path(run) / "rl").glob(f"seed-*/{METRICS}"), key=lambda p: int(p.parent.name[len("seed-"):]))
    if not found:
        raise FileNotFoundError(f"--out {run}: no finished rl stage there (run the `rl` stage first)")
    return [p.parent for p in found]


def write_text(path, text):
    with replacing(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")


def write_json(path, obj):
    write_text(path, json.dumps(obj, indent=1) + "\n")


def read_json(path):
    return json.loads(Path(path).read_text())


def save_figure(fig, path):
    """A matplotlib Figure as a PNG, atomically."""
    with replacing(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")


def save_model(folder, model):
    """model.safetensors of a GPT, or of a model holding one as `.gpt` (the reward model): config and parameters."""
    gpt = getattr(model, "gpt", model)
    state = {"config": gpt.config.to_dict(), "model": dict(model.named_parameters())}
    tinytorch.save(state, Path(folder) / MODEL)


def load_state(folder):
    state = tinytorch.load(Path(folder) / MODEL)
    return GPTConfig.from_dict(state["config"]), state["model"]


def load_gpt(folder):
    """The GPT saved in `folder`, in eval mode."""
    config, params = load_state(folder)
    model = GPT(config)
    model.load_state_dict(params)
    return model.eval()


def load_tokenizer(run):
    return ChatTokenizer.load(finished(run, "tokenizer"))
