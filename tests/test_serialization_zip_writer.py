"""The zip writer: torch's layout (stored records whose data starts on a 64-byte boundary, data
descriptors, zip64 end records), read by Python's zipfile and by torch; zip64 fields past 4 GiB,
checked by lowering the limit."""
import io
import struct
import zipfile

import numpy as np
import pytest
import torch

import tinytorch
from tinytorch.serialization import zip_writer
from tinytorch.serialization.zip_writer import ZipWriter


def data_offsets(raw):
    """{record name: where its data starts}, read from the local headers the central directory points to."""
    offsets = {}
    for info in zipfile.ZipFile(io.BytesIO(raw)).infolist():
        name_length, extra_length = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
        offsets[info.filename] = info.header_offset + 30 + name_length + extra_length
    return offsets


def archive(records):
    buffer = io.BytesIO()
    writer = ZipWriter(buffer)
    for name, data in records.items():
        writer.write_record(name, data)
    writer.finish()
    return buffer.getvalue()


RECORDS = {"a/data.pkl": b"x" * 100, "a/ünïcode": b"", "a/data/0": np.arange(1000, dtype=np.float32).view(np.uint8),
           "a/data/1": b"\x01" * 3}


def test_records_are_stored_aligned_and_read_back_with_their_crc():
    raw = archive(RECORDS)
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        assert z.testzip() is None
        assert z.namelist() == list(RECORDS)
        assert all(info.compress_type == zipfile.ZIP_STORED for info in z.infolist())
        for name, data in RECORDS.items():
            assert z.read(name) == bytes(data)
    for name, offset in data_offsets(raw).items():
        assert offset % 64 == 0, name


def test_the_same_records_give_the_same_bytes_as_torchs_writer(tmp_path):
    torch.save({"w": torch.arange(5.0)}, tmp_path / "t.pt")
    with zipfile.ZipFile(tmp_path / "t.pt") as z:
        records = {name: z.read(name) for name in z.namelist()}
    assert archive(records) == (tmp_path / "t.pt").read_bytes()


def test_zip64_fields_past_the_limit_are_read_by_zipfile_and_torch(tmp_path, monkeypatch):
    monkeypatch.setattr(zip_writer, "ZIP64_LIMIT", 200)  # as if 200 bytes were 4 GiB
    raw = archive(RECORDS)
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        assert z.testzip() is None
        assert [z.read(name) for name in RECORDS] == [bytes(data) for data in RECORDS.values()]
    for name, offset in data_offsets(raw).items():
        assert offset % 64 == 0, name
    assert b"PK\x06\x06" in raw  # the zip64 end of central directory

    x = tinytorch.arange(300.0)
    tinytorch.save({"x": x, "tail": x[250:]}, tmp_path / "big.pt")
    loaded = torch.load(tmp_path / "big.pt", weights_only=True)
    assert loaded["tail"].tolist() == list(range(250, 300))
    assert tinytorch.load(tmp_path / "big.pt")["x"].tolist() == list(range(300))


def test_a_writer_that_cannot_seek_still_writes_a_valid_archive():
    class Stream(io.RawIOBase):
        def __init__(self):
            self.chunks = []

        def writable(self):
            return True

        def write(self, data):
            self.chunks.append(bytes(data))
            return len(data)

    stream = Stream()
    tinytorch.save({"w": tinytorch.ones(3)}, stream)
    loaded = torch.load(io.BytesIO(b"".join(stream.chunks)), weights_only=True)
    assert loaded["w"].tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("size", [0, 1, 63, 64, 65])
def test_every_data_size_keeps_the_next_record_aligned(size):
    raw = archive({"r/first": b"z" * size, "r/second": b"y"})
    assert all(offset % 64 == 0 for offset in data_offsets(raw).values())
