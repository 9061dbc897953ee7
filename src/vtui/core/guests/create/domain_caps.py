"""What the host's hypervisor offers a guest of one arch, machine and domain type,
from libvirt's domain capabilities: vCPU limit, CPU modes and named models, disk
buses, graphics, video and RNG models, firmware. Read once per connection and key
(they change only with an upgrade of libvirt or QEMU, which means a reconnect).

A driver without domain capabilities (libvirt's test driver, old daemons) gives
None: the form then offers the generic choices and libvirt has the last word."""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import libvirt
from lxml import etree

from vtui.core.host import Firmware, Host
from vtui.core.host.caps import parse_firmware
from vtui.core.host.guard import failure, unsupported


@dataclass(frozen=True, slots=True)
class DomainCaps:
    emulator: str
    domain_type: str
    machine: str  # the canonical machine these answers are for
    arch: str
    max_vcpus: int | None
    cpu_modes: tuple[str, ...]  # supported: host-passthrough, host-model, custom, maximum
    cpu_models: tuple[str, ...]  # named models usable on this host
    host_cpu_model: str  # what host-model expands to
    disk_buses: tuple[str, ...]
    graphics: tuple[str, ...]
    video_models: tuple[str, ...]
    rng_models: tuple[str, ...]
    firmware: Firmware


def _enum(root: etree._Element, path: str) -> tuple[str, ...]:
    return tuple((v.text or "").strip() for v in root.iterfind(f"{path}/value"))


def _supported(root: etree._Element, path: str) -> bool:
    found = root.find(path)
    return found is not None and found.get("supported") == "yes"


def parse_domain_caps(root: etree._Element) -> DomainCaps:
    modes = tuple(
        m.get("name", "") for m in root.iterfind("cpu/mode") if m.get("supported") == "yes"
    )
    max_vcpus = root.find("vcpu")
    devices = root.find("devices")
    if devices is None:
        devices = etree.Element("devices")

    def device_enum(device: str, name: str) -> tuple[str, ...]:
        if not _supported(devices, device):
            return ()
        return _enum(devices, f"{device}/enum[@name='{name}']")

    return DomainCaps(
        emulator=root.findtext("path", ""),
        domain_type=root.findtext("domain", ""),
        machine=root.findtext("machine", ""),
        arch=root.findtext("arch", ""),
        max_vcpus=int(max_vcpus.get("max", "0")) or None if max_vcpus is not None else None,
        cpu_modes=modes,
        cpu_models=tuple(
            (m.text or "").strip()
            for m in root.iterfind("cpu/mode[@name='custom']/model")
            if m.get("usable") != "no"
        ),
        host_cpu_model=root.findtext("cpu/mode[@name='host-model']/model", ""),
        disk_buses=device_enum("disk", "bus"),
        graphics=device_enum("graphics", "type"),
        video_models=device_enum("video", "modelType"),
        rng_models=device_enum("rng", "model"),
        firmware=parse_firmware(root),
    )


class _Cache:
    def __init__(self, conn: libvirt.virConnect):
        self.conn = conn
        self.found: dict[tuple[str, str, str], DomainCaps | None] = {}


_cache: weakref.WeakKeyDictionary[Host, _Cache] = weakref.WeakKeyDictionary()


async def domain_caps(host: Host, arch: str, machine: str, domain_type: str) -> DomainCaps | None:
    """The domain capabilities for this arch/machine/type ("" machine: the default),
    or None when the host's driver has none."""
    conn = host.require_conn()
    entry = _cache.get(host)
    if entry is None or entry.conn is not conn:
        entry = _cache[host] = _Cache(conn)
    key = (arch, machine, domain_type)
    if key not in entry.found:

        def read() -> DomainCaps | None:
            try:
                text = conn.getDomainCapabilities(
                    None, arch or None, machine or None, domain_type or None, 0
                )
            except libvirt.libvirtError as exc:
                if unsupported(exc):
                    return None
                raise
            return parse_domain_caps(etree.fromstring(text.encode()))

        try:
            entry.found[key] = await host.call(read)
        except libvirt.libvirtError as exc:
            what = f"read what {host.name} offers {arch} {machine or ''} guests".replace("  ", " ")
            raise failure(host, what, exc) from exc
    return entry.found[key]
