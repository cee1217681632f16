"""Training checkpoints: one safetensors file (tinytorch.save: atomic, no pickle) per run folder.

It holds the model's parameters (the tied wte/lm_head matrix once), AdamW's state, the step,
the RNG states (CPU, and CUDA once dropout has drawn there), the data stream's position, the run log so far, and `meta`: the model config,
train config and tokenizer, checked on resume so a checkpoint from another config is refused.
"""
import tinytorch

from .data import tokenizer_from_meta
from .model import GPT, GPTConfig

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


def load_checkpoint(path, model, optimizer, stream, meta):
    """Restore a run from `path` into model/optimizer/stream; returns (step, run log)."""
    ckpt = read_checkpoint(path)
    for key in ("model_config", "tokenizer"):
        if ckpt["meta"][key] != meta[key]:
            raise ValueError(f"checkpoint {path} has a different {key.replace('_', ' ')}: "
                             f"{describe_difference(ckpt['meta'][key], meta[key])}")
    model.load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])
    tinytorch.set_rng_state(ckpt["rng"])
    if "cuda_rng" in ckpt:
        tinytorch.cuda.set_rng_state(ckpt["cuda_rng"])
    stream.load_state_dict(ckpt["data"])
    return ckpt["step"], ckpt["log"]


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

