"""Everything the create form offers, read from the host itself: its CPUs and memory,
architectures with their machine types and domain types (KVM or TCG), what the
hypervisor offers (domain capabilities: CPU modes, buses, firmware...), storage
pools, virtual networks and host interfaces (for a bridge or macvtap), plus the
OS list. All reads run concurrently in the host's threads; one that fails leaves
its list empty and says why in `problems` instead of failing the whole form."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TypeVar

import libvirt
from lxml import etree

from vtui.core.errors import VtuiError
from vtui.core.guests.create.domain_caps import DomainCaps, domain_caps
from vtui.core.guests.create.osinfo import OsDatabase, load_os_database
from vtui.core.host import GuestArch, Host, HostCapabilities, capabilities, list_devices
from vtui.core.host.guard import call_or_fail, unsupported
from vtui.core.networks import VirtualNetwork, list_networks
from vtui.core.storage import Pool, list_pools

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class HostInterface:
    """A network interface of the host a guest can be bridged or macvtap'd onto."""

    name: str
    mac: str
    kind: str  # ethernet, bridge, bond, vlan; "" when the host does not say
    up: bool | None  # None: not known

    @property
    def label(self) -> str:
        state = {True: "up", False: "down", None: ""}[self.up]
        return " ".join(p for p in (self.name, self.kind, state) if p)


@dataclass(slots=True)
class HostChoices:
    host: str
    readonly: bool
    cpus: int
    memory: int  # bytes
    caps: HostCapabilities | None
    domcaps: DomainCaps | None  # for the default arch, machine and domain type
    pools: list[Pool]
    networks: list[VirtualNetwork]
    interfaces: list[HostInterface]
    os_db: OsDatabase
    problems: list[str] = field(default_factory=list)  # what could not be read

    @property
    def arch(self) -> str:
        return self.caps.arch if self.caps else ""

    def guest_arch(self, arch: str = "") -> GuestArch | None:
        if self.caps is None:
            return None
        return self.caps.arch_of(arch or self.caps.arch) or next(iter(self.caps.guests), None)

    def arches(self) -> list[str]:
        return sorted({g.arch for g in self.caps.guests}) if self.caps else []

    def domain_types(self, arch: str = "") -> tuple[str, ...]:
        guest = self.guest_arch(arch)
        return guest.domain_types if guest else ()

    def best_domain_type(self, arch: str = "") -> str:
        return self.caps.best_domain_type(arch or None) if self.caps else ""

    def machines(self, arch: str = "") -> list[str]:
        guest = self.guest_arch(arch)
        return [m.name for m in guest.machines if not m.deprecated] if guest else []

    @property
    def kvm(self) -> bool:
        return "kvm" in self.domain_types()

    def pool(self, name: str) -> Pool | None:
        return next((p for p in self.pools if p.name == name), None)

    def network(self, name: str) -> VirtualNetwork | None:
        return next((n for n in self.networks if n.name == name), None)

    def interface(self, name: str) -> HostInterface | None:
        return next((i for i in self.interfaces if i.name == name), None)

    def default_pool(self) -> str:
        """'default' if the host has it, else the first active pool."""
        active = [p.name for p in self.pools if p.active]
        return "default" if "default" in active else (active[0] if active else "")

    def default_network(self) -> str:
        names = [n.name for n in self.networks]
        return "default" if "default" in names else (names[0] if names else "")


async def _or_problem(what: str, read: Awaitable[T], empty: T, problems: list[str]) -> T:
    try:
        return await read
    except VtuiError as exc:
        problems.append(f"{what}: {exc.message}")
        return empty


async def read_choices(host: Host) -> HostChoices:
    """What the create form offers on `host`, read now (a few seconds at most over a
    slow link: the reads run side by side)."""
    host.require_conn()
    problems: list[str] = []
    caps, pools, networks, interfaces = await asyncio.gather(
        _or_problem("capabilities", capabilities(host), None, problems),
        _or_problem("storage pools", list_pools(host), [], problems),
        _or_problem("networks", list_networks(host, guests=False), [], problems),
        _or_problem("host interfaces", host_interfaces(host), [], problems),
    )
    arch = caps.arch if caps else ""
    os_db = await asyncio.to_thread(load_os_database, None, arch or "x86_64")
    found = None
    if caps is not None and caps.guests:
        guest = caps.arch_of(caps.arch) or caps.guests[0]
        what = "what the hypervisor offers"
        found = await _or_problem(
            what,
            domain_caps(host, guest.arch, "", caps.best_domain_type(guest.arch)),
            None,
            problems,
        )
    if host.facts is None:  # (a command that connected for less did not read them)
        await host.read_facts()
    facts = host.facts
    return HostChoices(
        host=host.name,
        readonly=host.readonly,
        cpus=facts.cpus if facts else 0,
        memory=facts.memory_total_kib * 1024 if facts else 0,
        caps=caps,
        domcaps=found,
        pools=pools,
        networks=networks,
        interfaces=interfaces,
        os_db=os_db,
        problems=problems,
    )


async def host_interfaces(host: Host) -> list[HostInterface]:
    """The host's network interfaces (not loopback): node devices of kind net, with
    their type (bridge, bond...) where libvirt's interface driver tells it."""
    conn = host.require_conn()
    devices, kinds = await asyncio.gather(
        list_devices(host, ["net"]),
        call_or_fail(host, "list the host's interfaces", _interface_kinds, conn),
    )
    found: dict[str, HostInterface] = {}
    for device in devices:
        if device.address and device.address != "lo":
            up = {"up": True, "down": False}.get(device.link_state)
            kind, _active = kinds.get(device.address, ("", None))
            found[device.address] = HostInterface(device.address, device.mac, kind, up)
    for name, (kind, active) in kinds.items():  # e.g. a bridge without a node device
        if name not in found and name != "lo":
            found[name] = HostInterface(name, "", kind, active)
    return sorted(found.values(), key=lambda i: (i.kind != "bridge", i.name))


def _interface_kinds(conn: libvirt.virConnect) -> dict[str, tuple[str, bool | None]]:
    """name -> (type, active) from libvirt's interface driver ({} without one)."""
    try:
        interfaces = conn.listAllInterfaces(0)
    except libvirt.libvirtError as exc:
        if unsupported(exc):
            return {}
        raise
    kinds: dict[str, tuple[str, bool | None]] = {}
    for interface in interfaces:
        try:
            root = etree.fromstring(interface.XMLDesc(0).encode())
            active = bool(interface.isActive())
        except libvirt.libvirtError:
            continue  # gone since the listing
        kinds[interface.name()] = (root.get("type", ""), active)
    return kinds
