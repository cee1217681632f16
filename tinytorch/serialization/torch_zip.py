"""PyTorch's checkpoint format (torch.save since PyTorch 1.6): a zip archive of one pickle and the
raw bytes of every storage it refers to.

    <archive>/data.pkl                  the saved object, pickled (protocol 2); each tensor is a
                                        rebuild call over a storage, a persistent id
                                        ('storage', torch.FloatStorage, key, location, numel)
    <archive>/.format_version           "1": storage keys count up from "0"
    <archive>/.storage_alignment        "64": every record's data starts on a 64-byte boundary
    <archive>/byteorder                 "little" (the byte order of the storages)
    <archive>/data/0, data/1, ...       one record per storage: its elements' raw bytes
    <archive>/version                   "3\\n"
    <archive>/.data/serialization_id    an id torch logs when it loads the file

`<archive>` is the file's name without its extension ("archive" in a file object), as torch
names it; readers take whatever folder holds data.pkl. The zip layout is in zip_writer, the
pickle in pickle_writer (writing) and weights_only_unpickler (reading).
"""
import io
import sys
import uuid
import zipfile

import numpy as np

from .pickle_writer import CheckpointPickler
from .storages import Storage, StorageType, numpy_dtype
from .weights_only_unpickler import Unpickler
from .zip_writer import ALIGNMENT, ZipWriter

CHUNK = 1 << 24  # bytes read at a time into a storage


def save(obj, file, archive):
    """Write `obj` to the binary file object `file` as the archive folder `archive`."""
    pickler = CheckpointPickler()
    data = pickler.dump(obj)
    zip_file = ZipWriter(file)
    zip_file.write_record(f"{archive}/data.pkl", data)
    zip_file.write_record(f"{archive}/.format_version", b"1")
    zip_file.write_record(f"{archive}/.storage_alignment", str(ALIGNMENT).encode())
    zip_file.write_record(f"{archive}/byteorder", sys.byteorder.encode())
    for key, storage in pickler.storages:
        zip_file.write_record(f"{archive}/data/{key}", storage)
    zip_file.write_record(f"{archive}/version", b"3\n")
    zip_file.write_record(f"{archive}/.data/serialization_id", f"{uuid.uuid4().int % 10 ** 40:040d}".encode())
    zip_file.finish()


def archive_name(path):
    """torch's name for the archive folder: the file's name up to its last dot ("archive" for a
    name like ".ckpt", which torch refuses)."""
    name = path.replace("\\", "/").rpartition("/")[2]
    return (name.rpartition(".")[0] if "." in name else name) or "archive"


def load(file, source, restore):
    """The object in the archive `file`; `restore(storage, location)` places each storage."""
    try:
        archive = zipfile.ZipFile(file)
    except zipfile.BadZipFile as e:
        raise RuntimeError(f"tinytorch.load: '{source}' is not a valid zip archive (truncated or corrupted?): {e}") \
            from None
    names = archive.namelist()
    pickles = [name for name in names if name.count("/") == 1 and name.endswith("/data.pkl")]
    if any(name.endswith("/constants.pkl") for name in names):
        raise RuntimeError(f"tinytorch.load: '{source}' is a TorchScript archive, which holds code; "
                           "tinytorch loads only weights")
    if len(pickles) != 1:
        raise RuntimeError(f"tinytorch.load: '{source}' is a zip archive but not a PyTorch checkpoint "
                           "(no <archive>/data.pkl in it)")
    prefix = pickles[0][:-len("data.pkl")]
    if f"{prefix}byteorder" in names and archive.read(f"{prefix}byteorder") != b"little":
        raise RuntimeError(f"tinytorch.load: '{source}' was written on a big-endian machine; tinytorch reads "
                           "little-endian checkpoints only (re-save it on a little-endian machine)")
    storages = {}

    def persistent_load(pid):
        if len(pid) != 5:
            raise ValueError(f"it holds a malformed storage id {pid!r}")
        _, storage_type, key, location, numel = pid
        if not (isinstance(storage_type, StorageType) and isinstance(key, str) and isinstance(numel, int)
                and isinstance(location, (str, bytes)) and numel >= 0):
            raise ValueError(f"it holds a malformed storage id {pid!r}")
        if key not in storages:
            array = read_storage(archive, f"{prefix}data/{key}", numpy_dtype(storage_type.dtype), numel)
            location = location.decode("ascii") if isinstance(location, bytes) else location
            storages[key] = restore(Storage(array), location)
        if storages[key].dtype is not storage_type.dtype:
            raise ValueError(f"it reads the storage {key} as both {storages[key].dtype.name} and "
                             f"{storage_type.dtype.name}")
        return storages[key]

    with archive:
        return Unpickler(io.BytesIO(archive.read(f"{prefix}data.pkl")), source, persistent_load).load()


def read_storage(archive, name, dtype, numel):
    """The record `name` as a flat array of `numel` elements of `dtype`, read in chunks (and
    checked against its CRC-32 by zipfile)."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise ValueError(f"its storage record {name} is missing") from None
    array = np.empty(numel, dtype)
    target = memoryview(array.view(np.uint8))
    if info.file_size != target.nbytes:
        raise ValueError(f"its storage record {name} holds {info.file_size} bytes, not the {target.nbytes} "
                         f"of {numel} {dtype} elements")
    with archive.open(info) as record:
        for start in range(0, target.nbytes, CHUNK):
            chunk = record.read(min(CHUNK, target.nbytes - start))
            if len(chunk) != min(CHUNK, target.nbytes - start):
                raise ValueError(f"its storage record {name} is truncated")
            target[start:start + len(chunk)] = chunk
        record.read(1)  # at the end: zipfile compares the CRC-32
    return array
