"""Checking the answers for a new network before anything changes on the host.

`plan_network(answers, others)` turns what the user typed into the exact network to
define, or raises InvalidAnswer naming the field and what is wrong with it: a bad
name, a malformed subnet, one overlapping another network of the host, a DHCP range
outside the subnet... Pure: no libvirt, so the UI can check a form as it is typed.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from vtui.core.errors import VtuiError
from vtui.core.networks.model import (
    CREATE_MODES,
    DhcpRange,
    NetworkAddress,
    VirtualNetwork,
)
from vtui.core.networks.xml import build_network

FORBIDDEN_IN_NAMES = "/<>&'\""
IFNAMSIZ = 16  # Linux interface names: at most 15 bytes
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class InvalidAnswer(VtuiError):
    """An answer of the create form is wrong; `field` names it (e.g. "ipv4")."""

    def __init__(self, field: str, message: str, *, host: str | None = None):
        super().__init__(message, host=host)
        self.field = field


@dataclass(slots=True)
class NetworkAnswers:
    """What the user asks for. Subnets are CIDR: 10.78.5.0/24 (the host takes the
    first address) or 10.78.5.1/24 (the host takes that one)."""

    name: str
    mode: str = "nat"  # nat, route, isolated or open
    ipv4: str = ""  # "" for none (route/isolated/open may do without)
    dhcp: bool = True  # serve DHCP on the IPv4 subnet
    dhcp_start: str = ""  # "" for both: the upper half of the subnet
    dhcp_end: str = ""
    ipv6: str = ""  # optional, e.g. fd00:78:5::/64
    bridge: str = ""  # "" lets libvirt pick a free virbrN
    forward_dev: str = ""  # nat/route: leave by this host interface only
    start: bool = True
    autostart: bool = True


@dataclass(frozen=True, slots=True)
class NetworkPlan:
    answers: NetworkAnswers
    addresses: tuple[NetworkAddress, ...]
    xml: str


def plan_network(answers: NetworkAnswers, others: Sequence[VirtualNetwork]) -> NetworkPlan:
    """The network to define, checked against the host's other networks."""
    name = check_name(answers.name, others)
    mode = answers.mode.strip().lower()
    if mode not in CREATE_MODES:
        raise InvalidAnswer(
            "mode", f"unknown network mode {answers.mode!r} (one of: {', '.join(CREATE_MODES)})"
        )
    addresses: list[NetworkAddress] = []
    if answers.ipv4.strip():
        addresses.append(_ipv4(answers))
    elif answers.dhcp_start.strip() or answers.dhcp_end.strip():
        raise InvalidAnswer("ipv4", "a DHCP range needs an IPv4 subnet")
    if answers.ipv6.strip():
        addresses.append(_ipv6(answers.ipv6))
    if mode == "nat" and not any(a.family == "ipv4" for a in addresses):
        raise InvalidAnswer("ipv4", "a NAT network needs an IPv4 subnet (e.g. 192.168.200.0/24)")
    if mode == "route" and not addresses:
        raise InvalidAnswer("ipv4", "a routed network needs an IPv4 or IPv6 subnet")
    _check_overlaps(addresses, others)
    bridge = _interface_name("bridge", answers.bridge, "bridge")
    if bridge:
        used = next((n.name for n in others if n.bridge == bridge), None)
        if used:
            raise InvalidAnswer("bridge", f"bridge {bridge} is already used by network {used!r}")
    forward_dev = _interface_name("forward_dev", answers.forward_dev, "forward device")
    if forward_dev and mode not in ("nat", "route"):
        raise InvalidAnswer(
            "forward_dev", f"a forward device only applies to nat and route networks, not {mode}"
        )
    xml = build_network(
        name=name, mode=mode, addresses=addresses, bridge=bridge, forward_dev=forward_dev
    )
    return NetworkPlan(answers, tuple(addresses), xml)


def check_name(text: str, others: Sequence[VirtualNetwork] = ()) -> str:
    name = text.strip()
    if not name:
        raise InvalidAnswer("name", "the network needs a name")
    if name != text:
        raise InvalidAnswer("name", f"network name {text!r} starts or ends with a space")
    bad = sorted({c for c in name if c in FORBIDDEN_IN_NAMES or not c.isprintable()})
    if bad:
        shown = " ".join(repr(c) for c in bad)
        raise InvalidAnswer("name", f"network name {name!r} must not contain {shown}")
    if name in (".", ".."):
        raise InvalidAnswer("name", f"{name!r} is not a usable network name")
    if any(n.name == name for n in others):
        raise InvalidAnswer("name", f"this host already has a network called {name!r}")
    return name


def _interface_name(field: str, text: str, label: str) -> str:
    name = text.strip()
    if not name:
        return ""
    if len(name.encode()) >= IFNAMSIZ:
        raise InvalidAnswer(field, f"{label} name {name!r} is longer than {IFNAMSIZ - 1} bytes")
    if name in (".", "..") or any(c in "/:" or c.isspace() or not c.isprintable() for c in name):
        raise InvalidAnswer(field, f"{name!r} is not a valid {label} name")
    return name


def _subnet(
    field: str, text: str, version: int
) -> tuple[ipaddress.IPv4Interface | ipaddress.IPv6Interface, IPNetwork]:
    label = "IPv4" if version == 4 else "IPv6"
    cidr = text.strip()
    if "/" not in cidr:
        example = "/24" if version == 4 else "/64"
        raise InvalidAnswer(
            field, f"{label} subnet {cidr!r} needs a prefix length (e.g. {example})"
        )
    try:
        iface = ipaddress.ip_interface(cidr)
    except ValueError:
        raise InvalidAnswer(field, f"{cidr!r} is not an {label} subnet in CIDR form") from None
    if iface.version != version:
        raise InvalidAnswer(field, f"{cidr!r} is not an {label} subnet")
    network = iface.network
    if (
        network.is_loopback
        or network.is_multicast
        or network.is_link_local
        or network.is_unspecified
    ):
        raise InvalidAnswer(field, f"{cidr} is a reserved range, not usable for a network")
    return iface, network


def _host_address(
    field: str, iface, network: IPNetwork, smallest: int
) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The host's address on the subnet: the one given, or the first usable one."""
    if network.prefixlen > smallest:
        raise InvalidAnswer(field, f"subnet {network} is too small (at most /{smallest})")
    if iface.ip == network.network_address:
        return network.network_address + 1
    if network.version == 4 and iface.ip == network.broadcast_address:
        raise InvalidAnswer(field, f"{iface.ip} is the broadcast address of {network}")
    return iface.ip


def _ipv4(answers: NetworkAnswers) -> NetworkAddress:
    iface, network = _subnet("ipv4", answers.ipv4, 4)
    host = _host_address("ipv4", iface, network, 30)
    assert isinstance(network, ipaddress.IPv4Network) and isinstance(host, ipaddress.IPv4Address)
    ranges: tuple[DhcpRange, ...] = ()
    start, end = answers.dhcp_start.strip(), answers.dhcp_end.strip()
    if answers.dhcp:
        ranges = (_dhcp_range(network, host, start, end),)
    elif start or end:
        raise InvalidAnswer("dhcp_start", "a DHCP range was given but DHCP is off")
    return NetworkAddress("ipv4", str(host), network.prefixlen, ranges)


def default_dhcp_range(network: ipaddress.IPv4Network, host: ipaddress.IPv4Address) -> DhcpRange:
    """The upper half of the subnet's usable addresses (the lower half when the host's
    own address is up there)."""
    first, last = network.network_address + 1, network.broadcast_address - 1
    middle = network.network_address + network.num_addresses // 2
    if host >= middle:
        return DhcpRange(str(first), str(middle - 1))
    return DhcpRange(str(max(middle, host + 1)), str(last))


def _dhcp_range(
    network: ipaddress.IPv4Network, host: ipaddress.IPv4Address, start: str, end: str
) -> DhcpRange:
    if not start and not end:
        return default_dhcp_range(network, host)
    if not start or not end:
        field = "dhcp_end" if start else "dhcp_start"
        raise InvalidAnswer(field, "a DHCP range needs both its first and its last address")
    bounds = []
    for field, text in (("dhcp_start", start), ("dhcp_end", end)):
        try:
            address = ipaddress.IPv4Address(text)
        except ValueError:
            raise InvalidAnswer(field, f"{text!r} is not an IPv4 address") from None
        if address not in network or address in (
            network.network_address,
            network.broadcast_address,
        ):
            raise InvalidAnswer(
                field, f"DHCP address {address} is outside subnet {network}'s usable addresses"
            )
        bounds.append(address)
    low, high = bounds
    if low > high:
        raise InvalidAnswer("dhcp_end", f"the DHCP range ends ({high}) before it starts ({low})")
    if low <= host <= high:
        raise InvalidAnswer(
            "dhcp_start", f"the DHCP range {low}-{high} includes the host's own address {host}"
        )
    return DhcpRange(str(low), str(high))


def _ipv6(text: str) -> NetworkAddress:
    iface, network = _subnet("ipv6", text, 6)
    host = _host_address("ipv6", iface, network, 126)
    return NetworkAddress("ipv6", str(host), network.prefixlen)


def _network_of(address: NetworkAddress) -> IPNetwork:
    return ipaddress.ip_interface(address.cidr).network


def _check_overlaps(addresses: list[NetworkAddress], others: Sequence[VirtualNetwork]) -> None:
    for mine in addresses:
        subnet = _network_of(mine)
        for other in others:
            for theirs in other.addresses:
                existing = _network_of(theirs)
                if existing.version == subnet.version and existing.overlaps(subnet):
                    raise InvalidAnswer(
                        mine.family,
                        f"subnet {subnet} overlaps {existing} of network {other.name!r}",
                    )
