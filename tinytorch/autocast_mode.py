"""Automatic mixed precision: `tinytorch.autocast` (also `tinytorch.amp.autocast`), its state, and the
per-op cast policy, with PyTorch's names and rules.

    with tinytorch.autocast("cpu"):                  # bfloat16 by default on the CPU, float16 on CUDA
        logits = model(x)                           # matmuls in bfloat16, the weights stay float32
        loss = F.cross_entropy(logits, y)           # the loss in float32
    loss.backward()                                 # float32 gradients reach the float32 weights

The state is per thread and per device type: whether autocast is on and its dtype. A block turns it
on (or off, with enabled=False) and puts back what was there before when it ends, so blocks nest.

The policy (torch's CPU lists, for the ops tinytorch has). An op consults it through the one
decorator `@autocast.policy(name)`; while autocast is on for the device of the op's tensors, it
casts every floating tensor argument that is not float64:

- LOWER_PRECISION ops (matrix products, linear, convolutions, attention) to the autocast dtype;
- FLOAT32 ops (the losses, prod, cdist, ...) to float32.

Every other op runs on its inputs as they are, so ordinary type promotion gives the widest of them
(bfloat16 + float32 -> float32). Torch's CPU lists do not hold softmax, log_softmax, layer_norm,
group_norm, sum or mean: on the CPU these keep their input's dtype (CUDA's lists differ).

A cast is the differentiable `.to(dtype)`, so the gradient flows back to each float32 leaf in the
leaf's own dtype. `cache_enabled` is accepted; casts are not cached (the values are the same either
way, a cache only saves recasting a weight used twice in one block).
"""
import functools
import threading
import warnings

from . import dtypes as _dt
from .autograd import TensorBase
from .device import import_cupy

DEVICE_TYPES = ("cpu", "cuda")
DEFAULT_DTYPES = {"cpu": _dt.bfloat16, "cuda": _dt.float16}
CPU_DTYPES = (_dt.bfloat16, _dt.float16)

LOWER_PRECISION = frozenset({
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "prelu",
    "bmm", "mm", "matmul", "baddbmm", "addmm", "addbmm", "linear", "scaled_dot_product_attention"})
FLOAT32 = frozenset({
    "prod", "cdist", "trace", "binary_cross_entropy", "binary_cross_entropy_with_logits", "mse_loss",
    "cosine_embedding_loss", "nll_loss", "cross_entropy", "hinge_embedding_loss", "poisson_nll_loss",
    "smooth_l1_loss", "l1_loss", "huber_loss", "margin_ranking_loss", "soft_margin_loss", "triplet_margin_loss",
    "multi_margin_loss", "multilabel_margin_loss", "ctc_loss", "kl_div", "avg_pool3d", "max_pool3d",
    "adaptive_avg_pool3d", "adaptive_max_pool3d", "reflection_pad1d", "reflection_pad2d", "replication_pad1d",
    "replication_pad2d", "replication_pad3d"})


class _State(threading.local):
    def __init__(self):
        self.enabled = {}  # device type -> the autocast dtype, for each device type where autocast is on
        self.dtypes = dict(DEFAULT_DTYPES)


_state = _State()


def _check_device_type(device_type):
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if device_type not in DEVICE_TYPES:
        raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")


def is_autocast_available(device_type):
    """Whether autocast knows `device_type` (torch.amp.is_autocast_available)."""
    return device_type in DEVICE_TYPES


def is_autocast_enabled(device_type="cuda"):
    """Whether autocast is on for `device_type` in this thread (torch's default device type is cuda)."""
    _check_device_type(device_type)
    return device_type in _state.enabled


def get_autocast_dtype(device_type):
    """The dtype autocast casts to on `device_type` (bfloat16 on the CPU, float16 on CUDA until set)."""
    _check_device_type(device_type)
    return _state.dtypes[device_type]


def set_autocast_enabled(device_type, enabled):
    _check_device_type(device_type)
    if enabled:
        _state.enabled[device_type] = _state.dtypes[device_type]
    else:
        _state.enabled.pop(device_type, None)


def set_autocast_dtype(device_type, dtype):
    _check_device_type(device_type)
    _state.dtypes[device_type] = dtype
    if device_type in _state.enabled:
        _state.enabled[device_type] = dtype


class autocast:
    """torch.autocast(device_type, dtype=None, enabled=True, cache_enabled=None): a context manager
    and a decorator that turns the policy on (or off) for one device type.

    As in torch, a dtype that the device cannot autocast to, or CUDA without a GPU, warns and gives a
    block that turns autocast off. A decorated function runs inside the block at every call.
    """

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        _check_device_type(device_type)
        self.device = device_type
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtype
        self._enabled = bool(enabled)
        self._cache_enabled = cache_enabled
        self._saved = []  # (enabled, dtype) before each entry still open: the same object may be re-entered
        if not self._enabled:
            return
        if device_type == "cuda" and not cuda_available():
            warnings.warn("CUDA is not available. Disabling autocast.", stacklevel=2)
            self._enabled = False
        elif device_type == "cpu" and self.fast_dtype not in CPU_DTYPES:
            warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling autocast.\n"
                          f"CPU Autocast only supports dtypes of {_dt.bfloat16!r}, {_dt.float16!r} currently.",
                          stacklevel=2)
            self._enabled = False

    def __enter__(self):
        self._saved.append((is_autocast_enabled(self.device), get_autocast_dtype(self.device)))
        set_autocast_dtype(self.device, self.fast_dtype)
        set_autocast_enabled(self.device, self._enabled)
        return self

    def __exit__(self, *exc):
        enabled, dtype = self._saved.pop()
        set_autocast_dtype(self.device, dtype)
        set_autocast_enabled(self.device, enabled)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def under_autocast(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return under_autocast


def cuda_available():
    """tinytorch.cuda.is_available(), asked of the device module (tinytorch.cuda imports the Tensor
    layer, which imports this module)."""
    try:
        import_cupy()
    except RuntimeError:
        return False
    return True


def policy(op):
    """Decorator for the function of op `op` (a name in LOWER_PRECISION or FLOAT32): while autocast is
    on for the device of its first tensor argument, its floating tensor arguments (positional or
    keyword, float64 excepted) arrive cast to the dtype the list says."""
    lower = op in LOWER_PRECISION
    if not lower and op not in FLOAT32:
        raise ValueError(f"autocast.policy: {op!r} is on neither autocast list")

    def decorate(fn):
        @functools.wraps(fn)
        def cast_then_run(*args, **kwargs):
            enabled = _state.enabled
            if enabled:
                device_type = next((a.device.type for a in args if isinstance(a, TensorBase)), None)
                target = enabled.get(device_type)
                if target is not None:
                    target = target if lower else _dt.float32
                    args = [_cast(a, target) for a in args]
                    kwargs = {k: _cast(v, target) for k, v in kwargs.items()}
            return fn(*args, **kwargs)
        return cast_then_run
    return decorate


def _cast(value, target):
    if isinstance(value, TensorBase) and value.dtype.is_floating_point and value.dtype is not _dt.float64:
        return value.to(target)
    return value
