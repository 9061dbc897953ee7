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

from lxml import etree

from vtui.core.host import Host
from vtui.core.host.definitions import read_definitions
from vtui.core.host.fanout import width_for
from vtui.core.host.guard import call_or_fail
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
    definitions = await call_or_fail(
        host, "read the guests' disks", read_definitions, conn, width_for(host), True
    )
    users = DiskUsers()
    for definition in definitions:
        for root in definition.documents:
            _collect(users, definition.name, definition.active, root)
    return users


def _collect(users: DiskUsers, guest: str, active: bool, root: etree._Element) -> None:
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
