"""Reading a host's virtual networks: definitions, state, DHCP leases, and which
guests are attached.

A listing costs four listing calls (all, and the active, persistent and autostart
ones: not three calls per network) plus one XML read per network, several at a time
over a remote link (core/host/fanout.py). The guests attached take one XML read per
guest, and leases one call per active network: a view can ask for those after its
first paint. A view can paint even earlier from the listing calls alone
(`list_network_names`: what `virsh net-list` shows), one round trip.
"""

from __future__ import annotations

import ipaddress

import libvirt
from lxml import etree

from vtui.core.errors import VtuiError
from vtui.core.host import Host
from vtui.core.host.definitions import GuestDefinition, read_definitions
from vtui.core.host.fanout import fan_out, width_for
from vtui.core.host.guard import call_or_fail, unsupported
from vtui.core.networks.model import AttachedGuest, DhcpLease, VirtualNetwork
from vtui.core.networks.xml import parse_network


async def list_networks(
    host: Host, *, guests: bool = True, leases: bool = False
) -> list[VirtualNetwork]:
    """Every network of the host (active and inactive), sorted by name; with the
    guests attached to each and, if asked, the DHCP leases of the active ones."""
    conn = host.require_conn()
    width = width_for(host)
    what = "list the virtual networks"
    return await call_or_fail(host, what, read_networks, conn, guests, leases, width)


async def list_network_names(host: Host) -> list[VirtualNetwork]:
    """Every network with only what the listing calls tell (name, state, autostart,
    persistence; `described` False), sorted by name: a view's first paint."""
    conn = host.require_conn()
    width = width_for(host)

    def work() -> list[VirtualNetwork]:
        every, active, persistent, autostart = listed(conn, width)
        return sorted(
            (
                VirtualNetwork(
                    name=net.name(),
                    uuid=(uuid := net.UUIDString()),
                    active=uuid in active,
                    persistent=uuid in persistent,
                    autostart=uuid in autostart,
                    bridge="",
                    forward_mode="",
                    described=False,
                )
                for net in every
            ),
            key=lambda n: n.name,
        )

    return await call_or_fail(host, "list the virtual networks", work)


async def get_network(
    host: Host, name: str, *, guests: bool = True, leases: bool = True
) -> VirtualNetwork:
    """One network, read fresh, with its guests and leases."""
    for network in await list_networks(host, guests=guests, leases=leases):
        if network.name == name:
            return network
    raise no_such_network(host, name)


async def network_leases(host: Host, name: str) -> list[DhcpLease] | None:
    """The DHCP leases the network's dnsmasq handed out ([] when it is inactive, None
    when the host's driver cannot tell)."""
    conn = host.require_conn()

    def work() -> list[DhcpLease] | None:
        net = lookup(conn, host, name)
        return read_leases(net) if net.isActive() else []

    return await call_or_fail(host, f"read the DHCP leases of network {name}", work)


async def network_users(host: Host, name: str) -> list[AttachedGuest]:
    """The guests attached to network `name`, running or not: what deleting or
    stopping it cuts off (the UI's confirmation names them)."""
    return (await get_network(host, name, leases=False)).guests or []


def no_such_network(host: Host, name: str) -> VtuiError:
    return VtuiError(f"no network called {name!r} on this host", host=host.name)


# -- worker threads ----------------------------------------------------------------------
def lookup(conn: libvirt.virConnect, host: Host, name: str) -> libvirt.virNetwork:
    try:
        return conn.networkLookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_NETWORK:
            raise no_such_network(host, name) from None
        raise


def listed(
    conn: libvirt.virConnect, width: int
) -> tuple[list[libvirt.virNetwork], set[str], set[str], set[str]]:
    """Every network, and the UUIDs of the active, persistent and autostarting ones:
    four listing calls (their names and UUIDs come with them, no call each)."""
    flags = (
        0,
        libvirt.VIR_CONNECT_LIST_NETWORKS_ACTIVE,
        libvirt.VIR_CONNECT_LIST_NETWORKS_PERSISTENT,
        libvirt.VIR_CONNECT_LIST_NETWORKS_AUTOSTART,
    )
    every, *flagged = fan_out(conn.listAllNetworks, flags, width)
    active, persistent, autostart = ({n.UUIDString() for n in nets} for nets in flagged)
    return every, active, persistent, autostart


def read_networks(
    conn: libvirt.virConnect, guests: bool = True, leases: bool = False, width: int = 1
) -> list[VirtualNetwork]:
    """The networks, `width` XML reads at a time (see core/host/fanout.py)."""

    every, active, persistent, autostart = listed(conn, width)

    def read(net: libvirt.virNetwork) -> VirtualNetwork | None:
        try:
            root = etree.fromstring(net.XMLDesc(0).encode())
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_NETWORK:
                return None  # undefined since the listing
            raise
        uuid = net.UUIDString()
        fields = parse_network(root)
        fields["uuid"] = fields["uuid"] or uuid
        network = VirtualNetwork(
            active=uuid in active,
            persistent=uuid in persistent,
            autostart=uuid in autostart,
            **fields,
        )
        if leases:
            network.leases = read_leases(net) if network.active else []
        return network

    networks = [n for n in fan_out(read, every, width) if n is not None]
    if guests:
        attach_guests(networks, read_definitions(conn, width))
    return sorted(networks, key=lambda n: n.name)


def read_leases(net: libvirt.virNetwork) -> list[DhcpLease] | None:
    """The network's leases, or None when the driver cannot tell."""
    try:
        raw = net.DHCPLeases(None, 0)
    except libvirt.libvirtError as exc:
        if unsupported(exc):
            return None
        raise
    leases = []
    for lease in raw:
        expiry = lease.get("expirytime") or 0
        ip = lease.get("ipaddr") or ""
        leases.append(
            DhcpLease(
                mac=lease.get("mac") or "",
                ip=ip,
                prefix=int(lease.get("prefix") or 0),
                hostname=lease.get("hostname") or "",
                expires_at=float(expiry) if expiry > 0 else None,
                family="ipv6" if _is_ipv6(ip) else "ipv4",
                client_id=lease.get("clientid") or "",
            )
        )
    return sorted(leases, key=lambda x: (x.family, _ip_key(x.ip)))


def _is_ipv6(text: str) -> bool:
    return ":" in text


def _ip_key(text: str) -> tuple[int, int]:
    try:
        parsed = ipaddress.ip_address(text)
    except ValueError:
        return (0, 0)
    return (parsed.version, int(parsed))


def attach_guests(networks: list[VirtualNetwork], definitions: list[GuestDefinition]) -> None:
    """Each network's guests: interfaces of type network naming it, and interfaces
    plugged straight into its bridge."""
    by_name = {n.name: n for n in networks}
    by_bridge = {n.bridge: n for n in networks if n.bridge}
    found: dict[str, dict[str, AttachedGuest]] = {n.name: {} for n in networks}
    for guest in definitions:
        for iface in guest.xml.iterfind("devices/interface"):
            source = iface.find("source")
            if source is None:
                continue
            network = None
            if iface.get("type") == "network":
                network = by_name.get(source.get("network", ""))
            elif iface.get("type") == "bridge":
                network = by_bridge.get(source.get("bridge", ""))
            if network is None:
                continue
            mac = iface.find("mac")
            macs: tuple[str, ...] = (mac.get("address", ""),) if mac is not None else ()
            known = found[network.name].get(guest.uuid)
            if known is not None:
                macs = known.macs + macs
            found[network.name][guest.uuid] = AttachedGuest(
                guest.name, guest.uuid, guest.active, macs
            )
    for network in networks:
        network.guests = sorted(found[network.name].values(), key=lambda g: g.name)
