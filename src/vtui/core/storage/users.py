"""Which guests use which storage: every guest's disk sources on a host, running and
shut off (the live definition and the one the next start uses), including the
backing files of their images.

A disk names its storage by file path, block device, or pool and volume name; a
volume is used when any of those match it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field

import libvirt
from lxml import etree

from vtui.core.host import Host
from vtui.core.storage.access import run, run_split
from vtui.core.storage.model import VolumeUser


@dataclass(slots=True)
class DiskUsers:
    """Guests by the storage their disks name."""

    by_path: dict[str, dict[str, VolumeUser]] = field(default_factory=dict)
    by_volume: dict[tuple[str, str], dict[str, VolumeUser]] = field(default_factory=dict)

    def add_path(self, path: str, user: VolumeUser) -> None:
        _keep(self.by_path.setdefault(os.path.normpath(path), {}), user)

    def add_volume(self, pool: str, volume: str, user: VolumeUser) -> None:
        _keep(self.by_volume.setdefault((pool, volume), {}), user)

    def of(self, pool: str, volume: str, path: str) -> tuple[VolumeUser, ...]:
        """The guests using this volume, by name."""
        found: dict[str, VolumeUser] = {}
        for user in self.by_volume.get((pool, volume), {}).values():
            _keep(found, user)
        if path:
            for user in self.by_path.get(os.path.normpath(path), {}).values():
                _keep(found, user)
        return tuple(sorted(found.values(), key=lambda u: u.guest))

    def in_pool(self, pool: str, target_path: str) -> tuple[VolumeUser, ...]:
        """The guests using any volume of a pool: by its name, or a path inside its
        target directory (which works while the pool is stopped too)."""
        found: dict[str, VolumeUser] = {}
        for (pool_name, _volume), users in self.by_volume.items():
            if pool_name == pool:
                for user in users.values():
                    _keep(found, user)
        if target_path:
            inside = os.path.normpath(target_path).rstrip("/") + "/"
            for path, users in self.by_path.items():
                if path.startswith(inside):
                    for user in users.values():
                        _keep(found, user)
        return tuple(sorted(found.values(), key=lambda u: u.guest))


def _keep(users: dict[str, VolumeUser], user: VolumeUser) -> None:
    """One entry per guest; the running definition's device name wins."""
    old = users.get(user.guest)
    if old is None or (user.active and not old.active):
        users[user.guest] = user


async def disk_users(host: Host) -> DiskUsers:
    """Read every guest's disks on this host (one XML read per definition)."""
    conn = host.require_conn()
    domains = await run(host, "list the guests", lambda: conn.listAllDomains(0))
    definitions = await run_split(host, "read the guests' disks", domains, _definitions)
    users = DiskUsers()
    for name, active, xmls in definitions:
        for xml in xmls:
            _collect(users, name, active, xml)
    return users


def _definitions(dom: libvirt.virDomain) -> tuple[str, bool, list[str]]:
    """(name, running, [live XML, next-start XML]) of one guest; a guest that vanished
    meanwhile has none."""
    try:
        active = bool(dom.isActive())
        xmls = [dom.XMLDesc(0)]
        if active and dom.isPersistent():
            xmls.append(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        return dom.name(), active, xmls
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return dom.name(), False, []
        raise


def _collect(users: DiskUsers, guest: str, active: bool, xml: str) -> None:
    root = etree.fromstring(xml.encode())
    for disk in root.iterfind("devices/disk"):
        target = disk.find("target")
        user = VolumeUser(guest, active, target.get("dev", "") if target is not None else "")
        for source in _sources(disk):
            pool, volume = source.get("pool"), source.get("volume")
            if pool and volume:
                users.add_volume(pool, volume, user)
            for attribute in ("file", "dev", "dir"):
                path = source.get(attribute)
                if path:
                    users.add_path(path, user)


def _sources(disk: etree._Element) -> Iterable[etree._Element]:
    """The disk's own source and those of its backing chain (live XML lists it)."""
    return disk.iter("source")
