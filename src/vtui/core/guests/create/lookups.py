"""What planning asks the host (in its worker threads) and this machine: is the name
free, which volume is "pool/volume" or a path, what the pools hold, whether a path
outside any pool exists, what a local file to upload is."""

from __future__ import annotations

import os
from dataclasses import dataclass

import libvirt
from lxml import etree

from vtui.core.host import Host
from vtui.core.storage.local_files import LocalImage, probe
from vtui.core.uri import is_local


@dataclass(frozen=True, slots=True)
class ExistingVolume:
    path: str
    format: str  # qcow2, raw, iso... ("" when libvirt does not say)
    capacity: int
    source_type: str  # "file" or "block"
    label: str  # pool/name, or the path outside any pool
    pool: str = ""  # "" for a path outside every pool
    name: str = ""


class NotFound(Exception):
    """One line: what the user named does not exist."""


def _volume_data(volume: libvirt.virStorageVol, label: str) -> ExistingVolume:
    root = etree.fromstring(volume.XMLDesc(0).encode())
    vol_type, capacity, _allocation = volume.info()
    fmt = root.find("target/format")
    try:
        pool = volume.storagePoolLookupByVolume().name()
    except libvirt.libvirtError:
        pool = ""
    return ExistingVolume(
        path=volume.path(),
        format=fmt.get("type", "") if fmt is not None else "",
        capacity=capacity,
        source_type="block" if vol_type == libvirt.VIR_STORAGE_VOL_BLOCK else "file",
        label=label,
        pool=pool,
        name=volume.name(),
    )


def existing_volume(conn: libvirt.virConnect, ref: str, local_host: bool) -> ExistingVolume:
    """'pool/volume' or an absolute path on the host. A path outside every pool is
    checked only on a local host (libvirt cannot look at other files): elsewhere it
    is taken as given, format raw. Raises NotFound. Blocking."""
    ref = ref.strip()
    if ref.startswith("/"):
        try:
            volume = conn.storageVolLookupByPath(ref)
        except libvirt.libvirtError:
            if local_host and not os.path.exists(ref):
                raise NotFound(f"{ref} does not exist on the host") from None
            return ExistingVolume(ref, "", 0, "block" if ref.startswith("/dev/") else "file", ref)
        return _volume_data(volume, ref)
    pool_name, slash, name = ref.partition("/")
    if not slash or not pool_name or not name:
        raise NotFound(f"{ref!r} is neither pool/volume nor an absolute path")
    try:
        pool = conn.storagePoolLookupByName(pool_name)
    except libvirt.libvirtError:
        raise NotFound(f"no storage pool called {pool_name!r}") from None
    if not pool.isActive():
        raise NotFound(f"pool {pool_name!r} is not active (start it first)")
    try:
        volume = pool.storageVolLookupByName(name)
    except libvirt.libvirtError:
        raise NotFound(f"no volume {name!r} in pool {pool_name!r}") from None
    return _volume_data(volume, ref)


def host_is_local(host: Host) -> bool:
    """Files named on the host are files of this machine."""
    return host.tunnel is None and is_local(host.uri)


def name_taken(conn: libvirt.virConnect, name: str) -> bool:
    try:
        conn.lookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return False
        raise
    return True


def pool_volume_names(conn: libvirt.virConnect, pool: str) -> set[str]:
    try:
        found = conn.storagePoolLookupByName(pool)
        return set(found.listVolumes()) if found.isActive() else set()
    except libvirt.libvirtError:
        return set()


def unique_volume_name(wanted: str, taken: set[str]) -> str:
    """wanted, or wanted with -1, -2... before its extension when the pool has it."""
    stem, dot, ext = wanted.rpartition(".")
    if not dot:
        stem, ext = wanted, ""
    candidate, n = wanted, 0
    while candidate in taken:
        n += 1
        candidate = f"{stem}-{n}.{ext}" if ext else f"{stem}-{n}"
    return candidate


def local_image(path: str) -> LocalImage:
    """A local file to upload; raises NotFound with the reason."""
    expanded = os.path.expanduser(path)
    try:
        image = probe(expanded)
    except OSError as exc:
        raise NotFound(f"cannot read {path}: {exc.strerror or exc}") from None
    if image.size == 0:
        raise NotFound(f"{path} is empty")
    if image.backing_file:
        raise NotFound(
            f"{path} is a qcow2 overlay of {image.backing_file}: upload a standalone image"
        )
    return image
