"""Local image files: what an upload will send (size, format, holes), and where a
download writes before it is complete."""

from __future__ import annotations

import errno
import os
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

QCOW2_MAGIC = b"QFI\xfb"
# qcow2 header: magic, version (u32), backing file offset (u64), its length (u32),
# cluster bits (u32), virtual size (u64); big-endian.
_QCOW2_HEADER = struct.Struct(">4sIQIIQ")


@dataclass(frozen=True, slots=True)
class LocalImage:
    path: str
    size: int  # bytes in the file (what the stream carries)
    allocated: int  # bytes it takes on disk (less than size when sparse)
    format: str  # "qcow2" or "raw"
    capacity: int  # the disk size a guest sees: qcow2's virtual size, else the file size
    backing_file: str  # a qcow2's backing file, or ""


def probe(path: str) -> LocalImage:
    """Size and format of a local file; OSError if it cannot be read."""
    with open(path, "rb") as f:
        size = os.lseek(f.fileno(), 0, os.SEEK_END)  # block devices have no st_size
        os.lseek(f.fileno(), 0, os.SEEK_SET)
        header = f.read(_QCOW2_HEADER.size)
        stat = os.fstat(f.fileno())
        backing = ""
        fmt, capacity = "raw", size
        if len(header) == _QCOW2_HEADER.size and header.startswith(QCOW2_MAGIC):
            _magic, _version, backing_offset, backing_length, _bits, virtual = _QCOW2_HEADER.unpack(
                header
            )
            fmt, capacity = "qcow2", virtual
            if backing_offset and backing_length:
                f.seek(backing_offset)
                backing = f.read(min(backing_length, 4096)).decode(errors="replace")
    allocated = stat.st_blocks * 512 if stat.st_blocks else size
    return LocalImage(path, size, min(allocated, size), fmt, capacity, backing)


def sections(fd: int, size: int) -> Iterator[tuple[bool, int]]:
    """(is_data, length) runs of the file from offset 0 to size, holes found with
    SEEK_DATA/SEEK_HOLE. A filesystem that cannot tell gives one run of data."""
    offset = 0
    while offset < size:
        try:
            data = os.lseek(fd, offset, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno == errno.ENXIO:  # only a hole from here to the end
                yield False, size - offset
                return
            yield True, size - offset  # no hole support: all of it is data
            return
        if data > offset:
            yield False, min(data, size) - offset
            offset = min(data, size)
            continue
        try:
            hole = os.lseek(fd, offset, os.SEEK_HOLE)
        except OSError:
            hole = size
        end = min(max(hole, offset + 1), size)
        yield True, end - offset
        offset = end


def partial_path(path: str) -> str:
    """A fresh file beside `path` to download into; renamed to `path` when complete,
    so a failed download leaves neither a half file nor a damaged old one."""
    directory, name = os.path.split(os.path.abspath(path))
    fd, partial = tempfile.mkstemp(prefix=f".{name}.", suffix=".vtui-part", dir=directory)
    os.close(fd)
    return partial
