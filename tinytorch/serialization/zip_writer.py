"""Zip archives laid out as PyTorch writes them (its C++ writer, on miniz).

Every record is stored uncompressed, and its data starts on a 64-byte boundary, so a reader can
map a tensor's bytes straight from the file. Per record:

    local header (30 bytes)  signature, flags 0x0808 (sizes in a data descriptor; UTF-8 name), and
                             zeros for versions, times, the CRC and sizes (which follow the data)
    name
    extra field              [zip64 sizes/offset, when they pass 4 GiB]
                             then "FB", a 2-byte length and that many "Z"s: the padding that
                             moves the data to the next multiple of 64
    data
    data descriptor          signature, CRC-32, sizes (4 bytes each, 8 in zip64 records)

then the central directory (one entry per record: CRC, sizes, where its header is, with a zip64
extra field for values past 4 GiB), and the end records: zip64 end of central directory, its
locator and the classic end of central directory (torch always writes all three). The same
records give the same bytes as torch's writer.
"""
import struct
import zlib

ALIGNMENT = 64
ZIP64_LIMIT = 0xFFFFFFFF  # sizes and offsets from here on need zip64 fields
MASKED = 0xFFFFFFFF  # what a 4-byte field holds when the value is in the zip64 field
FLAGS = 0x0808
LOCAL_HEADER, CENTRAL_HEADER, DATA_DESCRIPTOR = 0x04034B50, 0x02014B50, 0x08074B50
ZIP64_END, ZIP64_LOCATOR, END = 0x06064B50, 0x07064B50, 0x06054B50


class ZipWriter:
    """`write_record(name, data)` for each record, then `finish()`; writes to a binary file object."""

    def __init__(self, file):
        self.file = file
        self.offset = 0
        self.entries = []  # (name, crc, size, header offset)

    def write(self, *chunks):
        for chunk in chunks:
            self.file.write(chunk)
            self.offset += len(chunk)

    def write_record(self, name, data):
        """`data`: bytes or any C-contiguous buffer (a NumPy array's memory is written without a copy)."""
        data = memoryview(data).cast("B")
        name = name.encode("utf-8")
        size, header_offset = data.nbytes, self.offset
        zip64 = zip64_extra(size, header_offset)
        padding = -(header_offset + 30 + len(name) + len(zip64) + 4) % ALIGNMENT
        extra = zip64 + b"FB" + struct.pack("<H", padding) + b"Z" * padding
        crc = zlib.crc32(data)
        self.write(struct.pack("<IHHHHHIIIHH", LOCAL_HEADER, 0, FLAGS, 0, 0, 0, 0, 0, 0, len(name), len(extra)),
                   name, extra, data)
        sizes = "QQ" if zip64 else "II"
        self.write(struct.pack(f"<II{sizes}", DATA_DESCRIPTOR, crc, size, size))
        self.entries.append((name, crc, size, header_offset))

    def finish(self):
        directory_offset = self.offset
        for name, crc, size, header_offset in self.entries:
            extra = zip64_extra(size, header_offset)
            self.write(struct.pack("<IHHHHHHIIIHHHHHII", CENTRAL_HEADER, 0, 0, FLAGS, 0, 0, 0, crc, masked(size),
                                   masked(size), len(name), len(extra), 0, 0, 0, 0, masked(header_offset)), name, extra)
        count, directory_size, end_offset = len(self.entries), self.offset - directory_offset, self.offset
        self.write(struct.pack("<IQHHIIQQQQ", ZIP64_END, 44, 0x031E, 45, 0, 0, count, count, directory_size,
                               directory_offset),
                   struct.pack("<IIQI", ZIP64_LOCATOR, 0, end_offset, 1),
                   struct.pack("<IHHHHIIH", END, 0, 0, min(count, 0xFFFF), min(count, 0xFFFF),
                               masked(directory_size), masked(directory_offset), 0))


def zip64_extra(size, header_offset):
    """The zip64 extra field for a record: its sizes if they pass the limit, then its header's
    offset if that does; empty when neither does."""
    fields = ([size, size] if size >= ZIP64_LIMIT else []) + ([header_offset] if header_offset >= ZIP64_LIMIT else [])
    return struct.pack(f"<HH{len(fields)}Q", 1, 8 * len(fields), *fields) if fields else b""


def masked(value):
    """A 4-byte field's value: the value, or MASKED when it lives in the zip64 field."""
    return value if value < ZIP64_LIMIT else MASKED
