"""PyTorch's legacy checkpoint format (torch.save before PyTorch 1.6, or with
`_use_new_zipfile_serialization=False`), read only: pickles and raw bytes one after another.

    pickle   the magic number 0x1950a86a20f9469cfc6c
    pickle   the protocol version, 1001
    pickle   sys_info: {'protocol_version': 1001, 'little_endian': True, 'type_sizes': {...}}
    pickle   the saved object; each storage is a persistent id
             ('storage', torch.FloatStorage, key, location, numel, None)
             (the None was a storage view before PyTorch 0.4)
    pickle   the storage keys, in the order their data follows
    then per key: numel as a little-endian int64, and that many elements' raw bytes

The data comes after the object that uses it, so the object's tensors are built over zeroed
CPU storages that the data then fills. When `map_location` puts a storage elsewhere (the GPU),
the object is read a second time, over the storages where they now are.
"""
import pickle
import struct

import numpy as np

from .storages import Storage, StorageType, numpy_dtype
from .weights_only_unpickler import Unpickler

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001


def load(file, source, restore):
    """The object in the legacy checkpoint `file`; `restore(storage, location)` places each storage."""
    def next_pickle(persistent_load=None):
        return Unpickler(file, source, persistent_load).load()

    start = file.tell()
    is_binary_pickle = file.read(1) == pickle.PROTO  # torch writes protocol 2
    file.seek(start)
    if not is_binary_pickle or next_pickle() != MAGIC_NUMBER:
        raise RuntimeError(f"tinytorch.load: '{source}' is not a checkpoint: neither safetensors nor PyTorch's "
                           "zip or legacy format")
    if next_pickle() != PROTOCOL_VERSION:
        raise RuntimeError(f"tinytorch.load: '{source}' is in an unknown version of PyTorch's legacy format")
    sys_info = next_pickle()
    if not isinstance(sys_info, dict) or not sys_info.get("little_endian", True):
        raise RuntimeError(f"tinytorch.load: '{source}' was written on a big-endian machine; tinytorch reads "
                           "little-endian checkpoints only (re-save it on a little-endian machine)")
    object_start = file.tell()
    storages = LegacyStorages(source, budget=file.seek(0, 2) - object_start)
    file.seek(object_start)
    obj = next_pickle(storages.persistent_load)
    storages.read_data(file, next_pickle())
    if not storages.restore(restore):
        return obj
    file.seek(object_start)
    return next_pickle(storages.persistent_load)


class LegacyStorages:
    """The storages of one legacy checkpoint, by key: created when the object first names them,
    filled from the data that follows it, then restored to their devices."""

    def __init__(self, source, budget):
        self.source = source
        self.budget = budget  # bytes left in the file: no storage can be larger
        self.roots = {}  # key -> [Storage, saved location]

    def persistent_load(self, pid):
        if len(pid) != 6:
            raise ValueError(f"it holds a malformed storage id {pid!r}")
        _, storage_type, key, location, numel, view = pid
        if not (isinstance(storage_type, StorageType) and isinstance(key, str) and isinstance(numel, int)
                and isinstance(location, (str, bytes)) and 0 <= numel):
            raise ValueError(f"it holds a malformed storage id {pid!r}")
        if key not in self.roots:
            dtype = numpy_dtype(storage_type.dtype)
            if numel * dtype.itemsize > self.budget:
                raise ValueError(f"its storage {key} claims {numel} elements, more than the file holds")
            location = location.decode("ascii") if isinstance(location, bytes) else location
            self.roots[key] = [Storage(np.zeros(numel, dtype)), location]
        storage = self.roots[key][0]
        if storage.dtype is not storage_type.dtype:
            raise ValueError(f"it reads the storage {key} as both {storage.dtype.name} and {storage_type.dtype.name}")
        if view is not None:
            raise ValueError("it holds a storage view, from PyTorch before 0.4, which tinytorch does not read")
        return storage

    def read_data(self, file, keys):
        """Fill the storages from the data after the object, in the order of `keys`."""
        if not (isinstance(keys, list) and all(isinstance(key, str) for key in keys)
                and sorted(keys) == sorted(self.roots)):
            raise RuntimeError(f"tinytorch.load: '{self.source}' lists storages {keys!r} but its object uses "
                               f"{sorted(self.roots)}")
        for key in keys:
            storage = self.roots[key][0]
            count = file.read(8)
            if len(count) != 8 or struct.unpack("<q", count)[0] != len(storage):
                raise RuntimeError(f"tinytorch.load: '{self.source}' is truncated or corrupted: the data of "
                                   f"storage {key} does not start with its {len(storage)} elements")
            target = memoryview(storage.array.view(np.uint8))
            if file.readinto(target) != target.nbytes:
                raise RuntimeError(f"tinytorch.load: '{self.source}' is truncated (in the data of storage {key})")

    def restore(self, restore):
        """Send each storage where `restore` says; returns whether any of them moved."""
        moved = False
        for entry in self.roots.values():
            placed = restore(*entry)
            moved |= placed is not entry[0]
            entry[0] = placed
        return moved
