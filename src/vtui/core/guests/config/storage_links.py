"""Where a guest's disks meet the host's storage pools (vtui.core.storage): the volume
behind a disk, the format a disk must declare, and the volume steps of a change
(create, delete, resize) as calls with their undo."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libvirt

from vtui.core import storage
from vtui.core.guests.config.model import DiskView
from vtui.core.guests.config.plan import Call, Context
from vtui.core.host import Host
from vtui.core.storage.definitions import parse_volume

if TYPE_CHECKING:
    from vtui.core.guests.config.edits_disks import NewDisk

# Pools of whole devices: their volumes have no format of their own (raw to QEMU).
DEVICE_POOLS = ("logical", "disk", "iscsi", "iscsi-direct", "scsi", "mpath", "zfs", "rbd")


@dataclass(frozen=True, slots=True)
class VolumeRef:
    pool: str
    name: str
    path: str
    format: str


def _by_path(conn: libvirt.virConnect, path: str) -> VolumeRef | None:
    try:
        vol = conn.storageVolLookupByPath(path)
    except libvirt.libvirtError:
        return None  # not in any pool (or no pool driver): a plain path
    xml = parse_volume(vol.XMLDesc(0))
    return VolumeRef(vol.storagePoolLookupByVolume().name(), vol.name(), vol.path(), xml.format)


async def volume_of(host: Host, disk: DiskView) -> VolumeRef | None:
    """The storage volume a disk uses, or None when it is not one."""
    if disk.volume:
        found = await storage.get_volume(host, disk.pool, disk.volume)
        return VolumeRef(found.pool, found.name, found.path, found.format)
    if not disk.path:
        return None
    conn = host.require_conn()
    return await host.call(_by_path, conn, disk.path)


async def formats_for(host: Host, spec: NewDisk) -> tuple[str, str | None]:
    """(the format the disk element declares, the format to create a new volume with).
    A new volume: qcow2 in a directory pool unless asked otherwise, raw (no format of
    its own) on a device pool; an existing volume: its own; a plain path: raw."""
    if spec.create_bytes is not None:
        pool = await storage.get_pool(host, spec.pool)
        if pool.type in DEVICE_POOLS:
            return "raw", None
        wanted = spec.format or "qcow2"
        return wanted, wanted
    if spec.format:
        return spec.format, None
    if spec.volume:
        found = await storage.get_volume(host, spec.pool, spec.volume)
        return found.format or "raw", None
    if spec.path:
        conn = host.require_conn()
        ref = await host.call(_by_path, conn, spec.path)
        return (ref.format if ref else "") or "raw", None
    return "raw", None


def create_call(host: Host, pool: str, name: str, capacity: int, fmt: str | None) -> Call:
    async def create(_ctx: Context) -> None:
        await storage.create_volume(host, pool, name, capacity, format=fmt)

    async def delete(_ctx: Context) -> None:
        await storage.delete_volume(host, pool, name)

    return Call(
        f"virStorageVolCreateXML(pool {pool}, volume {name}, {capacity} bytes)",
        run_async=create,
        undo_async=delete,
    )


def delete_call(host: Host, pool: str, name: str) -> Call:
    async def delete(_ctx: Context) -> None:
        await storage.delete_volume(host, pool, name)

    return Call(f"virStorageVolDelete(pool {pool}, volume {name})", run_async=delete)


def resize_call(host: Host, pool: str, name: str, capacity: int) -> Call:
    async def resize(_ctx: Context) -> None:
        await storage.resize_volume(host, pool, name, capacity)

    return Call(
        f"virStorageVolResize(pool {pool}, volume {name}, {capacity} bytes)", run_async=resize
    )
