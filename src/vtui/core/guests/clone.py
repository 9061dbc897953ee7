"""Clone a shut-off guest: a new definition (new name, UUID and MAC addresses) whose
disks are copies of the original's, each made in the original's pool: a full copy
(libvirt copies the data on the host), or when asked a qcow2 overlay backed by the
original (instant; the original must then stay unchanged, like a template).

    plan = await plan_clone(host, guest, "web-02")        # plan.refusal says why not
    result = await clone_guest(host, guest, "web-02", on_progress=show)

Checked first (state, name, pools, space), then done on a thread of its own (a copy
takes minutes), with a ledger: a failure deletes the volumes it made and the new
definition, newest first, and reports the first error. The original is only read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import libvirt
from lxml import etree

from vtui.core.errors import VtuiError, libvirt_message
from vtui.core.guests.access import lookup_domain, on_guest
from vtui.core.guests.clone_plan import (
    COPYING,
    DONE,
    FAILED,
    ClonePlan,
    DiskCopy,
    clone_xml,
    copy_name,
)
from vtui.core.guests.layout import GuestDisk, GuestLayout, parse_layout
from vtui.core.guests.lifecycle import Action, refusal
from vtui.core.host import Host
from vtui.core.model import Guest
from vtui.core.storage import BadInput, check_name
from vtui.core.storage.definitions import VolumeXml, parse_volume, volume_xml
from vtui.core.storage.ledger import Ledger, with_undo_note
from vtui.core.units import size

CLONE = Action("clone", "clone", False, "inactive")
WHOLE_DEVICE_POOLS = ("logical", "disk")  # no files: no qcow2 overlays, no sparse copies
POLL_SECONDS = 0.5
Progress = Callable[[list[DiskCopy]], None]


@dataclass(frozen=True, slots=True)
class CloneResult:
    name: str
    uuid: str
    macs: tuple[str, ...]
    copies: tuple[DiskCopy, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _PoolFacts:
    name: str
    type: str
    active: bool
    available: int
    volumes: frozenset[str]


def _source_volume(conn: libvirt.virConnect, disk: GuestDisk) -> libvirt.virStorageVol | None:
    try:
        if disk.pool and disk.volume:
            return conn.storagePoolLookupByName(disk.pool).storageVolLookupByName(disk.volume)
        return conn.storageVolLookupByPath(disk.path)
    except libvirt.libvirtError:
        return None


def _pool_facts(pool: libvirt.virStoragePool) -> _PoolFacts:
    active = bool(pool.isActive())
    kind = etree.fromstring(pool.XMLDesc(0).encode()).get("type", "")
    available = pool.info()[3] if active else 0
    names = frozenset(pool.listVolumes()) if active else frozenset()
    return _PoolFacts(pool.name(), kind, active, available, names)


_Source = tuple[GuestDisk, VolumeXml | None, "_PoolFacts | None"]


def _read(
    conn: libvirt.virConnect, guest: Guest, new_name: str
) -> tuple[str, GuestLayout, bool, list[_Source]]:
    dom = lookup_domain(conn, guest)
    flags = libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE
    xml = dom.XMLDesc(flags)
    definition = parse_layout(xml)
    try:
        conn.lookupByName(new_name)
        name_taken = True
    except libvirt.libvirtError:
        name_taken = False
    sources: list[_Source] = []
    for disk in definition.private_disks:
        volume = _source_volume(conn, disk)
        if volume is None:
            sources.append((disk, None, None))
            continue
        sources.append(
            (disk, parse_volume(volume.XMLDesc(0)), _pool_facts(volume.storagePoolLookupByVolume()))
        )
    return xml, definition, name_taken, sources


async def plan_clone(
    host: Host, guest: Guest, new_name: str, *, overlay: bool = False
) -> ClonePlan:
    """What cloning `guest` as `new_name` would make, or (plan.refusal) why it cannot."""
    plan, _xml, _definition = await _plan(host, guest, new_name, overlay)
    return plan


async def _plan(
    host: Host, guest: Guest, new_name: str, overlay: bool
) -> tuple[ClonePlan, str, GuestLayout | None]:
    plan = ClonePlan(new_name)
    why = refusal(CLONE, guest, host.readonly)
    if why is None:
        try:
            check_name(new_name, "guest")
        except BadInput as exc:
            why = f"cannot clone {guest.name}: {exc.message}"
    if why:
        plan.refusal = why
        return plan, "", None
    conn = host.require_conn()
    xml, definition, taken, sources = await on_guest(
        host, guest, "read its definition", lambda: _read(conn, guest, new_name)
    )
    problems = [f"{host.name} already has a guest called {new_name!r}"] if taken else []
    needed: dict[str, int] = {}
    names: dict[str, set[str]] = {}
    for disk, volume, pool in sources:
        if volume is None or pool is None:
            problems.append(
                f"disk {disk.describe()} is not a volume of a storage pool: vtui copies "
                "disks inside their pool (define a pool for its directory)"
            )
            continue
        if not pool.active:
            problems.append(f"pool {pool.name!r} of disk {disk.target} is not active")
            continue
        if overlay and pool.type in WHOLE_DEVICE_POOLS:
            problems.append(
                f"pool {pool.name!r} ({pool.type}) cannot hold a qcow2 overlay of "
                f"{disk.target}: clone it with full copies"
            )
            continue
        taken_names = names.setdefault(pool.name, set(pool.volumes))
        name = copy_name(volume.name, guest.name, new_name, disk.target, taken_names, overlay)
        taken_names.add(name)
        total = 0 if overlay else volume.allocation
        needed[pool.name] = needed.get(pool.name, 0) + total
        if needed[pool.name] > pool.available:
            problems.append(
                f"pool {pool.name!r} has {size(pool.available)} free; the copies need "
                f"{size(needed[pool.name])}"
            )
        plan.copies.append(
            DiskCopy(
                target=disk.target,
                source_path=volume.path,
                pool=pool.name,
                source_volume=volume.name,
                volume=name,
                format=volume.format,
                overlay=overlay,
                total=total,
                capacity=volume.capacity,
            )
        )
    for disk in definition.disks:
        if not (disk.private and disk.has_source) and disk.has_source:
            plan.kept.append(f"{disk.target} ({disk.path or disk.volume}) is shared, not copied")
    if overlay and plan.copies:
        plan.notes.append(
            f"the clone's disks are overlays backed by {guest.name}'s: starting or "
            f"changing {guest.name} afterwards corrupts the clone"
        )
    if problems:
        plan.refusal = f"cannot clone {guest.name}: {problems[0]}" + (
            f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        )
    return plan, xml, definition


async def clone_guest(
    host: Host,
    guest: Guest,
    new_name: str,
    *,
    overlay: bool = False,
    on_progress: Progress | None = None,
) -> CloneResult:
    """Clone the shut-off `guest` as `new_name`. on_progress(copies) is called on the
    loop as disks are copied. Raises VtuiError (after undoing what it made)."""
    plan, xml, definition = await _plan(host, guest, new_name, overlay)
    if plan.refusal or definition is None:
        raise VtuiError(plan.refusal or "cannot clone", host=host.name)
    conn = host.require_conn()
    loop = asyncio.get_running_loop()

    def publish() -> None:
        if on_progress is not None:
            loop.call_soon_threadsafe(on_progress, plan.copies)

    thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"clone-{guest.name}")
    future = thread.submit(_clone_blocking, conn, guest, xml, definition, plan, publish)
    host.track(future)  # the connection is in use until the copies are done
    watcher = asyncio.ensure_future(_watch(host, conn, plan, publish))
    try:
        result = await asyncio.wrap_future(future)
    finally:
        watcher.cancel()
        thread.shutdown(wait=False)
    publish()
    await host.refresh_guest(result.uuid)
    return result


def _clone_blocking(
    conn: libvirt.virConnect,
    guest: Guest,
    xml: str,
    definition: GuestLayout,
    plan: ClonePlan,
    publish: Callable[[], None],
) -> CloneResult:
    ledger = Ledger()
    current: DiskCopy | None = None
    try:
        for copy in plan.copies:
            current = copy
            copy.state = COPYING
            publish()
            volume = _make_copy(conn, copy)
            ledger.did(f"delete volume {copy.volume}", _deleter(volume))
            copy.path, copy.state, copy.done = volume.path(), DONE, copy.total
            publish()
        current = None
        new_xml, notes = clone_xml(xml, plan.name, plan.copies, definition.disks)
        dom = conn.defineXML(new_xml)
        ledger.did(f"undefine {plan.name}", dom.undefine)
        made = parse_layout(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        ledger.forget()
    except (libvirt.libvirtError, VtuiError) as exc:
        reason = libvirt_message(exc) if isinstance(exc, libvirt.libvirtError) else exc.message
        if current is not None:
            current.state, current.error = FAILED, reason
            publish()
        where = f" (disk {current.target})" if current is not None else ""
        message = f"cannot clone {guest.name} as {plan.name}{where}: {reason}"
        raise VtuiError(with_undo_note(message, ledger.undo()), host=guest.host) from None
    return CloneResult(
        made.name, made.uuid, made.macs, tuple(plan.copies), tuple(plan.notes + notes)
    )


def _deleter(volume: libvirt.virStorageVol) -> Callable[[], None]:
    return lambda: volume.delete(0)


def _make_copy(conn: libvirt.virConnect, copy: DiskCopy) -> libvirt.virStorageVol:
    pool = conn.storagePoolLookupByName(copy.pool)
    original = pool.storageVolLookupByName(copy.source_volume)
    files = _pool_facts(pool).type not in WHOLE_DEVICE_POOLS
    if copy.overlay:
        xml = volume_xml(
            copy.volume,
            copy.capacity,
            format="qcow2",
            allocation=0,
            backing_path=copy.source_path,
            backing_format=copy.format or "raw",
        )
        return pool.createXML(xml, 0)
    # sparse where the pool has files: holes stay holes, the copy takes what it needs
    xml = volume_xml(
        copy.volume, copy.capacity, format=copy.format, allocation=0 if files else None
    )
    return pool.createXMLFrom(xml, original, 0)


async def _watch(
    host: Host, conn: libvirt.virConnect, plan: ClonePlan, publish: Callable[[], None]
) -> None:
    """How far the disk being copied is: its copy's allocation, read while it grows."""
    while True:
        await asyncio.sleep(POLL_SECONDS)
        copying = next((c for c in plan.copies if c.state == COPYING and not c.overlay), None)
        if copying is None:
            continue

        def allocation(copy: DiskCopy = copying) -> int:
            pool = conn.storagePoolLookupByName(copy.pool)
            return pool.storageVolLookupByName(copy.volume).info()[2]

        try:
            done = await host.call(allocation)
        except libvirt.libvirtError:
            continue  # not made yet, or libvirt will not say while it builds
        if copying.state == COPYING:
            copying.done = min(done, copying.total)
            publish()
