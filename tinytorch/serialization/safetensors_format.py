"""tinytorch's native checkpoints: safetensors files, which hold no code at all.

A checkpoint is any nesting of dicts, lists and tuples whose leaves are tensors, numbers,
strings, booleans or None — a model's state_dict, an optimizer's state_dict, a training step,
an RNG state. The tensors are stored as safetensors entries named by their path
(`model.0.weight`, `optimizer.state.0.exp_avg`); the nesting and the non-tensor values go into
a JSON document in the file's metadata under the key "tinytorch". Loading reads that JSON and
the raw tensor bytes. A safetensors file written by anyone else loads as a flat dict of tensors.

The file is laid out as safetensors specifies: an 8-byte little-endian header length, the JSON
header (each entry's dtype, shape and byte range, and "__metadata__"), then the tensor bytes.
"""
import json

import numpy as np
import safetensors.numpy
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from ..tensor import Tensor
from .atomic import replacing
from .storages import Storage

METADATA_KEY = "tinytorch"
_SCALARS = (bool, int, float, str, type(None))


def save(obj, path):
    """Write `obj` (nested dicts/lists/tuples of tensors and plain values) to the file `path`, atomically."""
    tensors = {}
    tree = _encode(obj, (), tensors)
    with replacing(path) as tmp:
        save_file(tensors, tmp, metadata={METADATA_KEY: json.dumps(tree)})


def is_safetensors(head):
    """Whether the first bytes of a file look like safetensors: a header length, then '{'."""
    return len(head) > 8 and head[8:9] == b"{"


def load(file, path, source, restore):
    """The checkpoint in the safetensors file `file` (read through `path` when there is one);
    `restore(storage, location)` places each tensor."""
    try:
        if path is not None:
            with safe_open(path, framework="np") as fh:
                return _decode_file(fh.metadata(), fh.get_tensor, fh.keys(), restore)
        data = file.read()
        tensors = safetensors.numpy.load(data)
        return _decode_file(_header_metadata(data), tensors.__getitem__, tensors.keys(), restore)
    except (SafetensorError, json.JSONDecodeError, KeyError, TypeError) as e:
        raise RuntimeError(f"tinytorch.load: '{source}' is not a valid tinytorch safetensors checkpoint "
                           f"(truncated, corrupted or another format?): {e}") from None


def _header_metadata(data):
    size = int.from_bytes(data[:8], "little")
    return json.loads(data[8:8 + size]).get("__metadata__")


def _decode_file(metadata, get_tensor, names, restore):
    if METADATA_KEY not in (metadata or {}):
        return {name: _tensor(get_tensor(name), "cpu", restore) for name in names}
    return _decode(json.loads(metadata[METADATA_KEY]), get_tensor, restore)


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


def _decode(node, get_tensor, restore):
    if "tensor" in node:
        return _tensor(get_tensor(node["tensor"]), node["device"], restore)
    if "dict" in node:
        return {key: _decode(value, get_tensor, restore) for key, value in node["dict"]}
    if "list" in node:
        return [_decode(value, get_tensor, restore) for value in node["list"]]
    if "tuple" in node:
        return tuple(_decode(value, get_tensor, restore) for value in node["tuple"])
    return node["value"]


def _tensor(array, saved_device, restore):
    storage = restore(Storage(np.require(array, requirements=["W", "O"]).reshape(-1)), saved_device)
    return Tensor._wrap(storage.array.reshape(array.shape))
