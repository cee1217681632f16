"""Training checkpoints: one safetensors file (tinytorch.save: atomic, checksummed, no pickle) per run folder.

It holds the model's parameters (the tied wte/lm_head matrix once), AdamW's state, the step,
the RNG states (CPU, and CUDA once dropout has drawn there), the data stream's position, the run
log so far, and `meta`: the model config, train config and tokenizer. A resumed run must match
them: the model config and tokenizer always (the weights depend on them), the train config unless
the keys that differ are named in `override` (`--override learning_rate,batch_size`); each such
change is recorded in the run log with the step it took effect.
"""
from dataclasses import fields

import tinytorch

from .data import tokenizer_from_meta
from .model import GPT, GPTConfig
from .presets import TrainConfig

CHECKPOINT = "ckpt.safetensors"
FORMAT = "tinytorch-gpt-checkpoint-1"


def save_checkpoint(path, model, optimizer, stream, step, log_state, meta):
    state = {"format": FORMAT, "meta": meta, "step": step,
             "model": dict(model.named_parameters()), "optimizer": optimizer.state_dict(),
             "rng": tinytorch.get_rng_state(), "data": stream.state_dict(), "log": log_state}
    if tinytorch.cuda.get_rng_state() is not None:  # dropout drew on the GPU
        state["cuda_rng"] = tinytorch.cuda.get_rng_state()
    tinytorch.save(state, path)


def read_checkpoint(path):
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    ckpt = tinytorch.load(path, map_location="cpu")
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ValueError(f"{path} is not a tinytorch GPT training checkpoint")
    return ckpt


def load_checkpoint(path, model, optimizer, stream, meta, override=()):
    """Restore a run from `path` into model/optimizer/stream; returns (step, run log).

    The run log gets a "config_changes" entry for each overridden train-config key.
    """
    ckpt = read_checkpoint(path)
    for key in ("model_config", "tokenizer"):
        if ckpt["meta"][key] != meta[key]:
            raise ValueError(f"checkpoint {path} has a different {key.replace('_', ' ')}: "
                             f"{describe_difference(ckpt['meta'][key], meta[key])}")
    changes = train_config_changes(path, ckpt["meta"]["train_config"], meta["train_config"], override)
    model.load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])
    tinytorch.set_rng_state(ckpt["rng"])
    if "cuda_rng" in ckpt:
        tinytorch.cuda.set_rng_state(ckpt["cuda_rng"])
    stream.load_state_dict(ckpt["data"])
    log = ckpt["log"]
    if "step_tokens" not in log:  # written before the log counted each step's tokens
        before = ckpt["meta"]["train_config"]
        tokens = before["total_batch_tokens"] or before["batch_size"] * ckpt["meta"]["model_config"]["block_size"]
        log["step_tokens"] = [tokens] * len(log["step_loss"])
    log.setdefault("config_changes", []).extend(
        {"step": ckpt["step"], "key": key, "from": saved, "to": wanted} for key, (saved, wanted) in changes.items())
    return ckpt["step"], log


def train_config_changes(path, saved, wanted, override):
    """{key: (saved value, wanted value)} of the train config; ValueError for a difference not in `override`."""
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(override) - known)
    if unknown:
        raise ValueError(f"--override: unknown train-config key {', '.join(unknown)}; "
                         f"known: {', '.join(sorted(known))}")
    changes = {k: (saved.get(k), wanted.get(k)) for k in sorted(saved.keys() | wanted.keys())
               if saved.get(k) != wanted.get(k)}
    refused = [k for k in changes if k not in override]
    if refused:
        differences = ", ".join(f"{k}={changes[k][0]!r} in the checkpoint but {changes[k][1]!r} here" for k in refused)
        raise ValueError(f"checkpoint {path} was trained with other settings: {differences}; give --override "
                         f"{','.join(refused)} to change them from here on, or drop those flags")
    return changes


def load_model(path, device="cpu"):
    """(GPT in eval mode, tokenizer) from a training checkpoint, for sampling or evaluation."""
    ckpt = read_checkpoint(path)
    model = GPT(GPTConfig.from_dict(ckpt["meta"]["model_config"]))
    model.load_state_dict(ckpt["model"])
    if device != "cpu":
        model.to(device)
    return model.eval(), tokenizer_from_meta(ckpt["meta"]["tokenizer"])


def describe_difference(saved, wanted):
    if isinstance(saved, dict) and isinstance(wanted, dict):
        keys = sorted(k for k in saved.keys() | wanted.keys() if saved.get(k) != wanted.get(k))
        return ", ".join(f"{k}={saved.get(k)!r} in the checkpoint but {wanted.get(k)!r} here" for k in keys)
    return f"{saved!r} in the checkpoint but {wanted!r} here"
