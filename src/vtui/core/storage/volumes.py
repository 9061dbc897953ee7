"""Volumes of one pool: list (with the guests using each), create, resize, wipe,
delete, clone. Every input is checked before anything on the host changes.

Like pools.py: async functions taking a connected Host, returning model.Volume,
raising VtuiError with one line."""

from __future__ import annotations

import asyncio
from collections.abc import Collection

import libvirt

from vtui.core.errors import VtuiError
from vtui.core.host import Host
from vtui.core.host.fanout import fan_out, width_for
from vtui.core.host.guard import call_or_fail, writable_conn
from vtui.core.storage.access import lookup_pool, lookup_volume, on_host
from vtui.core.storage.checks import BadInput, check_capacity, check_new_name, check_space
from vtui.core.storage.definitions import VolumeXml, parse_volume, volume_xml
from vtui.core.storage.model import Pool, Volume, VolumeUser
from vtui.core.storage.pools import read_pool
from vtui.core.storage.users import DiskUsers, disk_users

WIPE_ALGORITHMS = {
    "zero": libvirt.VIR_STORAGE_VOL_WIPE_ALG_ZERO,
    "random": libvirt.VIR_STORAGE_VOL_WIPE_ALG_RANDOM,
    "nnsa": libvirt.VIR_STORAGE_VOL_WIPE_ALG_NNSA,
    "dod": libvirt.VIR_STORAGE_VOL_WIPE_ALG_DOD,
    "bsi": libvirt.VIR_STORAGE_VOL_WIPE_ALG_BSI,
    "gutmann": libvirt.VIR_STORAGE_VOL_WIPE_ALG_GUTMANN,
    "trim": libvirt.VIR_STORAGE_VOL_WIPE_ALG_TRIM,
}
# Formats whose files take all their space when made (unless asked to be sparse); pools
# of whole devices (LVM volumes, partitions) always do.
FULL_FORMATS = ("raw", "")
FULL_POOL_TYPES = ("logical", "disk")
BACKING_FORMATS = ("qcow2",)


def volume_of(
    xml: VolumeXml, pool: str, users: DiskUsers, backing_of: tuple[str, ...] = ()
) -> Volume:
    return Volume(
        name=xml.name,
        pool=pool,
        key=xml.key,
        path=xml.path,
        type=xml.type,
        format=xml.format,
        capacity=xml.capacity,
        allocation=xml.allocation,
        physical=xml.physical,
        backing_path=xml.backing_path,
        backing_format=xml.backing_format,
        users=users.of(pool, xml.name, xml.path),
        backing_of=backing_of,
    )


def _active_pool(conn: libvirt.virConnect, name: str, host: str) -> libvirt.virStoragePool:
    pool = lookup_pool(conn, name, host)
    if not pool.isActive():
        raise VtuiError(f"pool {name!r} is not active (start it first)", host=host)
    return pool


@on_host
async def list_volumes(host: Host, pool: str) -> list[Volume]:
    """Every volume of an active pool, by name, with the guests that use each."""
    conn = host.require_conn()

    def listing() -> list[libvirt.virStorageVol]:
        return _active_pool(conn, pool, host.name).listAllVolumes(0)

    volumes = await call_or_fail(host, f"list the volumes of pool {pool}", listing)
    xmls, users = await asyncio.gather(
        call_or_fail(
            host,
            f"read the volumes of pool {pool}",
            fan_out,
            _xml_or_none,
            volumes,
            width_for(host),
        ),
        disk_users(host),
    )
    found = [x for x in xmls if x is not None]
    backers: dict[str, list[str]] = {}
    for x in found:
        if x.backing_path:
            backers.setdefault(x.backing_path, []).append(x.name)
    return sorted(
        (volume_of(x, pool, users, tuple(sorted(backers.get(x.path, ())))) for x in found),
        key=lambda v: v.name,
    )


@on_host
async def volume_names(host: Host, pool: str) -> list[str]:
    """The names of an active pool's volumes, in one libvirt call: something to show
    at once while list_volumes reads each volume (one call each)."""
    conn = host.require_conn()

    def listing() -> list[str]:
        return sorted(v.name() for v in _active_pool(conn, pool, host.name).listAllVolumes(0))

    return await call_or_fail(host, f"list the volumes of pool {pool}", listing)


def _xml_or_none(volume: libvirt.virStorageVol) -> VolumeXml | None:
    try:
        return parse_volume(volume.XMLDesc(0))
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL:
            return None  # deleted while we looked
        raise


@on_host
async def get_volume(host: Host, pool: str, name: str) -> Volume:
    """One volume with its users (its `backing_of` stays empty: see list_volumes)."""
    conn = host.require_conn()

    def read() -> VolumeXml:
        return parse_volume(
            lookup_volume(_active_pool(conn, pool, host.name), name, host.name).XMLDesc(0)
        )

    xml, users = await asyncio.gather(
        call_or_fail(host, f"read volume {name}", read), disk_users(host)
    )
    return volume_of(xml, pool, users)


async def pool_and_names(host: Host, conn: libvirt.virConnect, pool: str) -> tuple[Pool, list[str]]:
    def read() -> tuple[Pool, list[str]]:
        found = _active_pool(conn, pool, host.name)
        return read_pool(found), list(found.listVolumes())

    return await call_or_fail(host, f"read pool {pool}", read)


# -- create ----------------------------------------------------------------------------
@on_host
async def create_volume(
    host: Host,
    pool: str,
    name: str,
    capacity: int | None,
    *,
    format: str | None = None,
    backing: str | None = None,
    allocation: int | None = None,
) -> Volume:
    """A new volume. format: None means qcow2 in file pools (none in LVM/disk pools).
    backing: a volume of the same pool (by name) or any volume's path, for a qcow2
    overlay; capacity None then means the backing volume's. allocation: bytes to
    allocate now; None means all of it for raw volumes, none for the others."""
    what = f"create volume {name} in pool {pool}"
    conn = writable_conn(host, what)
    info, names = await pool_and_names(host, conn, pool)
    fmt = format if format is not None else ("" if info.type in FULL_POOL_TYPES else "qcow2")
    try:
        check_new_name(name, names, pool)
        backing_xml = None
        if backing:
            if fmt not in BACKING_FORMATS:
                raise BadInput(f"a {fmt or 'raw'} volume cannot have a backing volume (qcow2 can)")
            backing_xml = await _backing(host, conn, pool, backing)
            capacity = capacity if capacity is not None else backing_xml.capacity
        capacity = check_capacity(capacity)
        if allocation is not None and not 0 <= allocation <= capacity:
            raise BadInput(f"allocation {allocation} is not between 0 and the size {capacity}")
        full = info.type in FULL_POOL_TYPES or fmt in FULL_FORMATS
        needed = capacity if info.type in FULL_POOL_TYPES else (allocation or 0)
        if full and allocation is None:
            needed = allocation = capacity
        check_space(needed, info.available, pool, f"a {fmt or 'raw'} volume of {capacity} bytes")
    except BadInput as exc:
        raise BadInput(f"cannot {what}: {exc.message}") from None
    xml = volume_xml(
        name,
        capacity,
        format=fmt,
        allocation=allocation,
        backing_path=backing_xml.path if backing_xml else None,
        backing_format=backing_xml.format if backing_xml else None,
    )

    def work() -> VolumeXml:
        return parse_volume(lookup_pool(conn, pool, host.name).createXML(xml, 0).XMLDesc(0))

    return volume_of(await call_or_fail(host, what, work), pool, DiskUsers())


async def _backing(host: Host, conn: libvirt.virConnect, pool: str, backing: str) -> VolumeXml:
    def read() -> VolumeXml:
        if backing.startswith("/"):
            try:
                return parse_volume(conn.storageVolLookupByPath(backing).XMLDesc(0))
            except libvirt.libvirtError as exc:
                if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL:
                    raise BadInput(f"no volume at {backing} (backing volume)") from None
                raise
        return parse_volume(
            lookup_volume(lookup_pool(conn, pool, host.name), backing, host.name).XMLDesc(0)
        )

    return await call_or_fail(host, f"read backing volume {backing}", read)


# -- resize, wipe, delete, clone ---------------------------------------------------------
@on_host
async def resize_volume(
    host: Host, pool: str, name: str, capacity: int, *, shrink: bool = False
) -> Volume:
    """Grow a volume to `capacity` bytes; shrinking loses data and needs shrink=True.
    Growing does not allocate (a raw file grows sparse)."""
    what = f"resize volume {name} of pool {pool}"
    conn = writable_conn(host, what)
    current = await get_volume(host, pool, name)
    try:
        check_capacity(capacity, "new size")
        if capacity < current.capacity and not shrink:
            raise BadInput(
                f"{capacity} bytes is less than its size of {current.capacity} bytes: "
                "shrinking loses the data past the new end (ask for it explicitly)"
            )
    except BadInput as exc:
        raise BadInput(f"cannot {what}: {exc.message}") from None
    if capacity == current.capacity:
        return current
    flags = libvirt.VIR_STORAGE_VOL_RESIZE_SHRINK if capacity < current.capacity else 0

    def work() -> None:
        lookup_volume(lookup_pool(conn, pool, host.name), name, host.name).resize(capacity, flags)

    await call_or_fail(host, what, work)
    return await get_volume(host, pool, name)


def _refuse_if_used(users: tuple[VolumeUser, ...], force: Collection[str], what: str) -> None:
    """In use: refused unless `force` names every guest using it (the user confirmed)."""
    unconfirmed = [u for u in users if u.guest not in force]
    if unconfirmed:
        guests = ", ".join(u.describe() for u in unconfirmed)
        raise VtuiError(f"cannot {what}: it is in use by {guests}")


@on_host
async def wipe_volume(
    host: Host, pool: str, name: str, *, algorithm: str = "zero", force: Collection[str] = ()
) -> Volume:
    """Overwrite a volume's data (zeros by default). Refused while a guest uses it,
    unless `force` names each such guest."""
    what = f"wipe volume {name} of pool {pool}"
    conn = writable_conn(host, what)
    if algorithm not in WIPE_ALGORITHMS:
        raise BadInput(
            f"cannot {what}: no wipe algorithm {algorithm!r} (one of {', '.join(WIPE_ALGORITHMS)})"
        )
    current = await get_volume(host, pool, name)
    _refuse_if_used(current.users, force, what)

    def work() -> None:
        volume = lookup_volume(lookup_pool(conn, pool, host.name), name, host.name)
        volume.wipePattern(WIPE_ALGORITHMS[algorithm], 0)

    await call_or_fail(host, what, work)
    return await get_volume(host, pool, name)


@on_host
async def delete_volume(host: Host, pool: str, name: str, *, force: Collection[str] = ()) -> None:
    """Delete a volume and its data. Refused while a guest uses it, unless `force`
    names each such guest; refused while it backs another volume of the pool."""
    what = f"delete volume {name} of pool {pool}"
    conn = writable_conn(host, what)
    volumes = await list_volumes(host, pool)
    current = next((v for v in volumes if v.name == name), None)
    if current is None:
        raise VtuiError(f"cannot {what}: there is no such volume")
    _refuse_if_used(current.users, force, what)
    if current.backing_of:
        raise VtuiError(f"cannot {what}: it is the backing file of {', '.join(current.backing_of)}")

    def work() -> None:
        lookup_volume(lookup_pool(conn, pool, host.name), name, host.name).delete(0)

    await call_or_fail(host, what, work)


@on_host
async def clone_volume(host: Host, pool: str, name: str, new_name: str) -> Volume:
    """A full copy of a volume in the same pool (libvirt copies the data on the host;
    a qcow2 overlay's copy holds its backing chain's data too)."""
    what = f"clone volume {name} of pool {pool} as {new_name}"
    conn = writable_conn(host, what)
    (info, names), source = await asyncio.gather(
        pool_and_names(host, conn, pool), get_volume(host, pool, name)
    )
    try:
        check_new_name(new_name, names, pool)
        check_space(source.allocation, info.available, pool, f"a copy of {name}")
    except BadInput as exc:
        raise BadInput(f"cannot {what}: {exc.message}") from None
    xml = volume_xml(new_name, source.capacity, format=source.format)

    def work() -> VolumeXml:
        found = lookup_pool(conn, pool, host.name)
        original = lookup_volume(found, name, host.name)
        return parse_volume(found.createXMLFrom(xml, original, 0).XMLDesc(0))

    return volume_of(await call_or_fail(host, what, work), pool, DiskUsers())
