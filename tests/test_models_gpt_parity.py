"""GPT against its PyTorch twin (tests/twins/gpt.py, same architecture, copied weights):
logits, loss and every parameter gradient in float64; three AdamW steps of the training recipe;
and GPT.from_pretrained on files written from the twin's weights in Hugging Face GPT-2's layout
(model.safetensors, pytorch_model.bin)."""
import collections
import json

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file

import tinytorch
from devices import on_devices
from twins.gpt import TorchGPT, copy_weights
from tinytorch.models.gpt import GPT, GPTConfig, TrainConfig
from tinytorch.models.gpt.train import grad_accum_steps, train_step

pytestmark = pytest.mark.torch

CONFIG = dict(block_size=12, vocab_size=29, n_layer=2, n_head=2, n_embd=16)
HF_CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")




def gpt_and_twin(bias, seed=0, device="cpu"):
    tinytorch.manual_seed(seed)
    model = GPT(GPTConfig(**CONFIG, bias=bias)).double()
    twin = copy_weights(TorchGPT(model.config), model, torch.float64)
    return model.to(device), twin


def batch(rng, B=3):
    return rng.integers(0, CONFIG["vocab_size"], (B, CONFIG["block_size"])), \
        rng.integers(0, CONFIG["vocab_size"], (B, CONFIG["block_size"]))


@on_devices
@pytest.mark.parametrize("bias", [True, False])
def test_logits_loss_and_every_gradient_match_torch_in_float64(bias, device):
    model, twin = gpt_and_twin(bias, device=device)
    idx, targets = batch(np.random.default_rng(0))
    targets[0, :3] = -1  # ignored positions
    logits, loss = model(tinytorch.from_numpy(idx).to(device), tinytorch.from_numpy(targets).to(device))
    t_logits, t_loss = twin(torch.from_numpy(idx), torch.from_numpy(targets))
    loss.backward()
    t_loss.backward()
    assert logits.dtype == tinytorch.float64 and logits.device.type == device
    np.testing.assert_allclose(logits.numpy(force=True), t_logits.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert loss.item() == pytest.approx(t_loss.item(), rel=1e-12)
    theirs = dict(twin.named_parameters())
    ours = dict(model.named_parameters())
    assert ours.keys() == theirs.keys()
    for name, p in ours.items():
        assert p.grad is not None and tuple(p.grad.shape) == tuple(p.shape), name
        np.testing.assert_allclose(p.grad.numpy(force=True), theirs[name].grad.numpy(), rtol=1e-8, atol=1e-13, err_msg=name)


class FixedBatches:
    def __init__(self, batches):
        self.batches = iter(batches)

    def next_batch(self):
        return next(self.batches)


@on_devices
def test_three_adamw_steps_with_schedule_accumulation_and_clipping_match_torch(device):
    model, twin = gpt_and_twin(bias=True, device=device)
    cfg = TrainConfig(batch_size=2, total_batch_tokens=2 * 2 * CONFIG["block_size"], max_iters=3,
                      learning_rate=3e-2, min_lr=3e-3, warmup_iters=2, lr_decay_iters=2, grad_clip=0.5, device=device)
    accum = grad_accum_steps(cfg, CONFIG["block_size"])
    assert accum == 2
    rng = np.random.default_rng(1)
    batches = [batch(rng, B=2) for _ in range(3 * accum)]
    optimizer = model.configure_optimizers(cfg.weight_decay, cfg.learning_rate, (cfg.beta1, cfg.beta2), cfg.eps)
    t_optimizer = twin.configure_optimizers(cfg.weight_decay, cfg.learning_rate, (cfg.beta1, cfg.beta2), cfg.eps)
    stream = FixedBatches(batches)
    params = list(model.parameters())
    lrs = [cfg.lr_at(step) for step in range(3)]
    assert lrs == [1.5e-2, 3e-2, 3e-3]  # warmup, peak, floor
    for step, lr in enumerate(lrs):
        loss = train_step(model, optimizer, params, stream, cfg, lr, accum)
        for group in t_optimizer.param_groups:
            group["lr"] = lr
        t_loss = 0.0
        for x, y in batches[step * accum:(step + 1) * accum]:
            _, micro = twin(torch.from_numpy(x), torch.from_numpy(y))
            (micro / accum).backward()
            t_loss += micro.item() / accum
        norm = torch.nn.utils.clip_grad_norm_(twin.parameters(), cfg.grad_clip)
        assert norm > cfg.grad_clip  # the clipping is active
        t_optimizer.step()
        t_optimizer.zero_grad()
        assert loss == pytest.approx(t_loss, rel=1e-12)
    theirs = dict(twin.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.numpy(force=True), theirs[name].detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


def hugging_face_layout(twin, prefix, with_lm_head):
    """The twin's weights as Hugging Face's GPT2 saves them: Conv1D weights (in, out), mask buffers."""
    tensors = {}
    for name, t in twin.state_dict().items():
        if name == "lm_head.weight" and not with_lm_head:
            continue
        short = name.removeprefix("transformer.")
        array = t.numpy().T if short.endswith(HF_CONV1D) else t.numpy()
        tensors[name if name == "lm_head.weight" else prefix + short] = np.ascontiguousarray(array)
    block = CONFIG["block_size"]
    for i in range(CONFIG["n_layer"]):
        tensors[f"{prefix}h.{i}.attn.bias"] = np.tril(np.ones((block, block), np.float32))[None, None]
    return tensors


def write_hugging_face_weights(folder, twin, file_format, prefix, with_lm_head):
    """The twin's weights in Hugging Face's layout as model.safetensors, or as pytorch_model.bin written
    by torch.save (a state_dict, in the zip or the legacy format); returns the file."""
    tensors = hugging_face_layout(twin, prefix, with_lm_head)
    if file_format == "safetensors":
        save_file(tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
        return folder / "model.safetensors"
    state = collections.OrderedDict((name, torch.from_numpy(array)) for name, array in tensors.items())
    state._metadata = collections.OrderedDict({"": {"version": 1}})  # as Module.state_dict() leaves it
    torch.save(state, folder / "pytorch_model.bin", _use_new_zipfile_serialization=file_format == "bin zip")
    return folder / "pytorch_model.bin"


@pytest.mark.parametrize("file_format, prefix, with_lm_head", [
    ("safetensors", "", False), ("safetensors", "transformer.", True), ("bin zip", "transformer.", True),
    ("bin legacy", "", False)])
def test_from_pretrained_reads_hugging_face_gpt2_weights(tmp_path, file_format, prefix, with_lm_head):
    torch.manual_seed(0)
    twin = TorchGPT(GPTConfig(**CONFIG, bias=True)).eval()  # torch's own random init
    file = write_hugging_face_weights(tmp_path, twin, file_format, prefix, with_lm_head)
    (tmp_path / "config.json").write_text(json.dumps({"n_head": CONFIG["n_head"], "n_layer": CONFIG["n_layer"]}))
    model = GPT.from_pretrained(tmp_path)
    assert model.config == GPTConfig(**CONFIG, bias=True)
    idx = np.random.default_rng(2).integers(0, CONFIG["vocab_size"], (2, CONFIG["block_size"]))
    with tinytorch.no_grad():
        logits, _ = model(tinytorch.from_numpy(idx))
        again, _ = GPT.from_pretrained(file, n_head=CONFIG["n_head"])(tinytorch.from_numpy(idx))
    with torch.no_grad():
        expected, _ = twin(torch.from_numpy(idx))
    np.testing.assert_allclose(logits.numpy(), expected.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(again.numpy(), logits.numpy())


def test_from_pretrained_refuses_files_that_are_not_gpt2(tmp_path):
    save_file({"weight": np.zeros((2, 2), np.float32)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ValueError, match="not a GPT-2 checkpoint"):
        GPT.from_pretrained(tmp_path / "other.safetensors")
    with pytest.raises(FileNotFoundError, match="no model.safetensors or pytorch_model.bin"):
        GPT.from_pretrained(tmp_path / "missing.safetensors")


@pytest.mark.parametrize("config", ["{garbage", "[12]", '{"n_head": "twelve"}'])
def test_from_pretrained_names_a_garbage_config_json(tmp_path, config):
    torch.manual_seed(0)
    write_hugging_face_weights(tmp_path, TorchGPT(GPTConfig(**CONFIG, bias=True)), "safetensors", "", False)
    (tmp_path / "config.json").write_text(config)
    with pytest.raises(ValueError, match=rf"GPT\.from_pretrained: {tmp_path / 'config.json'} (is not|has n_head)"):
        GPT.from_pretrained(tmp_path)
