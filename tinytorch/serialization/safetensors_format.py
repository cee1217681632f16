"""tinytorch's native checkpoints: safetensors files, which hold no code at all.

A checkpoint is any nesting of dicts, lists and tuples whose leaves are tensors, numbers,
strings, booleans or None — a model's state_dict, an optimizer's state_dict, a training step,
an RNG state. The tensors are stored as safetensors entries named by their path
(`model.0.weight`, `optimizer.state.0.exp_avg`); the nesting and the non-tensor values go into
a JSON document in the file's metadata under the key "tinytorch". Loading reads that JSON and
the raw tensor bytes. A safetensors file written by anyone else loads as a flat dict of tensors.

The metadata also holds "tinytorch.crc32": a CRC-32 of every entry's name and bytes (in name order),
checked on load, so a flipped bit in the tensor data is an error naming the file rather than a
silently different model (files written before the checksum existed load unchecked). Every way a
file can be malformed — truncated, a damaged header, metadata of the wrong shape, nested too deep,
numbers too large — ends in one RuntimeError naming the file.

The file is laid out as safetensors specifies: an 8-byte little-endian header length, the JSON
header (each entry's dtype, shape and byte range, and "__metadata__"), then the tensor bytes.
"""
import json
import zlib

import numpy as np
import safetensors.numpy
from safetensors import SafetensorError, safe_open

from ..tensor import Tensor
from .atomic import replacing
from .storages import Storage

METADATA_KEY = "tinytorch"
CHECKSUM_KEY = "tinytorch.crc32"
MAX_DEPTH = 100  # nesting levels of dicts/lists/tuples a checkpoint may have
_SCALARS = (bool, int, float, str, type(None))


class Malformed(ValueError):
    """What is wrong with a file's metadata or data (load turns it into a RuntimeError naming the file)."""


def save(obj, path):
    """Write `obj` (nested dicts/lists/tuples of tensors and plain values) to the file `path`, atomically."""
    tensors = {}
    tree = _encode(obj, (), tensors)
    metadata = {METADATA_KEY: json.dumps(tree), CHECKSUM_KEY: checksum(tensors)}
    with replacing(path) as tmp:
        save_file(tensors, tmp, metadata)


def save_file(tensors, path, metadata):
    """safetensors' save_file, writing into `path` itself: safetensors' own writes a temporary file of its
    own (`.tmpXXXXXX`) first, which a killed process would leave behind under a name no one cleans up."""
    with open(path, "wb") as f:
        f.write(safetensors.numpy.save(tensors, metadata=metadata))


def checksum(arrays):
    """CRC-32 (8 hex digits) of the entries' names and bytes, in name order."""
    crc = 0
    for name in sorted(arrays):
        crc = zlib.crc32(name.encode("utf-8") + b"\0", crc)
        crc = zlib.crc32(np.ascontiguousarray(arrays[name]).reshape(-1).view(np.uint8), crc)
    return f"{crc:08x}"


def is_safetensors(head):
    """Whether the first bytes of a file look like safetensors: a header length, then '{'."""
    return len(head) > 8 and head[8:9] == b"{"


def load(file, path, source, restore):
    """The checkpoint in the safetensors file `file` (read through `path` when there is one);
    `restore(storage, location)` places each tensor."""
    try:
        if path is not None:
            with safe_open(path, framework="np") as fh:
                metadata = fh.metadata()
                arrays = {name: fh.get_tensor(name) for name in fh.keys()}
        else:
            data = file.read()
            arrays = safetensors.numpy.load(data)
            metadata = _header_metadata(data)
        return _decode_file(metadata, arrays, restore)
    except RecursionError:
        reason = "its metadata is nested too deeply"
    except (SafetensorError, ValueError) as e:  # ValueError: Malformed, and JSON and number parsing
        reason = str(e)
    raise RuntimeError(f"tinytorch.load: '{source}' is not a valid tinytorch safetensors checkpoint "
                       f"(truncated, corrupted or another format?): {reason}")


def _header_metadata(data):
    size = int.from_bytes(data[:8], "little")
    return json.loads(data[8:8 + size]).get("__metadata__")  # safetensors.numpy.load checked the header


def _decode_file(metadata, arrays, restore):
    metadata = metadata or {}
    if CHECKSUM_KEY in metadata and metadata[CHECKSUM_KEY] != checksum(arrays):
        raise Malformed(f"its tensor data does not match its checksum (crc32 {checksum(arrays)}, "
                        f"recorded {metadata[CHECKSUM_KEY]}): the file was damaged after it was written")
    if METADATA_KEY not in metadata:
        return {name: _tensor(array, "cpu", restore) for name, array in arrays.items()}
    return _decode(json.loads(metadata[METADATA_KEY]), arrays, restore, ())


# ---- the JSON tree -----------------------------------------------------------------------------
# Nodes: {"tensor": entry name, "device": "cpu"|"cuda"}, {"dict": [[key, node], ...]},
# {"list": [node, ...]}, {"tuple": [node, ...]}, {"value": JSON scalar}.

def _encode(obj, path, tensors):
    if isinstance(obj, Tensor):
        name = _entry_name(path, tensors)
        tensors[name] = np.require(obj.numpy(force=True), requirements="C")  # (keeps 0-d shapes)
        return {"tensor": name, "device": obj.device.type}
    if isinstance(obj, dict):
        for key in obj:
            if not isinstance(key, (str, int, float, bool, type(None))):
                raise TypeError(f"tinytorch.save: dict key {key!r} at {_show(path)} is a {type(key).__name__}; "
                                "only str, int, float, bool and None keys can be saved")
        return {"dict": [[key, _encode(value, path + (key,), tensors)] for key, value in obj.items()]}
    if isinstance(obj, (list, tuple)):
        kind = "tuple" if isinstance(obj, tuple) else "list"
        return {kind: [_encode(value, path + (i,), tensors) for i, value in enumerate(obj)]}
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, _SCALARS):
        return {"value": obj}
    raise TypeError(f"tinytorch.save: cannot save a {type(obj).__name__} at {_show(path)} in safetensors; "
                    "these checkpoints hold tensors, dicts, lists, tuples, numbers, strings, booleans and None "
                    "(a name not ending in .safetensors saves PyTorch's format, which holds more)")


def _entry_name(path, taken):
    name = ".".join(str(k) for k in path) or "tensor"
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}#{n}"
    return candidate


def _show(path):
    return "the top level" if not path else "key path " + "/".join(repr(k) for k in path)


def _decode(node, arrays, restore, path):
    """The value of a JSON tree node, checked: anything malformed raises Malformed naming its place."""
    if len(path) > MAX_DEPTH:
        raise Malformed(f"the metadata nests deeper than {MAX_DEPTH} levels at {_show(path[:3])}/...")
    if not isinstance(node, dict) or len(node) != (2 if "tensor" in node else 1):
        raise Malformed(f"unexpected metadata node at {_show(path)}: {_preview(node)}")
    kind, body = next(((k, v) for k, v in node.items() if k != "device"), (None, None))
    if kind == "tensor":
        device = node.get("device")
        if not isinstance(body, str) or body not in arrays or device not in ("cpu", "cuda"):
            raise Malformed(f"bad tensor reference at {_show(path)}: {_preview(node)}")
        return _tensor(arrays[body], device, restore)
    if kind == "dict" and isinstance(body, list):
        if not all(isinstance(item, list) and len(item) == 2 and isinstance(item[0], _SCALARS) for item in body):
            raise Malformed(f"a dict at {_show(path)} is not a list of [key, value] pairs with plain keys")
        return {key: _decode(value, arrays, restore, path + (key,)) for key, value in body}
    if kind in ("list", "tuple") and isinstance(body, list):
        items = [_decode(value, arrays, restore, path + (i,)) for i, value in enumerate(body)]
        return items if kind == "list" else tuple(items)
    if kind == "value" and isinstance(body, _SCALARS):
        return body
    raise Malformed(f"unexpected metadata node at {_show(path)}: {_preview(node)}")


def _preview(node):
    """A short description of a node (never its whole, possibly huge or deep, contents)."""
    if isinstance(node, dict):
        return f"an object with keys {sorted(map(str, node))[:5]}"
    return f"a JSON {type(node).__name__}"


def _tensor(array, saved_device, restore):
    storage = restore(Storage(np.require(array, requirements=["W", "O"]).reshape(-1)), saved_device)
    return Tensor._wrap(storage.array.reshape(array.shape))
