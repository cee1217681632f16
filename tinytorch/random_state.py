"""torch.get_rng_state / set_rng_state and torch.cuda's: the default generators' states as uint8 tensors.

The CPU state is torch's 5056-byte layout, so a state saved by either framework restores the same
stream in the other (random/cpu_state.py).
"""
from .random import cuda_generator_if_used, default_generator, generator_for
from .tensor import Tensor


def get_rng_state():
    """The default CPU generator's state, a uint8 tensor of 5056 bytes."""
    return Tensor._wrap(default_generator.get_state())


def set_rng_state(new_state):
    """Restore the default CPU generator from a state of get_rng_state (tinytorch's or torch's)."""
    default_generator.set_state(new_state)


def get_cuda_rng_state():
    """The default CUDA generator's state (16 bytes), or None if nothing has drawn on the GPU yet."""
    generator = cuda_generator_if_used()
    return None if generator is None else Tensor._wrap(generator.get_state())


def set_cuda_rng_state(new_state):
    generator_for("cuda").set_state(new_state)
