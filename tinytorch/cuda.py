"""`tinytorch.cuda`, as torch.cuda: whether a GPU is there, synchronisation, and the CUDA random state."""
import importlib

from . import random, random_state
from .device import device, import_cupy, loaded_cupy


def __getattr__(name):
    """`amp`, torch.cuda.amp (the deprecated autocast and GradScaler), imported when first asked for:
    it imports this module itself."""
    if name == "amp":
        return importlib.import_module(".amp.cuda_amp", __package__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def is_available():
    """Whether CuPy imports and sees a CUDA GPU."""
    try:
        import_cupy()
    except RuntimeError:
        return False
    return True


def synchronize():
    """Wait for the GPU's queued work (nothing to wait for before CuPy is first used)."""
    cupy = loaded_cupy()
    if cupy is not None:
        cupy.cuda.Device().synchronize()


def device_count():
    return import_cupy().cuda.runtime.getDeviceCount() if is_available() else 0


def set_device(dev):
    """Make GPU `dev` (an index, "cuda:N" or a device) the one CUDA tensors and NCCL use from now on
    (a data-parallel process picks its LOCAL_RANK's GPU so)."""
    index = dev if isinstance(dev, int) else device(dev).index
    import_cupy().cuda.Device(index or 0).use()


def current_device():
    return import_cupy().cuda.Device().id


def manual_seed(seed):
    """Seed the default CUDA generator (a no-op without a GPU, as in torch)."""
    if is_available():
        random.generator_for("cuda").manual_seed(seed)


manual_seed_all = manual_seed


def get_rng_state():
    """The default CUDA generator's state, or None if nothing has drawn on the GPU yet."""
    return random_state.get_cuda_rng_state()


def set_rng_state(state):
    random_state.set_cuda_rng_state(state)
