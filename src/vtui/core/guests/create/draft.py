"""The plan being assembled by planning.py: what is decided so far, the problems
found on the way, the volumes to make and the names they take."""

from __future__ import annotations

from vtui.core.guests.create.answers import (
    GuestAnswers,
)
from vtui.core.guests.create.choices import HostChoices
from vtui.core.guests.create.lookups import (
    ExistingVolume,
    NotFound,
    existing_volume,
    host_is_local,
    unique_volume_name,
)
from vtui.core.guests.create.osinfo import OsInfo
from vtui.core.guests.create.plan import (
    DiskDevice,
    NewVolume,
)
from vtui.core.host import Host
from vtui.core.storage import get_volume

FILE_POOLS = ("dir", "fs", "netfs")
BLOCK_POOLS = ("logical", "disk")
SEED_ROOM = 1024 * 1024  # what a seed image takes, generously


class Draft:
    """The plan being assembled, with the problems found on the way."""

    def __init__(self, host: Host, answers: GuestAnswers, choices: HostChoices, os: OsInfo):
        self.host, self.answers, self.choices, self.os = host, answers, choices, os
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.warnings: list[str] = []
        self.volumes: list[NewVolume] = []
        self.disks: list[DiskDevice] = []
        self.taken: dict[str, set[str]] = {}  # volume names per pool

    def targets(self) -> list[str]:
        return [d.target for d in self.disks]

    def new_volume(self, role: str, pool: str, wanted: str, **fields) -> NewVolume | None:
        info = self.choices.pool(pool)
        if info is None:
            self.problems.append(f"no storage pool called {pool!r}")
            return None
        if not info.active:
            self.problems.append(f"pool {pool!r} is not active (start it first)")
            return None
        if info.type not in FILE_POOLS + BLOCK_POOLS:
            self.problems.append(
                f"vtui makes volumes in dir, fs, netfs and logical pools, not {info.type} ({pool})"
            )
            return None
        name = unique_volume_name(wanted, self.taken.setdefault(pool, set()))
        self.taken[pool].add(name)
        path = f"{info.target_path.rstrip('/')}/{name}" if info.target_path else ""
        volume = NewVolume(role=role, pool=pool, name=name, path=path, **fields)
        if info.type in BLOCK_POOLS:
            volume.format = ""
            volume.needed_now = max(volume.needed_now, volume.capacity)
        self.volumes.append(volume)
        return volume

    def block_pool(self, pool: str) -> bool:
        info = self.choices.pool(pool)
        return info is not None and info.type in BLOCK_POOLS


async def existing_medium(
    draft: Draft, ref: str, what: str, writable: bool
) -> ExistingVolume | None:
    conn, local = draft.host.require_conn(), host_is_local(draft.host)
    try:
        found = await draft.host.call(existing_volume, conn, ref, local)
    except NotFound as exc:
        draft.problems.append(f"{what}: {exc}")
        return None
    if not found.pool and not local:
        draft.warnings.append(
            f"{what} {ref} is in no storage pool of remote {draft.host.name}: not checked"
        )
    if writable and found.pool:
        users = (await get_volume(draft.host, found.pool, found.name)).users
        if users:
            guests = ", ".join(u.describe() for u in users)
            draft.problems.append(f"{what} {found.label} is in use by {guests}")
    return found
