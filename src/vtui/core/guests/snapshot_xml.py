"""Snapshots as plain data: reading libvirt's <domainsnapshot> XML, putting a guest's
snapshots in tree order, and building the XML vtui asks libvirt to create."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from lxml import etree

from vtui.core.states import BLOCKED, CRASHED, PAUSED, PMSUSPENDED, RUNNING, SHUTDOWN, SHUTOFF

INTERNAL, EXTERNAL = "internal", "external"
DISK_SNAPSHOT = "disk-snapshot"  # libvirt's state of a disk-only snapshot of a running guest
# <state> of a snapshot, in the words the guest table uses
_STATES = {
    "running": RUNNING,
    "blocked": BLOCKED,
    "paused": PAUSED,
    "shutdown": SHUTDOWN,
    "shutoff": SHUTOFF,
    "crashed": CRASHED,
    "pmsuspended": PMSUSPENDED,
    DISK_SNAPSHOT: DISK_SNAPSHOT,
}


@dataclass(frozen=True, slots=True)
class SnapshotDisk:
    target: str  # vda
    mode: str  # internal, external, no, manual
    file: str  # an external snapshot's overlay ("" otherwise)


@dataclass(frozen=True, slots=True)
class Snapshot:
    name: str
    parent: str | None
    created_at: float | None  # wall clock
    state: str  # the guest's state when it was taken (or "disk-snapshot")
    description: str
    location: str  # INTERNAL (inside the qcow2 files) or EXTERNAL (overlay files)
    memory: bool  # the guest's memory was saved too: reverting resumes it
    memory_file: str  # where an external snapshot keeps the memory ("" otherwise)
    disks: tuple[SnapshotDisk, ...]
    current: bool = False  # what the guest's disks (and memory) derive from now
    size: int | None = None  # bytes its own files take (external), None if not known
    depth: int = 0  # in the tree: 0 for a root
    children: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        if self.location == EXTERNAL:
            return "external, with memory" if self.memory else "external disk-only"
        return "internal, with memory" if self.memory else "internal"

    @property
    def files(self) -> tuple[str, ...]:
        """The files an external snapshot made: overlays, then the memory file."""
        found = [d.file for d in self.disks if d.mode == EXTERNAL and d.file]
        return tuple(found + ([self.memory_file] if self.memory_file else []))

    @property
    def resumes_running(self) -> bool:
        return self.memory and self.state in (RUNNING, BLOCKED)


def parse_snapshot(xml: str, current: bool = False) -> Snapshot:
    root = etree.fromstring(xml.encode())
    memory = root.find("memory")
    memory_mode = memory.get("snapshot", "no") if memory is not None else ""
    state = _STATES.get((root.findtext("state") or "").strip(), SHUTOFF)
    if not memory_mode:  # old libvirt: memory was saved for every snapshot of a live guest
        memory_mode = "no" if state in (SHUTOFF, DISK_SNAPSHOT, CRASHED) else INTERNAL
    disks = []
    for disk in root.iterfind("disks/disk"):
        source = disk.find("source")
        file = (source.get("file") or source.get("dev") or "") if source is not None else ""
        disks.append(SnapshotDisk(disk.get("name", ""), disk.get("snapshot", ""), file))
    external = memory_mode == EXTERNAL or any(d.mode == EXTERNAL for d in disks)
    created = (root.findtext("creationTime") or "").strip()
    return Snapshot(
        name=(root.findtext("name") or "").strip(),
        parent=(root.findtext("parent/name") or "").strip() or None,
        created_at=float(created) if created.isdigit() else None,
        state=state,
        description=(root.findtext("description") or "").strip(),
        location=EXTERNAL if external else INTERNAL,
        memory=memory_mode in (INTERNAL, EXTERNAL),
        memory_file=memory.get("file", "") if memory is not None else "",
        disks=tuple(disks),
        current=current,
    )


def in_tree_order(snapshots: Iterable[Snapshot]) -> list[Snapshot]:
    """Parents before their children, siblings oldest first; each with its depth and
    its children's names. A snapshot whose parent is unknown counts as a root."""
    by_name = {s.name: s for s in snapshots}
    children: dict[str | None, list[Snapshot]] = {}
    for snap in by_name.values():
        parent = snap.parent if snap.parent in by_name else None
        children.setdefault(parent, []).append(snap)
    for siblings in children.values():
        siblings.sort(key=lambda s: (s.created_at or 0, s.name))
    ordered: list[Snapshot] = []
    stack = [(s, 0) for s in reversed(children.get(None, []))]
    while stack:
        snap, depth = stack.pop()
        kids = children.get(snap.name, [])
        ordered.append(replace(snap, depth=depth, children=tuple(k.name for k in kids)))
        stack.extend((k, depth + 1) for k in reversed(kids))
    return ordered


def descendants(tree: list[Snapshot], name: str) -> list[str]:
    """Every snapshot below `name` (children, their children...), in tree order."""
    by_name = {s.name: s for s in tree}
    found: list[str] = []
    pending = list(by_name[name].children) if name in by_name else []
    while pending:
        child = pending.pop(0)
        found.append(child)
        pending[0:0] = by_name[child].children if child in by_name else ()
    return found


def snapshot_xml(
    name: str,
    description: str,
    *,
    memory: str,
    memory_file: str,
    disks: dict[str, str],
) -> str:
    """The <domainsnapshot> to create. memory: 'no', 'internal' or 'external' (then
    memory_file says where); disks: target -> 'internal', 'external' or 'no' (an
    external disk's overlay is named by libvirt, beside the disk's file)."""
    root = etree.Element("domainsnapshot")
    etree.SubElement(root, "name").text = name
    if description:
        etree.SubElement(root, "description").text = description
    mem = etree.SubElement(root, "memory", snapshot=memory)
    if memory == EXTERNAL:
        mem.set("file", memory_file)
    if disks:
        listed = etree.SubElement(root, "disks")
        for target, mode in disks.items():
            etree.SubElement(listed, "disk", name=target, snapshot=mode)
    return etree.tostring(root, encoding="unicode")
