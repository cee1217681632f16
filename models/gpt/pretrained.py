"""Load Hugging Face GPT-2 weights (`model.safetensors`, never a pickle) into a tinytorch GPT.

Hugging Face names match ours (`h.0.attn.c_attn.weight`, ...), with or without the
`transformer.` prefix (GPT2Model vs GPT2LMHeadModel files). Differences handled here:
- `attn.c_attn`, `attn.c_proj`, `mlp.c_fc`, `mlp.c_proj` are Conv1D layers storing the weight
  as (in, out); our Linear stores (out, in), so those four are transposed;
- `attn.bias` / `attn.masked_bias` are causal-mask buffers, not parameters: skipped;
- `lm_head.weight`, if present, is the tied `wte.weight`: skipped.
The config comes from the tensor shapes; n_head from `config.json` beside the file when there is
one, else n_embd / 64 (GPT-2's head size at every size).
"""
import json
from pathlib import Path

import tinytorch

from .checkpoint import load_parameters
from .model import GPTConfig

CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")
SKIPPED = (".attn.bias", ".attn.masked_bias")  # causal-mask buffers (not c_attn.bias)


def hf_state_to_ours(tensors):
    """Hugging Face GPT-2 names/arrays -> our state_dict names/arrays (transposing Conv1D weights)."""
    ours = {}
    for name, array in tensors.items():
        short = name.removeprefix("transformer.")
        if short.endswith(SKIPPED) or short == "lm_head.weight":
            continue
        if short.endswith(CONV1D):
            array = array.T
        ours[f"transformer.{short}"] = array
    return ours


def infer_config(state, n_head=None):
    """GPTConfig from the shapes of our-named arrays."""
    vocab_size, n_embd = state["transformer.wte.weight"].shape
    layers = {int(k.split(".")[2]) for k in state if k.startswith("transformer.h.")}
    return GPTConfig(block_size=state["transformer.wpe.weight"].shape[0], vocab_size=vocab_size,
                     n_layer=len(layers), n_head=n_head or n_embd // 64, n_embd=n_embd, dropout=0.0,
                     bias="transformer.h.0.attn.c_attn.bias" in state)


def load_hf_gpt2(model_cls, path, n_head=None):
    path = Path(path)
    file = path / "model.safetensors" if path.is_dir() else path
    if not file.is_file():
        raise FileNotFoundError(f"GPT.from_pretrained: no safetensors file at {file}")
    config_json = file.parent / "config.json"
    if n_head is None and config_json.is_file():
        n_head = json.loads(config_json.read_text()).get("n_head")
    raw = tinytorch.load(file, map_location="cpu")
    if not all(isinstance(v, tinytorch.Tensor) for v in raw.values()):
        raise ValueError(f"GPT.from_pretrained: {file} is not a Hugging Face safetensors file of tensors")
    state = hf_state_to_ours({k: v.numpy() for k, v in raw.items()})
    missing = {"transformer.wte.weight", "transformer.wpe.weight"} - state.keys()
    if missing:
        raise ValueError(f"GPT.from_pretrained: {file} is not a GPT-2 checkpoint (missing {sorted(missing)})")
    model = model_cls(infer_config(state, n_head))
    load_parameters(model, state, source=str(file))
    return model
