"""No memory growth while training: a tiny GPT trained 300 steps (forward, backward, clipping,
AdamW) holds the same memory after step 300 as after step 50.

Two measurements: the bytes of live Python objects and NumPy arrays (tracemalloc: exact and
deterministic, so a leak of even one small array per step shows), and the process's resident
set (the issue's criterion: within 5%). benchmarks/bench_train.py runs the full-size check
(shakespeare-char-cpu, RSS after step 100 vs step 1000).
"""
import gc
import re
import tracemalloc

import numpy as np

import tinytorch
from tinytorch.models.gpt import GPT, GPTConfig
from tinytorch.nn.utils import clip_grad_norm_

FIRST, LAST = 50, 300
LEAK_BYTES = 64 * 1024  # 250 steps that each keep one 256-byte array alive would exceed this


def rss_bytes():
    return int(re.search(r"VmRSS:\s+(\d+)", open("/proc/self/status").read()).group(1)) * 1024


def live_bytes():
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def test_training_steps_do_not_grow_memory():
    tinytorch.manual_seed(0)
    model = GPT(GPTConfig(block_size=16, vocab_size=65, n_layer=2, n_head=2, n_embd=32, bias=False))
    optimizer = model.configure_optimizers(weight_decay=0.1, learning_rate=1e-3, betas=(0.9, 0.99))
    params = list(model.parameters())
    tokens = np.random.default_rng(0).integers(0, 65, (LAST, 4, 17))
    measured = {}
    tracemalloc.start()
    try:
        for step in range(1, LAST + 1):
            batch = tinytorch.from_numpy(tokens[step - 1])
            _, loss = model(batch[:, :-1], batch[:, 1:])
            loss.backward()
            clip_grad_norm_(params, 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            del batch, loss
            if step in (FIRST, LAST):
                measured[step] = (live_bytes(), rss_bytes())
    finally:
        tracemalloc.stop()
    (live_first, rss_first), (live_last, rss_last) = measured[FIRST], measured[LAST]
    assert live_last - live_first < LEAK_BYTES, f"live memory grew by {live_last - live_first} bytes"
    assert abs(rss_last / rss_first - 1) <= 0.05, f"RSS went from {rss_first} to {rss_last} bytes"
