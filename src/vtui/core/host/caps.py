"""What a host can run: NUMA cells, guest architectures with their machine types and
domain types (kvm, qemu), and the firmware its domain capabilities offer.

The capabilities are read once per connection and cached (they change only when
libvirtd or QEMU is upgraded, which means a reconnect); the free memory of each NUMA
cell is read fresh by `numa_cells`. Creating a guest uses these to offer only what
the host supports.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, replace

import libvirt
from lxml import etree

from vtui.core.errors import libvirt_message
from vtui.core.host.connection import Host
from vtui.core.host.facts import memory_kib
from vtui.core.host.guard import call_or_fail, failure, unsupported
from vtui.core.model import NumaCell


@dataclass(frozen=True, slots=True)
class MachineType:
    name: str  # e.g. "pc-q35-7.2", or an alias such as "q35"
    canonical: str = ""  # what an alias stands for ("" when this is no alias)
    max_cpus: int | None = None
    deprecated: bool = False


@dataclass(frozen=True, slots=True)
class GuestArch:
    """One architecture the host can run guests of, e.g. x86_64 hvm guests."""

    arch: str
    os_type: str  # "hvm" for full virtualisation
    wordsize: int | None
    emulator: str
    machines: tuple[MachineType, ...]
    domain_types: tuple[str, ...]  # "kvm" (hardware accelerated), "qemu" (TCG)...

    def machine_names(self) -> list[str]:
        return [m.name for m in self.machines]


@dataclass(frozen=True, slots=True)
class Firmware:
    """What the domain capabilities offer to boot a guest of one arch/machine/type."""

    arch: str
    machine: str
    domain_type: str
    emulator: str
    autoselect: tuple[str, ...]  # firmware libvirt can pick by itself: "bios", "efi"
    loader_types: tuple[str, ...]  # "rom", "pflash"
    loader_paths: tuple[str, ...]  # firmware images installed on the host
    secure_boot: bool  # a secure-boot capable loader can be used

    @property
    def efi(self) -> bool:
        return "efi" in self.autoselect or bool(self.loader_paths)


@dataclass(frozen=True, slots=True)
class HostCapabilities:
    arch: str  # the host's own architecture
    cpu_model: str
    numa: tuple[NumaCell, ...]  # topology; free memory: see numa_cells()
    guests: tuple[GuestArch, ...]
    iommu: bool | None  # None: the host does not say
    firmware: Firmware | None = None  # for the host's arch, default machine, best type
    firmware_error: str = ""  # why firmware is None

    @property
    def kvm(self) -> bool:
        return any("kvm" in g.domain_types for g in self.guests)

    def arch_of(self, name: str, os_type: str = "hvm") -> GuestArch | None:
        return next((g for g in self.guests if g.arch == name and g.os_type == os_type), None)

    def best_domain_type(self, arch: str | None = None) -> str:
        """kvm where the hardware allows it, else what the driver offers first."""
        guest = self.arch_of(arch or self.arch) or next(iter(self.guests), None)
        if guest is None or not guest.domain_types:
            return ""
        return "kvm" if "kvm" in guest.domain_types else guest.domain_types[0]


class _Cached:
    """What was read on one connection of a host."""

    def __init__(self, conn: libvirt.virConnect, caps: HostCapabilities):
        self.conn = conn
        self.caps = caps
        self.firmware: dict[tuple[str, str | None, str], Firmware] = {}
        if caps.firmware is not None:
            self.firmware[(caps.arch, None, caps.firmware.domain_type)] = caps.firmware


# Weak: a Host that is gone takes its entry along.
_cache: weakref.WeakKeyDictionary[Host, _Cached] = weakref.WeakKeyDictionary()


async def _cached(host: Host) -> _Cached:
    conn = host.require_conn()
    entry = _cache.get(host)
    if entry is None or entry.conn is not conn:
        caps = await call_or_fail(host, "read the host's capabilities", _read_blocking, conn)
        entry = _cache[host] = _Cached(conn, caps)
    return entry


async def capabilities(host: Host) -> HostCapabilities:
    """The host's capabilities, read once per connection (a reconnect reads again)."""
    return (await _cached(host)).caps


async def firmware(
    host: Host, arch: str | None = None, machine: str | None = None, domain_type: str | None = None
) -> Firmware:
    """Firmware for guests of arch/machine/domain type (None: the host's defaults),
    from the domain capabilities; cached like the capabilities."""
    entry = await _cached(host)
    arch = arch or entry.caps.arch
    domain_type = domain_type or entry.caps.best_domain_type(arch)
    key = (arch, machine, domain_type)
    if key not in entry.firmware:
        what = f"read the firmware offered for {arch} guests"
        args = (entry.conn, arch, machine, domain_type)
        entry.firmware[key] = await call_or_fail(host, what, _firmware_blocking, *args)
    return entry.firmware[key]


async def numa_cells(host: Host) -> list[NumaCell]:
    """NUMA cells with their CPUs, total and free memory (free read now)."""
    caps = await capabilities(host)
    conn = host.require_conn()
    cells = [replace(c) for c in caps.numa]
    if not cells:
        return cells

    def free_blocking() -> list[int]:
        first = min(c.id for c in cells)
        return conn.getCellsFreeMemory(first, max(c.id for c in cells) - first + 1)

    try:
        free = await host.call(free_blocking)
    except libvirt.libvirtError as exc:
        raise failure(host, "read the free memory of the NUMA cells", exc) from exc
    first = min(c.id for c in cells)
    for cell in cells:
        index = cell.id - first
        if 0 <= index < len(free):
            cell.free_kib = free[index] // 1024
    return cells


# -- reading (worker threads) ----------------------------------------------------------------
def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _machine(elem: etree._Element) -> MachineType:
    return MachineType(
        name=(elem.text or "").strip(),
        canonical=elem.get("canonical", ""),
        max_cpus=_int(elem.get("maxCpus")),
        deprecated=elem.get("deprecated") == "yes",
    )


def parse_capabilities(root: etree._Element) -> HostCapabilities:
    guests = []
    for guest in root.iterfind("guest"):
        arch = guest.find("arch")
        if arch is None:
            continue
        machines = [_machine(m) for m in arch.iterfind("machine")]
        for domain in arch.iterfind("domain"):  # older libvirt lists machines per type
            machines += [_machine(m) for m in domain.iterfind("machine")]
        unique = list({m.name: m for m in machines if m.name}.values())
        guests.append(
            GuestArch(
                arch=arch.get("name", ""),
                os_type=guest.findtext("os_type", ""),
                wordsize=_int(arch.findtext("wordsize")),
                emulator=arch.findtext("emulator", ""),
                machines=tuple(unique),
                domain_types=tuple(
                    dict.fromkeys(d.get("type", "") for d in arch.iterfind("domain"))
                ),
            )
        )
    cells = []
    for cell in root.iterfind("host/topology/cells/cell"):
        mem = cell.find("memory")
        cells.append(
            NumaCell(
                id=int(cell.get("id", "0")),
                total_kib=memory_kib(mem) if mem is not None else 0,
                cpus=tuple(int(c.get("id", "0")) for c in cell.iterfind("cpus/cpu")),
            )
        )
    iommu = root.find("host/iommu")
    host_arch = root.findtext("host/cpu/arch", "")
    return HostCapabilities(
        arch=host_arch,
        cpu_model=root.findtext("host/cpu/model") or host_arch,
        numa=tuple(cells),
        guests=tuple(guests),
        iommu=None if iommu is None else iommu.get("support") == "yes",
    )


def parse_firmware(root: etree._Element) -> Firmware:
    def values(path: str) -> tuple[str, ...]:
        return tuple((v.text or "").strip() for v in root.iterfind(path))

    loader = root.find("os/loader")
    usable = loader is not None and loader.get("supported") == "yes"
    return Firmware(
        arch=root.findtext("arch", ""),
        machine=root.findtext("machine", ""),
        domain_type=root.findtext("domain", ""),
        emulator=root.findtext("path", ""),
        autoselect=values("os/enum[@name='firmware']/value"),
        loader_types=values("os/loader/enum[@name='type']/value") if usable else (),
        loader_paths=values("os/loader/value") if usable else (),
        secure_boot=usable and "yes" in values("os/loader/enum[@name='secure']/value"),
    )


def _firmware_blocking(
    conn: libvirt.virConnect, arch: str, machine: str | None, domain_type: str | None
) -> Firmware:
    text = conn.getDomainCapabilities(None, arch, machine, domain_type or None, 0)
    return parse_firmware(etree.fromstring(text.encode()))


def _read_blocking(conn: libvirt.virConnect) -> HostCapabilities:
    caps = parse_capabilities(etree.fromstring(conn.getCapabilities().encode()))
    try:
        found = _firmware_blocking(conn, caps.arch, None, caps.best_domain_type() or None)
    except libvirt.libvirtError as exc:
        why = "not reported by this host's driver" if unsupported(exc) else libvirt_message(exc)
        return replace(caps, firmware_error=why)
    return replace(caps, firmware=found)
