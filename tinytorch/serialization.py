"""`tinytorch.save` / `tinytorch.load`: checkpoints as safetensors files, never pickle.

A checkpoint is any nesting of dicts, lists and tuples whose leaves are tensors, numbers,
strings, booleans or None — a model's state_dict, an optimizer's state_dict, a training step,
an RNG state. The tensors are stored as safetensors entries named by their path
(`model.0.weight`, `optimizer.state.0.exp_avg`); the nesting and the non-tensor values go into
a JSON document in the file's metadata under the key "tinytorch". Loading reads that JSON
and the raw tensor bytes: no code from the file ever runs.

Writes are atomic: the file is written next to its target under a temporary name
(`.NAME.PID.RANDOM.tmp`), flushed to disk (fsync), then renamed over the target, so a crash
leaves the old checkpoint intact (and at worst a stray temporary file, which is never read).
"""
import json
import os
import uuid

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from .device import device as _device
from .tensor import Tensor

METADATA_KEY = "tinytorch"
_SCALARS = (bool, int, float, str, type(None))


def save(obj, f):
    """Write `obj` (nested dicts/lists/tuples of tensors and plain values) to the path `f`."""
    path = _as_path(f, "save")
    tensors = {}
    tree = _encode(obj, (), tensors)
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)),
                       f".{os.path.basename(path)}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        save_file(tensors, tmp, metadata={METADATA_KEY: json.dumps(tree)})
        _fsync(tmp, os.O_RDONLY)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    _fsync(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)


def load(f, map_location=None, weights_only=True):
    """Read a checkpoint written by `save` (or any safetensors file, as a flat dict of tensors).

    Tensors return to the device they were saved from, or to `map_location` ('cpu', 'cuda' or a
    device) if given. `weights_only` is accepted for torch compatibility: loading is always
    weights-only, since nothing is unpickled.
    """
    path = _as_path(f, "load")
    if map_location is not None and not isinstance(map_location, (str, _device)):
        raise TypeError(f"tinytorch.load: map_location must be None, a device or a device name, "
                        f"got {type(map_location).__name__}")
    try:
        with safe_open(path, framework="np") as fh:
            meta = fh.metadata() or {}
            if METADATA_KEY not in meta:
                return {name: _to_device(fh.get_tensor(name), "cpu", map_location, path) for name in fh.keys()}
            tree = json.loads(meta[METADATA_KEY])
            return _decode(tree, fh, map_location, path)
    except (SafetensorError, json.JSONDecodeError, KeyError, TypeError) as e:
        raise RuntimeError(f"tinytorch.load: '{path}' is not a valid tinytorch safetensors checkpoint "
                           f"(truncated, corrupted or another format?): {e}") from None


def _as_path(f, op):
    if not isinstance(f, (str, bytes, os.PathLike)):
        raise TypeError(f"tinytorch.{op}: expected a file path (str or os.PathLike), got {type(f).__name__}")
    return os.fsdecode(f)


def _fsync(path, flags):
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
    raise TypeError(f"tinytorch.save: cannot save a {type(obj).__name__} at {_show(path)}; checkpoints hold "
                    "tensors, dicts, lists, tuples, numbers, strings, booleans and None")


def _entry_name(path, taken):
    name = ".".join(str(k) for k in path) or "tensor"
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}#{n}"
    return candidate


def _show(path):
    return "the top level" if not path else "key path " + "/".join(repr(k) for k in path)


def _decode(node, fh, map_location, path):
    if "tensor" in node:
        return _to_device(fh.get_tensor(node["tensor"]), node["device"], map_location, path)
    if "dict" in node:
        return {key: _decode(value, fh, map_location, path) for key, value in node["dict"]}
    if "list" in node:
        return [_decode(value, fh, map_location, path) for value in node["list"]]
    if "tuple" in node:
        return tuple(_decode(value, fh, map_location, path) for value in node["tuple"])
    return node["value"]


def _to_device(array, saved_device, map_location, path):
    target = _device(map_location if map_location is not None else saved_device)
    t = Tensor._wrap(np.require(array, requirements=["W", "O"]))
    if target.type == "cpu":
        return t
    try:
        return t.to(target)
    except RuntimeError as e:
        raise RuntimeError(f"tinytorch.load: '{path}' holds tensors saved on {target.type} ({e}); "
                           "pass map_location='cpu' to load them on the CPU") from None
