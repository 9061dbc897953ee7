"""What a snapshot operation will do, decided before anything is asked of libvirt: the
kind of snapshot a request becomes, what the guest is like after a revert, what a
delete throws away, and what this host's libvirt and the guest's disk formats cannot
do (said as a refusal with the reason, instead of libvirt's error halfway).

Pure functions of what snapshots.py read from the host."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import libvirt

from vtui.core.guests.access import version_text
from vtui.core.guests.layout import GuestLayout
from vtui.core.guests.snapshot_xml import (
    DISK_SNAPSHOT,
    EXTERNAL,
    INTERNAL,
    Snapshot,
    descendants,
    snapshot_xml,
)
from vtui.core.model import Guest
from vtui.core.states import BLOCKED, PAUSED, RUNNING, SHUTOFF

# libvirt's QEMU driver learnt these in these versions (NEWS of each release)
EXTERNAL_DELETE_SINCE = 9_000_000
EXTERNAL_REVERT_SINCE = 9_007_000
# 9.2 refused internal snapshots of shut-off UEFI guests too (running ones always were);
# 10.10 takes them again through QEMU's snapshot-save.
PFLASH_OFFLINE_REFUSED_SINCE = 9_002_000
PFLASH_INTERNAL_SINCE = 10_010_000
NAME_FORBIDDEN = "/"


@dataclass(frozen=True, slots=True)
class HostSide:
    """What the host is: its driver ('QEMU', 'TEST'...) and libvirt version number."""

    driver: str
    version: int

    @property
    def qemu(self) -> bool:
        return self.driver == "QEMU"


@dataclass(frozen=True, slots=True)
class SnapshotRequest:
    name: str = ""  # "" = a timestamp
    description: str = ""
    memory: bool | None = None  # None: with memory when the guest runs
    location: str | None = None  # INTERNAL, EXTERNAL or None: internal where it can be
    quiesce: bool = False  # freeze the guest's filesystems through its agent first


@dataclass(frozen=True, slots=True)
class SnapshotPlan:
    name: str
    description: str
    location: str
    memory: bool
    quiesce: bool
    xml: str
    flags: int
    refusal: str | None  # why it cannot be taken; None: it can

    @property
    def kind(self) -> str:
        if self.location == EXTERNAL:
            return "external, with memory" if self.memory else "external disk-only"
        return "internal, with memory" if self.memory else "internal"


def default_name(now: float | None = None) -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if now is None else now))


def check_snapshot_name(name: str, existing: set[str]) -> str | None:
    if not name.strip():
        return "a snapshot name cannot be empty"
    if NAME_FORBIDDEN in name:
        return f"snapshot name {name!r} contains /"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return f"snapshot name {name!r} contains a control character"
    if name != name.strip():
        return f"snapshot name {name!r} starts or ends with a space"
    if name in existing:
        return f"there is already a snapshot called {name!r}"
    return None


def decide_snapshot(
    guest: Guest,
    definition: GuestLayout,
    existing: set[str],
    side: HostSide,
    request: SnapshotRequest,
    *,
    readonly: bool = False,
    now: float | None = None,
) -> SnapshotPlan:
    """The snapshot `request` becomes for this guest on this host, or why it cannot."""
    running = guest.state in (RUNNING, BLOCKED, PAUSED)
    memory = running if request.memory is None else request.memory
    disks = definition.private_disks
    location = request.location or _best_location(running, memory, disks)
    name = request.name or default_name(now)

    def plan(refusal: str | None, xml: str = "", flags: int = 0) -> SnapshotPlan:
        why = f"cannot snapshot {guest.name}: {refusal}" if refusal else None
        return SnapshotPlan(
            name, request.description, location, memory, request.quiesce, xml, flags, why
        )

    if readonly:
        why: str | None = f"the connection to {guest.host} is read-only"
    else:
        why = _why_not(guest, definition, existing, side, request, name, running, memory, location)
    if why:
        return plan(why)
    modes = {d.target: "no" for d in definition.disks if d.target}
    modes.update({d.target: location for d in disks})
    memory_mode, memory_file = "no", ""
    flags = libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC
    if memory:
        memory_mode = location
        if location == EXTERNAL:
            first = next(d.path for d in disks if d.path)
            memory_file = os.path.join(os.path.dirname(first), f"{guest.name}.{name}.memory")
    elif location == EXTERNAL:
        flags |= libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY
    if request.quiesce:
        flags |= libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE
    xml = snapshot_xml(
        name, request.description, memory=memory_mode, memory_file=memory_file, disks=modes
    )
    return plan(None, xml, flags)


def _best_location(running: bool, memory: bool, disks) -> str:
    if running and not memory:
        return EXTERNAL  # libvirt takes disk-only snapshots of a running guest externally
    return INTERNAL if all(d.format == "qcow2" for d in disks) else EXTERNAL


def _why_not(
    guest: Guest,
    definition: GuestLayout,
    existing: set[str],
    side: HostSide,
    request: SnapshotRequest,
    name: str,
    running: bool,
    memory: bool,
    location: str,
) -> str | None:
    if not running and guest.state != SHUTOFF:
        return f"it is {guest.state} (start it or force it off first)"
    bad_name = check_snapshot_name(name, existing)
    if bad_name:
        return bad_name
    if memory and not running:
        return "only a running guest has memory to save (take a disk snapshot)"
    if request.quiesce and memory:
        return "quiescing applies to disk-only snapshots (without memory)"
    if request.quiesce and not definition.agent_connected:
        return "its guest agent does not answer (quiescing needs qemu-guest-agent running in it)"
    disks = definition.private_disks
    if not disks:
        return "it has no writable disk to snapshot"
    if location == INTERNAL:
        return _why_not_internal(definition, side, running, memory)
    for disk in disks:
        if disk.type == "volume":
            return (
                f"disk {disk.describe()} names a pool volume: libvirt makes external "
                "snapshots only of disks given by their file"
            )
        if disk.type != "file" or not disk.path:
            return (
                f"disk {disk.describe()} is not a file: an external snapshot needs a "
                "file beside it for its overlay"
            )
    return None


def _why_not_internal(
    definition: GuestLayout, side: HostSide, running: bool, memory: bool
) -> str | None:
    for disk in definition.private_disks:
        if disk.format != "qcow2":
            return (
                f"disk {disk.describe()} is {disk.format or 'raw'}: internal snapshots need "
                "qcow2 disks (take an external snapshot instead)"
            )
    if running and not memory:
        return "libvirt takes internal snapshots of a running guest only with its memory"
    if side.qemu and definition.pflash and side.version < PFLASH_INTERNAL_SINCE:
        if running or side.version >= PFLASH_OFFLINE_REFUSED_SINCE:
            return (
                f"libvirt {version_text(side.version)} cannot take internal snapshots of a "
                "guest with UEFI (pflash) firmware (take an external snapshot instead)"
            )
    return None


# -- revert and delete ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SnapshotOutcome:
    """What reverting to or deleting a snapshot does, said before asking."""

    snapshot: Snapshot
    state_after: str  # the guest's state afterwards
    effect: str  # one sentence: what the guest is like afterwards
    lost: tuple[str, ...]  # what cannot be had back, one line each
    removed: tuple[str, ...] = ()  # snapshots deleted (the one and its children)
    refusal: str | None = None


def when(snapshot: Snapshot) -> str:
    if snapshot.created_at is None:
        return "an unknown time"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(snapshot.created_at))


def decide_revert(
    guest: Guest, snapshot: Snapshot, side: HostSide, *, readonly: bool = False
) -> SnapshotOutcome:
    taken = when(snapshot)
    if snapshot.memory and snapshot.state in (RUNNING, BLOCKED):
        after, effect = RUNNING, f"{guest.name} runs on from the moment of the snapshot ({taken})"
    elif snapshot.memory and snapshot.state == PAUSED:
        after, effect = PAUSED, f"{guest.name} is paused at the moment of the snapshot ({taken})"
    else:
        after = SHUTOFF
        effect = f"{guest.name} is shut off, its disks as they were at {taken}"
        if snapshot.state == DISK_SNAPSHOT:
            effect += " (no memory was saved: the next start boots afresh)"
    lost = [f"everything written to its disks since {taken}"]
    if guest.state in (RUNNING, BLOCKED, PAUSED):
        if after == SHUTOFF:
            lost.append("the running guest: it is stopped at once, like pulling the plug")
        else:
            lost.append("what it holds in memory now (its running programs and their state)")
    refusal = None
    if readonly:
        refusal = f"the connection to {guest.host} is read-only"
    elif snapshot.location == EXTERNAL and side.qemu and side.version < EXTERNAL_REVERT_SINCE:
        refusal = (
            f"libvirt {version_text(side.version)} cannot revert to external snapshots "
            f"(version {version_text(EXTERNAL_REVERT_SINCE)} can)"
        )
    return SnapshotOutcome(
        snapshot,
        after,
        effect,
        tuple(lost),
        refusal=f"cannot revert {guest.name} to {snapshot.name}: {refusal}" if refusal else None,
    )


def decide_delete(
    guest: Guest,
    tree: list[Snapshot],
    snapshot: Snapshot,
    side: HostSide,
    *,
    children: bool,
    readonly: bool = False,
) -> SnapshotOutcome:
    below = descendants(tree, snapshot.name) if children else []
    removed = (snapshot.name, *below)
    by_name = {s.name: s for s in tree}
    lost = [f"{name} ({when(by_name[name])}): the state saved in it" for name in removed]
    effect = f"{guest.name} keeps running as it is now; only the saved states go"
    if guest.state == SHUTOFF:
        effect = f"{guest.name} stays as it is now; only the saved states go"
    if snapshot.location == EXTERNAL:
        effect += " (an external snapshot's overlay is merged into its disk)"
    refusal = None
    external = [by_name[n] for n in removed if by_name[n].location == EXTERNAL]
    if readonly:
        refusal = f"the connection to {guest.host} is read-only"
    elif external and side.qemu and side.version < EXTERNAL_DELETE_SINCE:
        refusal = (
            f"libvirt {version_text(side.version)} cannot delete external snapshots "
            f"(version {version_text(EXTERNAL_DELETE_SINCE)} can)"
        )
    return SnapshotOutcome(
        snapshot,
        guest.state,
        effect,
        tuple(lost),
        removed=removed,
        refusal=f"cannot delete snapshot {snapshot.name} of {guest.name}: {refusal}"
        if refusal
        else None,
    )
