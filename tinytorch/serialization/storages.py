"""Storages, and tensors rebuilt as views of them: what a torch checkpoint's pickle refers to.

A torch checkpoint keeps each tensor's elements in a *storage*, a flat buffer of one dtype, and
describes the tensor as a view of it: (storage, storage_offset, size, stride), all counted in
elements. Tensors that shared memory when they were saved (a tensor and its transpose, the slices
of one buffer) name the same storage, so they share memory again once loaded.

In the pickle a storage's dtype is named by torch's legacy storage class (`torch.FloatStorage`
is float32, `torch.LongStorage` int64, ...) and the storage is tagged with the device it lived on
('cpu', 'cuda:0'); `map_location` may send it elsewhere. `Storage` is a loaded storage;
`restorer(map_location)` is torch.load's map_location as a function; the `rebuild_*` functions
are tinytorch's twins of torch._utils' `_rebuild_tensor_v2` and friends, which a checkpoint calls
to turn storages into tensors and parameters.
"""
import numbers

import numpy as np

from .. import dtypes
from ..device import array_module, device as _device, device_of, xp_for
from ..nn.parameter import Parameter
from ..tensor import Tensor


class StorageType:
    """A legacy torch storage class (`torch.FloatStorage`): in a checkpoint it names a storage's dtype."""

    def __init__(self, name, dtype):
        self.name = name
        self.dtype = dtype

    def __repr__(self):
        return f"torch.{self.name}"


STORAGE_TYPES = {d: StorageType(name, d) for d, name in (
    (dtypes.float64, "DoubleStorage"), (dtypes.float32, "FloatStorage"), (dtypes.float16, "HalfStorage"),
    (dtypes.bfloat16, "BFloat16Storage"), (dtypes.int64, "LongStorage"), (dtypes.int32, "IntStorage"),
    (dtypes.int16, "ShortStorage"), (dtypes.uint8, "ByteStorage"), (dtypes.bool_, "BoolStorage"))}


def numpy_dtype(dtype):
    """The NumPy dtype of a storage's tinytorch dtype, or a clear error for one NumPy cannot hold."""
    try:
        return dtypes.to_numpy(dtype)
    except TypeError:
        raise ValueError(f"it holds {dtype.name} tensors, which tinytorch cannot store yet") from None


class Storage:
    """A loaded storage: a flat array (NumPy on the CPU, CuPy on the GPU). A `map_location`
    callable gets one with its saved location and returns it, `storage.cpu()` or `storage.cuda()`."""

    def __init__(self, array):
        self.array = array

    @property
    def device(self):
        return device_of(self.array)

    @property
    def dtype(self):
        return dtypes.from_numpy(self.array.dtype)

    def __len__(self):
        return self.array.shape[0]

    def cpu(self):
        return self if isinstance(self.array, np.ndarray) else Storage(self.array.get())

    def cuda(self, device=None, non_blocking=False):
        return Storage(xp_for("cuda").asarray(self.array)) if isinstance(self.array, np.ndarray) else self

    def __repr__(self):
        return f"Storage({self.dtype.name}, {len(self)} elements, on {self.device})"


def restorer(map_location):
    """torch.load's `map_location` as a function (storage, saved location) -> storage on its device.

    None keeps each storage's saved location; a device or device name sends every storage there;
    a dict maps saved locations to new ones ({'cuda:0': 'cpu'}), leaving the others as saved;
    a callable is called as `map_location(storage, location)` and may return None for "as saved".
    """
    if map_location is None:
        return to_location
    if isinstance(map_location, bytes):
        map_location = map_location.decode("ascii")
    if isinstance(map_location, (str, _device)):
        target = str(_device(map_location))
        return lambda storage, location: to_location(storage, target)
    if isinstance(map_location, dict):
        return lambda storage, location: to_location(storage, str(map_location.get(location, location)))
    if callable(map_location):
        def call(storage, location):
            moved = map_location(storage, location)
            if moved is None:
                return to_location(storage, location)
            if not isinstance(moved, Storage):
                raise TypeError(f"map_location returned a {type(moved).__name__}, not a storage")
            return moved
        return call
    raise TypeError(f"map_location must be None, a device, a device name, a dict or a callable, "
                    f"got {type(map_location).__name__}")


def to_location(storage, location):
    """`storage` on the device named by a location tag ('cpu', 'cuda', 'cuda:1')."""
    kind = location.partition(":")[0]
    if kind == "cpu":
        return storage.cpu()
    if kind != "cuda":
        raise RuntimeError(f"it holds tensors saved on '{location}', a device tinytorch does not have; "
                           "pass map_location='cpu' to load them on the CPU")
    try:
        return storage.cuda()
    except RuntimeError as e:
        raise RuntimeError(f"it holds tensors saved on {location}, but {e}; "
                           "pass map_location='cpu' to load them on the CPU") from None


def location_of(tensor):
    """torch's location tag of a tensor's storage: 'cpu' or 'cuda:N'."""
    dev = tensor.device
    return "cpu" if dev.type == "cpu" else f"cuda:{dev.index or 0}"


# ---- tinytorch's twins of torch._utils' rebuild functions ---------------------------------------

def rebuild_tensor(storage, storage_offset, size, stride):
    """torch._utils._rebuild_tensor: the view (storage_offset, size, stride) of `storage`."""
    if not isinstance(storage, Storage):
        raise TypeError(f"a tensor's storage must be a storage, got {type(storage).__name__}")
    return Tensor._wrap(strided_view(storage.array, storage_offset, tuple(size), tuple(stride)))


def rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None):
    """torch._utils._rebuild_tensor_v2, what torch.save writes for every tensor. Backward hooks are
    never saved (torch writes an empty dict); `metadata` holds torch's conj/neg bits."""
    if metadata and any(metadata.values()):
        raise ValueError(f"it holds a tensor with torch's lazy conjugate/negative bits set ({metadata}), "
                         "which tinytorch does not have")
    return rebuild_tensor(storage, storage_offset, size, stride).requires_grad_(bool(requires_grad))


def rebuild_parameter(data, requires_grad, backward_hooks):
    """torch._utils._rebuild_parameter: an nn.Parameter around a rebuilt tensor."""
    return Parameter(data, bool(requires_grad))


def rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    """torch._utils._rebuild_parameter_with_state: a Parameter with Python attributes set on it."""
    return set_state(rebuild_parameter(data, requires_grad, backward_hooks), state)


def rebuild_from_type_v2(func, new_type, args, state):
    """torch._tensor._rebuild_from_type_v2, written for tensors carrying Python attributes: rebuild
    with `func`, then set the attributes. Tensor subclasses other than Parameter are not supported."""
    if func not in REBUILD_FUNCTIONS:
        raise ValueError(f"it rebuilds a tensor with {func!r}, which is not a tensor rebuild function")
    tensor = func(*args)
    if type(tensor) is not new_type:
        raise ValueError(f"it holds a tensor of the subclass {new_type!r}, which tinytorch does not support")
    return set_state(tensor, state)


REBUILD_FUNCTIONS = (rebuild_tensor, rebuild_tensor_v2, rebuild_parameter, rebuild_parameter_with_state)


def set_state(obj, state):
    """Set an object's pickled state as pickle's BUILD does: `state` is its __dict__, or a pair
    (__dict__, slot values) set with setattr. Names like `__class__` are refused, so a file
    cannot change what kind of object it built."""
    dict_state, slot_state = state if isinstance(state, tuple) and len(state) == 2 else (state, None)
    for part in (dict_state, slot_state):
        if part is not None and not (isinstance(part, dict) and all(
                isinstance(name, str) and not name.startswith("__") for name in part)):
            raise ValueError(f"cannot set the state {part!r} on a {type(obj).__name__}: expected a dict of "
                             "attribute names (not dunder names)")
    if dict_state:
        obj.__dict__.update(dict_state)
    for name, value in (slot_state or {}).items():
        setattr(obj, name, value)
    return obj


def strided_view(array, offset, size, stride):
    """The view of the flat `array` at element `offset` with `size` and `stride` (in elements),
    after checking that every element it can reach lies inside the array: a file's numbers never
    reach memory outside its storage."""
    counts = (offset, *size, *stride)
    if len(size) != len(stride) or not all(isinstance(n, numbers.Integral) and n >= 0 for n in counts):
        raise ValueError(f"it holds a tensor view with a bad layout: offset {offset}, size {size}, stride {stride}")
    if 0 in size:
        return array_module(array).empty(size, array.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= array.shape[0]:
        raise ValueError(f"it holds a tensor view (offset {offset}, size {size}, stride {stride}) that reaches "
                         f"element {last} of a storage of {array.shape[0]} elements")
    strides = tuple(s * array.itemsize for s in stride)
    if isinstance(array, np.ndarray):
        return np.ndarray(size, array.dtype, buffer=array, offset=offset * array.itemsize, strides=strides)
    return array_module(array).lib.stride_tricks.as_strided(array[offset:], size, strides)
