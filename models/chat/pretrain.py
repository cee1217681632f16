"""Pretraining: models/gpt's GPT and training step on the corpus (corpus.py), tokenized with the chat tokenizer.

Each document is <|bos|> followed by its tokens; the stream is split 90/10 (models/gpt's TokenArrays) and
sampled as nanoGPT does (random windows of block_size + 1 tokens). One step is models/gpt's `train_step`
(AdamW, gradient clipping at 1.0, warmup then cosine learning rate from its TrainConfig); every
eval_interval steps `estimate_loss` measures train and val loss on fixed batches.
"""
import time

import numpy as np
from tqdm import tqdm

import tinytorch
from tinytorch.models.gpt import GPT, GPTConfig, TrainConfig
from tinytorch.models.gpt.data import TokenArrays
from tinytorch.models.gpt.train import estimate_loss, train_step

from . import corpus, plots
from .run_folder import finished, load_tokenizer, read_json, save_model, stage_folder, write_json


def tokenize(tokenizer, documents):
    """(ids as uint16, the mix: documents, characters and tokens of each kind)."""
    ids, mix = [], {}
    for kind, doc in documents:
        tokens = tokenizer.encode(doc)
        ids.append(tokenizer.bos)
        ids.extend(tokens)
        counts = mix.setdefault(kind, {"documents": 0, "chars": 0, "tokens": 0})
        counts["documents"] += 1
        counts["chars"] += len(doc)
        counts["tokens"] += len(tokens) + 1
    return np.array(ids, dtype=np.uint16), mix


def run(run_dir, config, overwrite=False, progress=True):
    started = time.perf_counter()
    out = stage_folder(run_dir, "pretrain", overwrite)
    tokenizer = load_tokenizer(run_dir)
    settings = read_json(finished(run_dir, "tokenizer") / "metrics.json")["config"]  # the corpus it was trained on
    ids, mix = tokenize(tokenizer, corpus.documents(settings["task_chars"], settings["seed"]))
    data = TokenArrays(ids, tokenizer, "shakespeare+tasks")
    cfg = TrainConfig(**config.train)
    tinytorch.manual_seed(cfg.seed)
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, **config.model))
    optimizer = model.configure_optimizers(cfg.weight_decay, cfg.learning_rate, (cfg.beta1, cfg.beta2), cfg.eps)
    T = model.config.block_size
    stream = data.batches("train", cfg.batch_size, T, seed=cfg.seed)
    params = list(model.parameters())
    log = {"step_loss": [], "evals": []}
    bar = tqdm(range(cfg.max_iters), desc="pretrain", disable=not progress, dynamic_ncols=True)
    for step in bar:
        log["step_loss"].append(train_step(model, optimizer, params, stream, cfg, cfg.lr_at(step), 1))
        bar.set_postfix_str(f"loss {log['step_loss'][-1]:.3f}", refresh=False)
        if (step + 1) % cfg.eval_interval == 0 or step + 1 == cfg.max_iters:
            log["evals"].append({"step": step + 1, **estimate_loss(model, data, cfg, T)})
    bar.close()
    save_model(out, model)
    seconds = time.perf_counter() - started
    metrics = {"params": model.num_params(), "tokens_seen": cfg.max_iters * cfg.batch_size * T,
               "train_tokens": len(data.splits["train"]), "val_tokens": len(data.splits["val"]),
               "mix": mix,
               "train_loss": log["evals"][-1]["train"], "val_loss": log["evals"][-1]["val"],
               "sample": sample(model, tokenizer), **log, "seconds": seconds,
               "config": {"model": model.config.to_dict(), "train": cfg.to_dict()}}
    plots.losses(log["step_loss"], log["evals"], out / "loss.png", "pretraining (Tiny Shakespeare + task text)")
    write_json(out / "metrics.json", metrics)
    return metrics


def sample(model, tokenizer, tokens=120, seed=0):
    """Text the base model writes after <|bos|> (temperature 0.8), to read in the report."""
    start = tinytorch.tensor([[tokenizer.bos]], dtype=tinytorch.long)
    generator = tinytorch.Generator("cpu").manual_seed(seed)
    out = model.generate(start, tokens, temperature=0.8, top_k=50, generator=generator)
    return tokenizer.decode(out[0, 1:].tolist())
