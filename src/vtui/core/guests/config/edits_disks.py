"""Disk changes: add (a new volume, an existing volume, or a path), remove (and, when
asked, delete its volume), change or eject CD media, bus/cache/read-only/shareable,
and growing a disk (live with blockresize, or the volume of a stopped guest)."""

from __future__ import annotations

from dataclasses import dataclass

import libvirt
from lxml import etree

from vtui.core.guests.config import calls, storage_links
from vtui.core.guests.config.device_xml import (
    set_media,
)
from vtui.core.guests.config.model import DiskView, GuestConfig
from vtui.core.guests.config.parse import parse_root
from vtui.core.guests.config.plan import (
    VIRSH_FLAGS,
    BadInput,
    Call,
    Plan,
    Scope,
    base_refusals,
    drop,
    element_text,
    make_plan,
    per_scope,
    refuse,
    refuse_alone,
    remove,
)
from vtui.core.guests.config.whole import define_plan
from vtui.core.guests.config.words import human_bytes
from vtui.core.guests.devices import CACHE_MODES, disk_element, next_target
from vtui.core.host import Host

HOTPLUG_BUSES = ("virtio", "scsi", "usb")
NOT_LIVE_PROPERTIES = (
    "QEMU cannot change a disk's cache, read-only or shareable setting while the guest "
    "runs (persistent only: next start)"
)


def _disk_elem(root: etree._Element, target: str) -> etree._Element | None:
    for disk in root.iterfind("devices/disk"):
        found = disk.find("target")
        if found is not None and found.get("dev") == target:
            return disk
    return None


def _present(target: str):
    return lambda root: _disk_elem(root, target) is not None


def _taken(config: GuestConfig) -> set[str]:
    views = (v for v in (config.live, config.persistent_view) if v is not None)
    return {d.target for view in views for d in view.disks}


def _disk(config: GuestConfig, target: str) -> DiskView:
    disk = config.shown.disk(target) or (
        config.persistent_view and config.persistent_view.disk(target)
    )
    if not disk:
        raise BadInput(f"{config.name} has no disk {target!r}")
    return disk


def _where(config: GuestConfig, target: str, refusals: dict[Scope, str]) -> dict[Scope, str]:
    """A disk only one definition has can be changed only there."""
    if config.live is not None and config.live.disk(target) is None:
        refuse(refusals, Scope.LIVE, f"the running guest has no disk {target}")
    if config.persistent_view is not None and config.persistent_view.disk(target) is None:
        refuse(refusals, Scope.PERSISTENT, f"the persistent definition has no disk {target}")
    return refusals


def _docs(config: GuestConfig, scope: Scope) -> str:
    return config.live_xml if scope is Scope.LIVE else config.persistent_xml


def _scope_elem(config: GuestConfig, scope: Scope, target: str) -> etree._Element:
    found = _disk_elem(parse_root(_docs(config, scope)), target)
    assert found is not None  # _where refused the scopes without it
    return found


# -- add ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NewDisk:
    """What to add. One of: `path` (a file or /dev device), `pool`+`volume` (an
    existing volume), `pool`+`volume`+`create_bytes` (a new volume made first), or
    none of them for an empty CD-ROM drive."""

    bus: str = "virtio"
    device: str = "disk"  # disk, cdrom
    target: str = ""  # "" picks the next free name for the bus
    path: str = ""
    pool: str = ""
    volume: str = ""
    create_bytes: int | None = None
    format: str = ""  # "" : the volume's own (raw for a plain path)
    cache: str = ""
    readonly: bool = False
    shareable: bool = False


async def plan_add_disk(host: Host, config: GuestConfig, spec: NewDisk) -> Plan:
    if spec.cache and spec.cache not in CACHE_MODES:
        raise BadInput(f"cache mode {spec.cache!r} is not one of {', '.join(CACHE_MODES)}")
    if spec.device not in ("disk", "cdrom"):
        raise BadInput(f"device {spec.device!r}: a disk or a cdrom")
    if spec.create_bytes is not None and not (spec.pool and spec.volume):
        raise BadInput("a new volume needs a pool and a name")
    if spec.device == "disk" and not (spec.path or spec.volume):
        raise BadInput("a disk needs a path, a volume, or a new volume")
    target = spec.target or next_target(spec.bus, _taken(config))
    if target in _taken(config):
        raise BadInput(f"{config.name} already has a disk {target}")
    fmt, volume_format = await storage_links.formats_for(host, spec)
    elem = disk_element(
        target,
        spec.bus,
        device=spec.device,
        path=spec.path,
        pool=spec.pool,
        volume=spec.volume,
        format=fmt,
        cache=spec.cache,
        readonly=spec.readonly,
        shareable=spec.shareable,
    )
    xml = element_text(elem)
    refusals = base_refusals(config)
    if spec.bus not in HOTPLUG_BUSES:
        refuse(
            refusals,
            Scope.LIVE,
            f"QEMU cannot hot-plug a {spec.bus} disk (virtio, scsi and usb can be)",
        )
    what = f"disk {target}"

    def change(root: etree._Element, _scope: Scope) -> None:
        devices = root.find("devices")
        if devices is None:
            devices = etree.SubElement(root, "devices")
        existing = devices.findall("disk")
        if existing:
            existing[-1].addnext(etree.fromstring(xml))
        else:
            devices.append(etree.fromstring(xml))

    def build(scope: Scope):
        steps: list[Call] = []
        lines: list[list[str]] = []
        if spec.create_bytes is not None:
            steps.append(
                storage_links.create_call(
                    host, spec.pool, spec.volume, spec.create_bytes, volume_format
                )
            )
            lines.append(
                ["vol-create-as", spec.pool, spec.volume, f"{spec.create_bytes}B"]
                + (["--format", volume_format] if volume_format else [])
            )
        steps += per_scope(scope, lambda part: [calls.attach(part, xml, what, _present(target))])
        lines.append(["attach-device", config.name, f"{target}.xml", *VIRSH_FLAGS[scope]])
        return steps, lines

    new = f" (a new {human_bytes(spec.create_bytes)} volume)" if spec.create_bytes else ""
    return make_plan(
        config, f"add disk {target} to {config.name}{new}", change, build, refusals, device_xml=xml
    )


# -- remove ------------------------------------------------------------------------------
async def plan_remove_disk(
    host: Host, config: GuestConfig, target: str, *, delete_volume: bool = False
) -> Plan:
    disk = _disk(config, target)
    refusals = _where(config, target, base_refusals(config))
    loses = ""
    volume = None
    if delete_volume:
        if disk.removable:
            raise BadInput(f"{target} is a {disk.device}: vtui never deletes media images")
        volume = await storage_links.volume_of(host, disk)
        if volume is None:
            raise BadInput(
                f"{target} ({disk.source}) is not a storage volume: only volumes are deleted"
            )
        why = "the volume can be deleted only when the disk leaves both definitions"
        refuse_alone(refusals, Scope.LIVE, why)
        if config.live is not None and config.live.disk(target) is not None:
            refuse_alone(refusals, Scope.PERSISTENT, why)
        loses = f"volume {volume.name} of pool {volume.pool} ({volume.path}) and all the data on it"

    def change(root: etree._Element, _scope: Scope) -> None:
        elem = _disk_elem(root, target)
        if elem is not None:
            remove(elem)

    def build(scope: Scope):
        def each(part: Scope) -> list[Call]:
            xml = element_text(_scope_elem(config, part, target))
            return [calls.detach(part, xml, f"disk {target}", _present(target))]

        steps = per_scope(scope, each)
        lines = [["detach-disk", config.name, target, *VIRSH_FLAGS[scope]]]
        if volume is not None:
            steps.append(storage_links.delete_call(host, volume.pool, volume.name))
            lines.append(["vol-delete", volume.name, "--pool", volume.pool])
        return steps, lines

    also = " and delete its volume" if volume is not None else ""
    title = f"remove disk {target} from {config.name}{also}"
    return make_plan(config, title, change, build, refusals, loses=loses)


# -- media -------------------------------------------------------------------------------
def plan_change_media(config: GuestConfig, target: str, path: str) -> Plan:
    """Insert `path` into a CD-ROM or floppy drive ("" ejects what is in it)."""
    disk = _disk(config, target)
    if not disk.removable:
        raise BadInput(f"{target} is a {disk.device}: only CD-ROM and floppy media change")
    refusals = _where(config, target, base_refusals(config))

    def change(root: etree._Element, _scope: Scope) -> None:
        elem = _disk_elem(root, target)
        if elem is not None:
            set_media(elem, path)

    def build(scope: Scope):
        def each(part: Scope) -> list[Call]:
            old = _scope_elem(config, part, target)
            new = etree.fromstring(etree.tostring(old))
            set_media(new, path)
            return [calls.update(part, element_text(new), element_text(old), f"disk {target}")]

        how = [path, "--update"] if path else ["--eject"]
        return per_scope(scope, each), [
            ["change-media", config.name, target, *how, *VIRSH_FLAGS[scope]]
        ]

    title = (
        f"insert {path} into {target} of {config.name}"
        if path
        else f"eject {target} of {config.name}"
    )
    return make_plan(config, title, change, build, refusals)


# -- bus, cache, read-only, shareable ----------------------------------------------------
def plan_disk_properties(
    config: GuestConfig,
    target: str,
    *,
    bus: str | None = None,
    cache: str | None = None,
    readonly: bool | None = None,
    shareable: bool | None = None,
) -> Plan:
    disk = _disk(config, target)
    if cache is not None and cache not in CACHE_MODES:
        raise BadInput(f"cache mode {cache!r} is not one of {', '.join(CACHE_MODES)}")
    new_bus = bus if bus is not None and bus != disk.bus else None
    if config.persistent_view is None or config.persistent_view.disk(target) is None:
        raise BadInput(f"the persistent definition of {config.name} has no disk {target}")
    new_target = next_target(new_bus, _taken(config) - {target}) if new_bus else target

    def edit(elem: etree._Element) -> None:
        driver = elem.find("driver")
        if cache is not None:
            if driver is None:
                driver = etree.Element("driver", name="qemu")
                elem.insert(0, driver)
            if cache == "default":
                drop(driver, "cache")
            else:
                driver.set("cache", cache)
        for flag, wanted in (("readonly", readonly), ("shareable", shareable)):
            have = elem.find(flag)
            if wanted and have is None:
                etree.SubElement(elem, flag)
            elif wanted is False and have is not None:
                elem.remove(have)
        if new_bus:
            found = elem.find("target")
            if found is not None:
                found.set("bus", new_bus)
                found.set("dev", new_target)
            address = elem.find("address")
            if address is not None:
                elem.remove(address)  # libvirt gives the disk an address on its new bus

    if new_bus:
        title = f"move disk {target} of {config.name} to the {new_bus} bus (as {new_target})"

        def on_root(root: etree._Element) -> None:
            found = _disk_elem(root, target)
            if found is not None:
                edit(found)

        return define_plan(config, title, on_root)
    refusals = refuse(
        _where(config, target, base_refusals(config)), Scope.LIVE, NOT_LIVE_PROPERTIES
    )

    def change(root: etree._Element, scope: Scope) -> None:
        found = _disk_elem(root, target)
        if found is not None and scope is Scope.PERSISTENT:
            edit(found)

    def build(_scope: Scope):
        old = _scope_elem(config, Scope.PERSISTENT, target)
        new = etree.fromstring(etree.tostring(old))
        edit(new)
        call = calls.update(
            Scope.PERSISTENT, element_text(new), element_text(old), f"disk {target}"
        )
        return [call], [["update-device", config.name, f"{target}.xml", "--config"]]

    return make_plan(config, f"change disk {target} of {config.name}", change, build, refusals)


# -- resize ------------------------------------------------------------------------------
async def plan_resize_disk(host: Host, config: GuestConfig, target: str, new_bytes: int) -> Plan:
    """Grow a disk: a running guest's with blockresize (it sees the new size at once),
    a stopped guest's volume through the storage pool. Never shrinks."""
    disk = _disk(config, target)
    size = config.block_sizes.get(target)
    if size is None:
        raise BadInput(f"the size of {target} is not known (an empty drive or a network disk?)")
    if new_bytes <= size.capacity:
        raise BadInput(
            f"{human_bytes(new_bytes)} is not more than its {human_bytes(size.capacity)}: "
            "shrinking loses the data past the new end, so vtui only grows disks"
        )
    note = f"The domain XML does not change: the disk image grows to {human_bytes(new_bytes)}."
    live = config.live is not None and config.live.disk(target) is not None
    refusals: dict[Scope, str] = {}
    if live:
        why = "the image itself grows, once: done through the running guest"
        refusals = {Scope.PERSISTENT: why, Scope.BOTH: why}
        flags = libvirt.VIR_DOMAIN_BLOCK_RESIZE_BYTES
        call = Call(
            f"virDomainBlockResize({target}, {new_bytes}, BYTES)",
            run=lambda ctx: ctx.dom.blockResize(target, new_bytes, flags),
        )
        line = ["blockresize", config.name, target, f"{new_bytes}B"]
    else:
        volume = await storage_links.volume_of(host, disk)
        if volume is None:
            raise BadInput(
                f"{target} ({disk.source}) is not a storage volume: start the guest to grow it "
                "live, or add its directory as a storage pool"
            )
        why = f"{config.name} is not running: its volume is resized instead"
        refusals = {Scope.LIVE: why, Scope.BOTH: why}
        call = storage_links.resize_call(host, volume.pool, volume.name, new_bytes)
        line = ["vol-resize", volume.name, f"{new_bytes}B", "--pool", volume.pool]

    def build(_scope: Scope):
        return [call], [line]

    title = f"grow disk {target} of {config.name} to {human_bytes(new_bytes)}"
    return make_plan(config, title, lambda root, scope: None, build, refusals, note=note)
