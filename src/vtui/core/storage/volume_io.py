"""Upload a local file to a new volume, download a volume to a local file, copy a
volume from one host to another: each checked first, then run as a Transfer.

A failed or cancelled upload or copy deletes the volume it made; a failed download
removes its partial file (it writes beside the target and renames at the end, so an
existing file is only replaced by a complete download).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable

import libvirt

from vtui.core.errors import VtuiError, libvirt_message
from vtui.core.host import Host
from vtui.core.host.guard import writable_conn
from vtui.core.storage.access import lookup_pool, lookup_volume, on_host
from vtui.core.storage.checks import BadInput, check_capacity, check_new_name, check_space
from vtui.core.storage.definitions import volume_xml
from vtui.core.storage.local_files import LocalImage, partial_path, probe
from vtui.core.storage.model import Pool
from vtui.core.storage.streams import (
    Cancelled,
    Meter,
    abort,
    open_download,
    open_upload,
    pass_on,
    receive_file,
    send_file,
)
from vtui.core.storage.transfer import (
    COPY,
    DOWNLOAD,
    UPLOAD,
    Transfer,
    Transfers,
    default_transfers,
)
from vtui.core.storage.volumes import FULL_POOL_TYPES, get_volume, pool_and_names

DELETE_TRIES = 50  # x 0.1 s: the daemon may still be closing the aborted stream's file


def _new_volume_xml(info: Pool, name: str, capacity: int, fmt: str, length: int) -> str:
    """A volume to stream `length` bytes into: sparse and of the image's format in file
    pools; in LVM or disk pools a plain device big enough for the bytes."""
    if info.type in FULL_POOL_TYPES:
        return volume_xml(name, max(capacity, length))
    return volume_xml(name, capacity, format=fmt, allocation=0)


def _checked(what: str, check: Callable[[], None]) -> None:
    try:
        check()
    except BadInput as exc:
        raise BadInput(f"cannot {what}: {exc.message}") from None


@on_host
async def start_upload(
    host: Host,
    pool: str,
    local_path: str,
    *,
    name: str | None = None,
    limit_bps: float | None = None,
    sparse: bool = True,
    jobs: Transfers | None = None,
) -> Transfer:
    """Upload a local file into a new volume `name` (default: the file's name). A qcow2
    file makes a qcow2 volume of its virtual size; anything else a raw one."""
    name = name if name is not None else os.path.basename(local_path)
    what = f"upload {local_path} to pool {pool}"
    conn = writable_conn(host, what)
    try:
        image = await asyncio.to_thread(probe, local_path)
    except OSError as exc:
        raise VtuiError(f"cannot {what}: cannot read it: {exc.strerror or exc}") from None
    info, names = await pool_and_names(host, conn, pool)
    _checked(what, lambda: _check_upload(image, info, names, name, sparse))
    xml = _new_volume_xml(info, name, image.capacity, image.format, image.size)

    def work(meter: Meter, sparse_known: Callable[[bool], None]) -> None:
        volume = stream = None
        try:
            volume = lookup_pool(conn, pool, host.name).createXML(xml, 0)
            with open(local_path, "rb") as f:
                stream, used = open_upload(conn, volume, image.size, sparse)
                sparse_known(used)
                send_file(stream, f.fileno(), image.size, used, meter)
        except Exception as exc:
            abort(stream)
            raise _ended(exc, _remove_volume(volume, f"{pool}/{name}")) from exc

    registry = jobs if jobs is not None else default_transfers()
    target = f"{host.name}:{pool}/{name}"
    return registry.start(UPLOAD, local_path, target, [host], image.size, work, limit_bps)


def _check_upload(image: LocalImage, info: Pool, names: list[str], name: str, sparse: bool) -> None:
    if image.backing_file:
        raise BadInput(
            f"it is a qcow2 overlay of {image.backing_file}, which the host does not have "
            "(upload a standalone image: qemu-img convert makes one)"
        )
    if image.size == 0:
        raise BadInput("the file is empty")
    check_new_name(name, names, info.name)
    check_capacity(image.capacity, "virtual size")
    full = info.type in FULL_POOL_TYPES
    needed = (
        max(image.capacity, image.size) if full else (image.allocated if sparse else image.size)
    )
    check_space(needed, info.available, info.name, f"{image.format} image {name}")


@on_host
async def start_download(
    host: Host,
    pool: str,
    volume: str,
    local_path: str,
    *,
    overwrite: bool = False,
    limit_bps: float | None = None,
    sparse: bool = True,
    jobs: Transfers | None = None,
) -> Transfer:
    """Download a volume into a local file (into a directory: under the volume's name)."""
    what = f"download volume {volume} of pool {pool}"
    conn = writable_conn(host, what)  # libvirt refuses volume downloads on read-only connections
    source = await get_volume(host, pool, volume)
    target = os.path.join(local_path, volume) if os.path.isdir(local_path) else local_path

    def check() -> None:
        if os.path.exists(target) and not overwrite:
            raise BadInput(f"{target} exists (ask to overwrite it)")
        if not os.path.isdir(os.path.dirname(os.path.abspath(target))):
            raise BadInput(f"no directory {os.path.dirname(os.path.abspath(target))} here")

    _checked(what, check)

    def work(meter: Meter, sparse_known: Callable[[bool], None]) -> None:
        partial, stream = partial_path(target), None
        try:
            fd = os.open(partial, os.O_WRONLY)
            try:
                found = lookup_volume(lookup_pool(conn, pool, host.name), volume, host.name)
                stream, used = open_download(conn, found, sparse)
                sparse_known(used)
                receive_file(stream, fd, used, meter)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(partial, target)
        except Exception as exc:
            abort(stream)
            raise _ended(exc, _remove_file(partial)) from exc

    registry = jobs if jobs is not None else default_transfers()
    label = f"{host.name}:{pool}/{volume}"
    return registry.start(DOWNLOAD, label, target, [host], source.stream_length, work, limit_bps)


@on_host
async def start_copy(
    src_host: Host,
    pool: str,
    volume: str,
    dst_host: Host,
    dst_pool: str,
    *,
    name: str | None = None,
    limit_bps: float | None = None,
    sparse: bool = True,
    jobs: Transfers | None = None,
) -> Transfer:
    """Copy a volume into a new volume of another (or the same) host's pool, streamed
    through this machine: a download from one host feeding an upload to the other."""
    name = name if name is not None else volume
    what = f"copy volume {pool}/{volume} to {dst_host.name}:{dst_pool}/{name}"
    src_conn, dst_conn = writable_conn(src_host, what), writable_conn(dst_host, what)
    source = await get_volume(src_host, pool, volume)
    info, names = await pool_and_names(dst_host, dst_conn, dst_pool)
    length = source.stream_length

    def check() -> None:
        if source.backing_path:
            raise BadInput(
                f"it is a qcow2 overlay of {source.backing_path}, which would not come along "
                "(clone it first: a clone is standalone)"
            )
        check_new_name(name, names, dst_pool)
        full = info.type in FULL_POOL_TYPES
        needed = max(source.capacity, length) if full else (source.allocation if sparse else length)
        check_space(needed, info.available, dst_pool, f"a copy of {volume}")

    _checked(what, check)
    xml = _new_volume_xml(info, name, source.capacity, source.format, length)

    def work(meter: Meter, sparse_known: Callable[[bool], None]) -> None:
        made = upload = download = None
        try:
            made = lookup_pool(dst_conn, dst_pool, dst_host.name).createXML(xml, 0)
            original = lookup_volume(
                lookup_pool(src_conn, pool, src_host.name), volume, src_host.name
            )
            upload, up_sparse = open_upload(dst_conn, made, length, sparse)
            download, used = open_download(src_conn, original, up_sparse)  # holes need both
            sparse_known(used)
            pass_on(download, upload, used, meter)
        except Exception as exc:
            abort(download)
            abort(upload)
            raise _ended(exc, _remove_volume(made, f"{dst_host.name}:{dst_pool}/{name}")) from exc

    registry = jobs if jobs is not None else default_transfers()
    source_label = f"{src_host.name}:{pool}/{volume}"
    target = f"{dst_host.name}:{dst_pool}/{name}"
    return registry.start(COPY, source_label, target, [src_host, dst_host], length, work, limit_bps)


# -- after a failure -------------------------------------------------------------------
def _remove_volume(volume: libvirt.virStorageVol | None, label: str) -> str:
    if volume is None:
        return "no volume was made"
    for attempt in range(DELETE_TRIES):
        try:
            volume.delete(0)
            return "no volume left behind"
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL:
                return "no volume left behind"
            if "in use" in libvirt_message(exc) and attempt + 1 < DELETE_TRIES:
                time.sleep(0.1)
                continue
            return f"the half-made volume {label} could not be deleted: {libvirt_message(exc)}"
    return f"the half-made volume {label} could not be deleted"


def _remove_file(path: str) -> str:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        return f"the partial file {path} could not be removed: {exc.strerror}"
    return "no partial file left behind"


def _ended(exc: Exception, note: str) -> Exception:
    """The failure as the job reports it, with what the clean-up did."""
    if isinstance(exc, Cancelled):
        return Cancelled(note)
    if isinstance(exc, libvirt.libvirtError):
        reason = libvirt_message(exc)
    elif isinstance(exc, VtuiError):
        reason = exc.message
    elif isinstance(exc, OSError):
        reason = f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
    else:
        reason = f"{type(exc).__name__}: {exc}"
    return VtuiError(f"{reason}; {note}")
