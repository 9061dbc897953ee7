"""A guest's snapshots: the tree, create, revert, delete.

    tree = await list_snapshots(host, guest)          # tree order, current one marked
    plan = await plan_snapshot(host, guest, SnapshotRequest(description="before upgrade"))
    snap = await create_snapshot(host, guest, SnapshotRequest(name="pre-upgrade"))
    outcome = await revert_outcome(host, guest, "pre-upgrade")   # said before confirming
    await revert_snapshot(host, guest, "pre-upgrade")
    await delete_snapshot(host, guest, "pre-upgrade", children=True)

What the host cannot do is refused before libvirt is asked (snapshot_rules.py); what
libvirt still refuses comes back as one line with its reason.
"""

from __future__ import annotations

import os
from dataclasses import replace

import libvirt
from lxml import etree

from vtui.core.errors import VtuiError
from vtui.core.guests.access import (
    driver_and_version,
    lookup_domain,
    on_guest,
    writable_conn,
)
from vtui.core.guests.layout import parse_layout
from vtui.core.guests.snapshot_rules import (
    HostSide,
    SnapshotOutcome,
    SnapshotPlan,
    SnapshotRequest,
    decide_delete,
    decide_revert,
    decide_snapshot,
)
from vtui.core.guests.snapshot_xml import Snapshot, in_tree_order, parse_snapshot
from vtui.core.host import Host
from vtui.core.model import Guest


def _read_tree(conn: libvirt.virConnect, dom: libvirt.virDomain) -> list[Snapshot]:
    found = []
    for snap in dom.listAllSnapshots(0):
        try:
            parsed = parse_snapshot(snap.getXMLDesc(0), bool(snap.isCurrent(0)))
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN_SNAPSHOT:
                continue  # deleted while we looked
            raise
        found.append(_with_size(conn, parsed))
    return in_tree_order(found)


def _with_size(conn: libvirt.virConnect, snap: Snapshot) -> Snapshot:
    """An external snapshot's files, measured where they are storage volumes."""
    sizes = []
    for path in snap.files:
        try:
            sizes.append(conn.storageVolLookupByPath(path).info()[2])
        except libvirt.libvirtError:
            continue  # not in any pool: libvirt cannot tell its size
    return replace(snap, size=sum(sizes)) if sizes else snap


def _refresh_pools_holding(conn: libvirt.virConnect, files: tuple[str, ...]) -> None:
    """libvirt wrote an external snapshot's files itself: the pools whose directories
    hold them learn of them (and can tell their sizes) once refreshed."""
    folders = {os.path.dirname(f) for f in files}
    if not folders:
        return
    for pool in conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE):
        target = etree.fromstring(pool.XMLDesc(0).encode()).findtext("target/path") or ""
        if target and os.path.normpath(target) in folders:
            try:
                pool.refresh(0)
            except libvirt.libvirtError:
                pass  # a busy pool: its sizes stay unknown until its next refresh


async def list_snapshots(host: Host, guest: Guest) -> list[Snapshot]:
    """Every snapshot of the guest in tree order (parents first, each with its depth)."""
    conn = host.require_conn()

    def work() -> list[Snapshot]:
        return _read_tree(conn, lookup_domain(conn, guest))

    return await on_guest(host, guest, "list snapshots", work)


def _definition_xml(dom: libvirt.virDomain) -> str:
    # a running guest as it runs (its agent's state is there); a shut-off one as defined
    return dom.XMLDesc(0 if dom.isActive() else libvirt.VIR_DOMAIN_XML_INACTIVE)


async def plan_snapshot(host: Host, guest: Guest, request: SnapshotRequest) -> SnapshotPlan:
    """What `request` would create, or (plan.refusal) why it cannot."""
    conn = host.require_conn()

    def work() -> tuple[str, set[str], HostSide]:
        dom = lookup_domain(conn, guest)
        names = set(dom.snapshotListNames(0))
        return _definition_xml(dom), names, HostSide(*driver_and_version(conn))

    xml, names, side = await on_guest(host, guest, "read its definition", work)
    return decide_snapshot(guest, parse_layout(xml), names, side, request, readonly=host.readonly)


async def create_snapshot(host: Host, guest: Guest, request: SnapshotRequest) -> Snapshot:
    """Take the snapshot; VtuiError with the reason if it is refused or fails."""
    plan = await plan_snapshot(host, guest, request)
    if plan.refusal:
        raise VtuiError(plan.refusal, host=host.name)
    conn = writable_conn(host, guest, "snapshot")

    def work() -> Snapshot:
        snap = lookup_domain(conn, guest).snapshotCreateXML(plan.xml, plan.flags)
        made = parse_snapshot(snap.getXMLDesc(0), True)
        _refresh_pools_holding(conn, made.files)
        return _with_size(conn, made)

    return await on_guest(host, guest, f"snapshot {guest.name}", work)


async def _tree_and_side(host: Host, guest: Guest) -> tuple[list[Snapshot], HostSide]:
    conn = host.require_conn()

    def work() -> tuple[list[Snapshot], HostSide]:
        return _read_tree(conn, lookup_domain(conn, guest)), HostSide(*driver_and_version(conn))

    return await on_guest(host, guest, "list snapshots", work)


def _find(tree: list[Snapshot], name: str, host: Host, guest: Guest) -> Snapshot:
    found = next((s for s in tree if s.name == name), None)
    if found is None:
        raise VtuiError(f"has no snapshot called {name!r}", host=host.name, guest=guest.name)
    return found


def _current(tree: list[Snapshot], host: Host, guest: Guest) -> Snapshot:
    found = next((s for s in tree if s.current), None)
    if found is None:
        raise VtuiError("has no current snapshot", host=host.name, guest=guest.name)
    return found


async def revert_outcome(host: Host, guest: Guest, name: str | None) -> SnapshotOutcome:
    """What reverting to `name` (None: the current snapshot) would do, or why it cannot."""
    tree, side = await _tree_and_side(host, guest)
    snap = _find(tree, name, host, guest) if name is not None else _current(tree, host, guest)
    return decide_revert(guest, snap, side, readonly=host.readonly)


async def revert_snapshot(host: Host, guest: Guest, name: str | None) -> SnapshotOutcome:
    """Revert the guest to the snapshot; returns what was done (see revert_outcome)."""
    outcome = await revert_outcome(host, guest, name)
    if outcome.refusal:
        raise VtuiError(outcome.refusal, host=host.name)
    conn = writable_conn(host, guest, "revert")
    snap_name = outcome.snapshot.name

    def work() -> None:
        dom = lookup_domain(conn, guest)
        dom.revertToSnapshot(dom.snapshotLookupByName(snap_name, 0), 0)

    await on_guest(host, guest, f"revert {guest.name} to {snap_name}", work)
    await host.refresh_guest(guest.uuid)  # a revert to a running state sends no start event
    return outcome


async def delete_outcome_of(
    host: Host, guest: Guest, name: str | None, *, children: bool = False
) -> SnapshotOutcome:
    """What deleting `name` (and its children) would lose, or why it cannot."""
    tree, side = await _tree_and_side(host, guest)
    snap = _find(tree, name, host, guest) if name is not None else _current(tree, host, guest)
    return decide_delete(guest, tree, snap, side, children=children, readonly=host.readonly)


async def delete_snapshot(
    host: Host, guest: Guest, name: str | None, *, children: bool = False
) -> SnapshotOutcome:
    """Delete the snapshot (with its children when asked); returns what went."""
    outcome = await delete_outcome_of(host, guest, name, children=children)
    if outcome.refusal:
        raise VtuiError(outcome.refusal, host=host.name)
    conn = writable_conn(host, guest, "delete snapshots of")
    snap_name = outcome.snapshot.name
    flags = libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN if children else 0

    def work() -> None:
        lookup_domain(conn, guest).snapshotLookupByName(snap_name, 0).delete(flags)

    await on_guest(host, guest, f"delete snapshot {snap_name}", work)
    return outcome
