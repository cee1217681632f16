"""PyTorch's legacy format (torch.save(..., _use_new_zipfile_serialization=False)) read by tinytorch:
storages filled after the object, read a second time when map_location moves them, and the
file's header checked (magic number, byte order, the storage list)."""
import io
import pickle
import pickletools

import numpy as np
import pytest
import torch

import tinytorch
from tinytorch.serialization.storages import Storage

pytestmark = pytest.mark.torch


def legacy_bytes(obj):
    buffer = io.BytesIO()
    torch.save(obj, buffer, _use_new_zipfile_serialization=False)
    return buffer.getvalue()


def split_header(data):
    """(magic, protocol version, sys_info, the rest) of a legacy file we wrote ourselves."""
    stream = io.BytesIO(data)
    header = [pickle.load(stream) for _ in range(3)]
    return (*header, data[stream.tell():])


def shared_views():
    x = torch.arange(12.0).reshape(3, 4)
    return {"x": x, "xt": x.t(), "row": x[1], "ints": torch.tensor([1, 2], dtype=torch.int32)}


def test_when_a_storage_moves_the_object_is_read_again_over_the_moved_storages():
    moves = []

    def copy_elsewhere(storage, location):  # as map_location=lambda s, loc: s.cuda() would, on the CPU
        moves.append(location)
        return Storage(storage.array.copy())

    loaded = tinytorch.load(io.BytesIO(legacy_bytes(shared_views())), map_location=copy_elsewhere)
    assert moves == ["cpu", "cpu"]  # one float storage, one int storage: each moved once
    assert loaded["xt"].tolist() == torch.arange(12.0).reshape(3, 4).t().tolist()
    assert np.shares_memory(loaded["x"].numpy(), loaded["xt"].numpy())
    assert np.shares_memory(loaded["x"].numpy(), loaded["row"].numpy())


def test_a_big_endian_file_is_refused():
    magic, version, sys_info, rest = split_header(legacy_bytes(shared_views()))
    assert sys_info["little_endian"]
    big = b"".join(pickle.dumps(x, protocol=2) for x in (magic, version, {**sys_info, "little_endian": False}))
    with pytest.raises(RuntimeError, match="'<BytesIO>' was written on a big-endian machine"):
        tinytorch.load(io.BytesIO(big + rest))


def test_the_header_and_the_storage_list_are_checked():
    magic, version, sys_info, rest = split_header(legacy_bytes(shared_views()))
    for header, problem in (((magic + 1, version, sys_info), "is not a checkpoint"),
                            ((magic, 1002, sys_info), "unknown version")):
        data = b"".join(pickle.dumps(x, protocol=2) for x in header) + rest
        with pytest.raises(RuntimeError, match=problem):
            tinytorch.load(io.BytesIO(data))
    stream = io.BytesIO(rest)
    obj_pickle = rest[:_after_one_pickle(stream)]
    keys = pickle.load(stream)
    wrong = b"".join(pickle.dumps(x, protocol=2) for x in (magic, version, sys_info)) + obj_pickle + \
        pickle.dumps(keys[:1], protocol=2) + rest[stream.tell():]
    with pytest.raises(RuntimeError, match="lists storages"):
        tinytorch.load(io.BytesIO(wrong))


def _after_one_pickle(stream):
    for opcode, _, position in pickletools.genops(stream):
        if opcode.name == "STOP":
            return position + 1
    raise AssertionError("no STOP")
