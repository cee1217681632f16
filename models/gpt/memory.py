"""The memory a GPT training run needs, estimated from its config before anything is allocated.

float32 throughout, B sequences of T = block_size tokens per micro-batch, P parameters:

- parameters, their gradients and AdamW's two moments: 4 arrays of P floats;
- what the backward pass keeps per token of the micro-batch: in each of the L blocks the LayerNorm
  inputs and outputs, q/k/v, the attention output and projection, the residual sums and the MLP's
  fc output (14 C floats), and the attention probabilities (n_head * T floats); then the logits and
  their gradient (2 V floats).

It leaves out the interpreter, the libraries and temporaries, so it is a lower bound: a run whose
estimate exceeds the machine's memory cannot fit, and `check_fits` refuses it before it starts.
"""
import os

FLOAT_BYTES = 4


def parameter_count(config):
    """GPT's parameters for a GPTConfig (lm_head shares wte's matrix)."""
    C, L = config.n_embd, config.n_layer
    per_block = 12 * C * C + 2 * C + (11 * C if config.bias else 0)  # 2 LayerNorms, qkv, proj, fc, proj
    final_norm = C + (C if config.bias else 0)
    return config.vocab_size * C + config.block_size * C + L * per_block + final_norm


def training_bytes(config, batch_size):
    """(parameter + optimizer bytes, activation bytes) of one training step on batch_size x block_size tokens."""
    C, T = config.n_embd, config.block_size
    weights = 4 * parameter_count(config) * FLOAT_BYTES
    per_token = config.n_layer * (14 * C + config.n_head * T) + 2 * config.vocab_size
    return weights, batch_size * T * per_token * FLOAT_BYTES


def machine_memory():
    """Bytes of physical memory of this machine."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def check_fits(config, batch_size, device="cpu"):
    """Raise ValueError naming the estimate and the machine's memory when a CPU run cannot fit.

    (On a GPU the check is left to the device: tinytorch does not report GPU memory yet.)
    """
    if device != "cpu":
        return
    weights, activations = training_bytes(config, batch_size)
    available = machine_memory()
    if weights + activations > available:
        raise ValueError(
            f"this run needs about {gigabytes(weights + activations)} of memory ({gigabytes(weights)} for the "
            f"parameters, gradients and AdamW state, {gigabytes(activations)} for the activations of a "
            f"{batch_size}x{config.block_size} micro-batch), more than this machine's {gigabytes(available)}; "
            "lower --batch_size, --block_size or the model size (--n_layer, --n_embd, --n_head)")


def gigabytes(n):
    return f"{n / 1e9:,.1f} GB"
