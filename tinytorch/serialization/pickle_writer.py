"""Objects to the protocol-2 pickle that torch.save writes, with tinytorch's tensors as torch's.

Python's pickler cannot write it: it spells each class or function by the module it lives in
and checks that by importing, while this pickle must say `torch._utils._rebuild_tensor_v2`,
`torch.FloatStorage` or `torch.Size` for tinytorch's objects, with no torch to import. So this
module writes the opcodes itself, as torch.save's pickler would:

- a tensor is `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
  OrderedDict())`, a Parameter `_rebuild_parameter(tensor, requires_grad, OrderedDict())`;
- a storage is the persistent id `('storage', torch.FloatStorage, key, 'cpu', numel)`; its
  bytes go to the archive's `data/<key>` record. Tensors that view one NumPy buffer (a weight
  and its transpose, slices of one array) name one storage, as in torch, and the whole buffer
  is saved once;
- tinytorch's objects on the allow-list are written under their torch names (`torch.Size`,
  `torch.device`, `torch.float32`), so torch.load(weights_only=True) reads them back;
- dicts, lists, tuples, strings, numbers, None and bytes are pickle's own opcodes, and any
  other object goes through copyreg's table or its `__reduce_ex__(2)`, as pickle does (a
  config dataclass becomes NEWOBJ + BUILD of its module-qualified class, which a weights-only
  loader must be told to allow).

Every object is memoized, so one object saved twice loads as one object.
"""
import copyreg
import io
import pickle as P
import struct
import sys
import types

import numpy as np

from ..device import device
from ..nn.parameter import Parameter
from ..tensor import Size, Tensor
from .allow_list import TORCH_GLOBALS
from .storages import STORAGE_TYPES, location_of

BATCH = 1000  # items per APPENDS / SETITEMS, as pickle writes them
# id(tinytorch object) -> its torch name; the first name wins (torch.FloatStorage, not torch.cuda.FloatStorage)
TORCH_NAMES = {id(obj): name for name, obj in reversed(TORCH_GLOBALS.items())}


class CheckpointPickler:
    """`pickler.dump(obj)` returns the pickle's bytes; then `pickler.storages` holds
    (key, flat uint8 array) for every storage it refers to, in key order."""

    def __init__(self):
        self.out = io.BytesIO()
        self.memo = {}  # id(obj), or ("global", module, name) -> memo index
        self.kept = []  # memoized objects stay alive until the end, so their ids stay theirs
        self.storage_keys = {}  # (id of a NumPy buffer, dtype) -> storage key
        self.storages = []
        self.path = []  # where in the saved object we are, for error messages

    def dump(self, obj):
        self.write(P.PROTO, b"\x02")
        self.save(obj)
        self.write(P.STOP)
        return self.out.getvalue()

    def write(self, *chunks):
        for chunk in chunks:
            self.out.write(chunk)

    def where(self):
        return "the top level" if not self.path else "key path " + "/".join(repr(k) for k in self.path)

    def save(self, obj):
        kind = type(obj)
        if obj is None or kind is bool:
            self.write({None: P.NONE, True: P.NEWTRUE, False: P.NEWFALSE}[obj])
        elif kind is int:
            self.save_int(obj)
        elif kind is float:
            self.write(P.BINFLOAT, struct.pack(">d", obj))
        elif id(obj) in self.memo:
            self.write_get(self.memo[id(obj)])
        elif kind is str:
            data = obj.encode("utf-8", "surrogatepass")
            self.write(P.BINUNICODE, struct.pack("<I", len(data)), data)
            self.memoize(obj)
        elif kind is bytes:  # protocol 2 spells bytes as _codecs.encode(latin-1 text, 'latin1')
            self.save_call("_codecs.encode", (obj.decode("latin-1"), "latin1"), obj)
        elif kind is bytearray:
            self.save_call("builtins.bytearray", (bytes(obj),), obj)
        elif kind is tuple:
            self.save_tuple(obj)
        elif kind is list:
            self.write(P.EMPTY_LIST)
            self.memoize(obj)
            self.save_items(list(enumerate(obj)), P.APPENDS)
        elif kind is dict:
            self.write(P.EMPTY_DICT)
            self.memoize(obj)
            self.save_items(list(obj.items()), P.SETITEMS)
        elif isinstance(obj, Tensor):
            self.save_tensor(obj)
        elif kind is Size:
            self.save_call("torch.Size", (tuple(obj),), obj)
        elif kind is device:
            self.save_call("torch.device", (obj.type,) if obj.index is None else (obj.type, obj.index), obj)
        elif id(obj) in TORCH_NAMES or isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
            self.save_global(obj)
        else:
            self.save_reduce(obj)

    def save_int(self, n):
        if 0 <= n < 256:
            self.write(P.BININT1, bytes([n]))
        elif 0 <= n < 65536:
            self.write(P.BININT2, struct.pack("<H", n))
        elif -2 ** 31 <= n < 2 ** 31:
            self.write(P.BININT, struct.pack("<i", n))
        else:
            data = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)
            if len(data) < 256:
                self.write(P.LONG1, bytes([len(data)]), data)
            else:
                self.write(P.LONG4, struct.pack("<I", len(data)), data)

    def save_tuple(self, obj):
        if not obj:
            self.write(P.EMPTY_TUPLE)
            return
        if len(obj) > 3:
            self.write(P.MARK)
        for i, item in enumerate(obj):
            self.path.append(i)
            self.save(item)
            self.path.pop()
        self.write({1: P.TUPLE1, 2: P.TUPLE2, 3: P.TUPLE3}.get(len(obj), P.TUPLE))
        self.memoize(obj)

    def save_items(self, items, opcode):
        """(key, value) pairs into the container on top of the stack, in batches: the values with
        APPENDS, keys and values with SETITEMS."""
        for start in range(0, len(items), BATCH):
            self.write(P.MARK)
            for key, value in items[start:start + BATCH]:
                self.path.append(key)
                if opcode == P.SETITEMS:
                    self.save(key)
                self.save(value)
                self.path.pop()
            self.write(opcode)

    # ---- the memo and globals --------------------------------------------------------------------
    def memoize(self, obj, key=None):
        index = len(self.memo)
        if index < 256:
            self.write(P.BINPUT, bytes([index]))
        else:
            self.write(P.LONG_BINPUT, struct.pack("<I", index))
        self.memo[id(obj) if key is None else key] = index
        self.kept.append(obj)

    def write_get(self, index):
        if index < 256:
            self.write(P.BINGET, bytes([index]))
        else:
            self.write(P.LONG_BINGET, struct.pack("<I", index))

    def save_global(self, obj):
        """GLOBAL for a class, function or allow-listed object: its torch name if it is on the
        allow-list, else its module and qualified name, which must lead back to it (checked
        through sys.modules, without importing)."""
        if id(obj) in TORCH_NAMES:
            module, _, name = TORCH_NAMES[id(obj)].rpartition(".")
        else:
            module, name = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
            found = sys.modules.get(module) if isinstance(module, str) and isinstance(name, str) else None
            for part in (name or "").split("."):
                found = getattr(found, part, None)
            if found is not obj:
                raise TypeError(f"tinytorch.save: cannot save {obj!r} at {self.where()}: a checkpoint names it "
                                f"{module}.{name}, which does not lead back to it")
        self.save_global_name(module, name)

    def save_global_name(self, module, name):
        key = ("global", module, name)
        if key in self.memo:
            self.write_get(self.memo[key])
        else:
            self.write(P.GLOBAL, f"{module}\n{name}\n".encode("utf-8"))
            self.memoize(key, key)

    def save_call(self, torch_name, args, obj):
        """`obj` as the call `torch_name(*args)`, e.g. torch.Size((2, 3))."""
        module, _, name = torch_name.rpartition(".")
        self.save_global_name(module, name)
        self.save(args)
        self.write(P.REDUCE)
        self.memoize(obj)

    def save_reduce(self, obj):
        """Any other object, through copyreg's table or its __reduce_ex__(2), as pickle does."""
        reducer = copyreg.dispatch_table.get(type(obj))
        try:
            reduced = reducer(obj) if reducer else obj.__reduce_ex__(2)
        except TypeError as e:
            raise TypeError(f"tinytorch.save: cannot save a {type(obj).__name__} at {self.where()}: {e}") from None
        if isinstance(reduced, str):  # a module-level singleton, named like a global
            self.save_global(obj)
            return
        if len(reduced) > 5:
            raise TypeError(f"tinytorch.save: cannot save a {type(obj).__name__} at {self.where()}: "
                            "it reduces with a state setter")
        func, args, state, list_items, dict_items = (*reduced, None, None, None)[:5]
        if func is copyreg.__newobj__:
            self.save_global(args[0])
            self.save(tuple(args[1:]))
            self.write(P.NEWOBJ)
        else:
            self.save_global(func)
            self.save(tuple(args))
            self.write(P.REDUCE)
        self.memoize(obj)
        if list_items is not None:
            self.save_items(list(enumerate(list_items)), P.APPENDS)
        if dict_items is not None:
            self.save_items(list(dict_items), P.SETITEMS)
        if state is not None:
            self.save(state)
            self.write(P.BUILD)

    # ---- tensors and storages --------------------------------------------------------------------
    def save_tensor(self, tensor):
        if isinstance(tensor, Parameter):
            self.save_global_name("torch._utils", "_rebuild_parameter")
            self.write(P.MARK)
            self.save_rebuild_tensor(tensor, requires_grad=False)
            self.save(tensor.requires_grad)
            self.save_no_hooks()
            self.write(P.TUPLE, P.REDUCE)
        else:
            self.save_rebuild_tensor(tensor, tensor.requires_grad)
        self.memoize(tensor)

    def save_rebuild_tensor(self, tensor, requires_grad):
        """_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, OrderedDict())."""
        array = tensor.numpy(force=True)  # the tensor's own array on the CPU; a host copy of a GPU tensor
        self.save_global_name("torch._utils", "_rebuild_tensor_v2")
        self.write(P.MARK)
        offset, stride = self.save_storage(array, tensor.dtype, location_of(tensor))
        for value in (offset, tuple(array.shape), stride, requires_grad):
            self.save(value)
        self.save_no_hooks()
        self.write(P.TUPLE, P.REDUCE)

    def save_no_hooks(self):
        """The empty OrderedDict of backward hooks torch writes for every tensor."""
        self.save_global_name("collections", "OrderedDict")
        self.write(P.EMPTY_TUPLE, P.REDUCE)

    def save_storage(self, array, dtype, location):
        """The persistent id of the storage that holds `array`; returns the array's
        (storage_offset, stride) in it, in elements."""
        buffer, offset, strides = storage_layout(array)
        key = self.storage_keys.get((id(buffer), dtype))
        if key is None:
            key = self.storage_keys[(id(buffer), dtype)] = str(len(self.storages))
            self.storages.append((key, buffer.reshape(-1, order="A").view(np.uint8)))
            self.kept.append(buffer)
        self.write(P.MARK)
        self.save("storage")
        self.save_global(STORAGE_TYPES[dtype])
        for value in (key, location, buffer.nbytes // array.itemsize):
            self.save(value)
        self.write(P.TUPLE, P.BINPERSID)
        return offset // array.itemsize, tuple(s // array.itemsize for s in strides)


def storage_layout(array):
    """(buffer, byte offset, byte strides) of `array` as a view of the NumPy array that owns its
    memory, as torch sees a tensor inside its storage; a contiguous copy of `array` (offset 0) when
    torch's layout cannot describe the view (negative strides, an odd offset, a non-contiguous
    owner)."""
    buffer = array
    while isinstance(buffer.base, np.ndarray):
        buffer = buffer.base
    offset = array.__array_interface__["data"][0] - buffer.__array_interface__["data"][0]
    item = array.itemsize
    if ((buffer.flags.c_contiguous or buffer.flags.f_contiguous) and buffer.nbytes % item == 0
            and offset % item == 0 and all(s >= 0 and s % item == 0 for s in array.strides)):
        return buffer, offset, array.strides
    copy = array.copy(order="C")
    return copy, 0, copy.strides
