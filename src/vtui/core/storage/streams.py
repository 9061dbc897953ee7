"""Moving volume data through libvirt streams, on a transfer's own thread (blocking).

Sparse-aware: holes travel as hole messages (libvirt's sparse streams), found with
SEEK_DATA/SEEK_HOLE when reading a local file and recreated with a seek when writing
one. A host that refuses sparse streams gets plain ones (holes then travel as zeros).
The Meter between these loops and the job counts progress, honours a bandwidth limit
and stops the loop (Cancelled) once the user cancels.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import libvirt

from vtui.core.storage.access import is_unsupported
from vtui.core.storage.local_files import sections

# One libvirt stream packet (its payload limit is 256 KiB, header included).
CHUNK = libvirt.virStorageVol.streamBufSize
UPLOAD_SPARSE = libvirt.VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM
DOWNLOAD_SPARSE = libvirt.VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM
STOP_AT_HOLE = libvirt.VIR_STREAM_RECV_STOP_AT_HOLE
# Seconds of unused bandwidth a limited transfer may catch up on after a pause.
BURST = 0.5


class Cancelled(Exception):
    """The user cancelled the transfer."""


class Meter:
    """Progress, cancel and bandwidth limit, shared by a transfer's thread and its job.
    The thread writes the counters; the job only reads them."""

    def __init__(self, total: int, limit_bps: float | None, on_progress: Callable[[], None]):
        self.total = total
        self.done = 0  # bytes of the image covered, holes included
        self.data = 0  # bytes that really travelled
        self.limit_bps = limit_bps
        self.cancelled = threading.Event()
        # When the data sent so far may have been sent at the limit. It starts with the
        # first data: time spent before (making the volume) or stalled (a slow host)
        # must not become a credit that lets the next megabytes through unlimited.
        self._paid_until: float | None = None
        self._on_progress = on_progress

    def check(self) -> None:
        if self.cancelled.is_set():
            raise Cancelled

    def advance(self, length: int, *, data: bool) -> None:
        self.done += length
        if data:
            self.data += length
        self._on_progress()
        if self.limit_bps and data:
            self._keep_to_limit(length, self.limit_bps)
        self.check()

    def _keep_to_limit(self, length: int, limit_bps: float) -> None:
        now = time.monotonic()
        start = now if self._paid_until is None else max(self._paid_until, now - BURST)
        self._paid_until = start + length / limit_bps
        ahead = self._paid_until - now
        if ahead > 0 and self.cancelled.wait(ahead):
            raise Cancelled


def open_upload(conn: libvirt.virConnect, volume: libvirt.virStorageVol, length: int, sparse: bool):
    """(stream, sparse) for writing `length` bytes into the volume; plain if the host
    refuses sparse streams."""
    if sparse:
        stream = conn.newStream(0)
        try:
            volume.upload(stream, 0, length, UPLOAD_SPARSE)
            return stream, True
        except libvirt.libvirtError as exc:
            abort(stream)
            if not is_unsupported(exc):
                raise
    stream = conn.newStream(0)
    volume.upload(stream, 0, length, 0)
    return stream, False


def open_download(conn: libvirt.virConnect, volume: libvirt.virStorageVol, sparse: bool):
    """(stream, sparse) reading the whole volume; plain if the host refuses sparse."""
    if sparse:
        stream = conn.newStream(0)
        try:
            volume.download(stream, 0, 0, DOWNLOAD_SPARSE)
            return stream, True
        except libvirt.libvirtError as exc:
            abort(stream)
            if not is_unsupported(exc):
                raise
    stream = conn.newStream(0)
    volume.download(stream, 0, 0, 0)
    return stream, False


def abort(stream: libvirt.virStream | None) -> None:
    """Tell the other end to stop and drop what it has (best effort: it may be gone)."""
    if stream is None:
        return
    try:
        stream.abort()
    except libvirt.libvirtError:
        pass


def _send(stream: libvirt.virStream, data: bytes) -> None:
    while data:  # a blocking stream takes it all at once; the loop is for the rare rest
        sent = stream.send(data)
        if sent < 0:
            raise libvirt.libvirtError("the stream refused data")
        data = data[sent:]


def send_file(stream: libvirt.virStream, fd: int, size: int, sparse: bool, meter: Meter) -> None:
    """Send the local file's first `size` bytes; holes as holes when `sparse`."""
    runs = sections(fd, size) if sparse else iter([(True, size)])
    offset = 0
    for is_data, length in runs:
        meter.check()
        if not is_data:
            stream.sendHole(length, 0)
            offset += length
            meter.advance(length, data=False)
            continue
        os.lseek(fd, offset, os.SEEK_SET)
        end = offset + length
        while offset < end:
            chunk = os.read(fd, min(CHUNK, end - offset))
            if not chunk:
                raise OSError(f"the file ended at {offset} bytes, before {size}")
            _send(stream, chunk)
            offset += len(chunk)
            meter.advance(len(chunk), data=True)
    stream.finish()


def _receive(stream: libvirt.virStream, sparse: bool) -> bytes | int:
    """Data, b'' at the end, or a hole's length (sparse streams)."""
    if not sparse:
        got = stream.recv(CHUNK)
    else:
        got = stream.recvFlags(CHUNK, STOP_AT_HOLE)
        if got == -3:
            return int(stream.recvHole(0))
    if isinstance(got, int):
        raise libvirt.libvirtError(f"the stream failed ({got})")
    return got


def receive_file(stream: libvirt.virStream, fd: int, sparse: bool, meter: Meter) -> None:
    """Write the stream into a local file; a hole becomes a hole (a seek)."""
    while True:
        meter.check()
        got = _receive(stream, sparse)
        if isinstance(got, int):
            os.lseek(fd, got, os.SEEK_CUR)
            meter.advance(got, data=False)
            continue
        if not got:
            break
        view = memoryview(got)
        while view:
            view = view[os.write(fd, view) :]
        meter.advance(len(got), data=True)
    os.ftruncate(fd, os.lseek(fd, 0, os.SEEK_CUR))  # a hole at the end still counts
    stream.finish()


def pass_on(
    source: libvirt.virStream, target: libvirt.virStream, sparse: bool, meter: Meter
) -> None:
    """Feed one host's download stream into another's upload stream."""
    while True:
        meter.check()
        got = _receive(source, sparse)
        if isinstance(got, int):
            target.sendHole(got, 0)
            meter.advance(got, data=False)
            continue
        if not got:
            break
        _send(target, got)
        meter.advance(len(got), data=True)
    source.finish()
    target.finish()
