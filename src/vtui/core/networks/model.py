"""Plain data about a host's virtual networks, for the UI and the batch commands."""

from __future__ import annotations

from dataclasses import dataclass, field

# Forward modes libvirt knows; "isolated" is ours for a network without <forward>.
ISOLATED = "isolated"
FORWARD_MODES = (
    "nat",
    "route",
    "open",
    ISOLATED,
    "bridge",
    "private",
    "vepa",
    "passthrough",
    "hostdev",
)
# the modes a network can be created with here (each has its own bridge and subnet)
CREATE_MODES = ("nat", "route", "isolated", "open")


@dataclass(frozen=True, slots=True)
class DhcpRange:
    start: str
    end: str


@dataclass(frozen=True, slots=True)
class NetworkAddress:
    """One <ip> of a network: the host's address on it and the subnet's prefix."""

    family: str  # "ipv4" or "ipv6"
    address: str  # the host's (gateway) address, e.g. 10.78.1.1
    prefix: int
    dhcp_ranges: tuple[DhcpRange, ...] = ()

    @property
    def cidr(self) -> str:
        """The address with its prefix, e.g. 10.78.1.1/24."""
        return f"{self.address}/{self.prefix}"


@dataclass(frozen=True, slots=True)
class DhcpLease:
    mac: str
    ip: str
    prefix: int
    hostname: str  # "" when the client sent none
    expires_at: float | None  # epoch seconds; None: never
    family: str  # "ipv4" or "ipv6"
    client_id: str = ""


@dataclass(frozen=True, slots=True)
class AttachedGuest:
    """A guest with an interface on a network (running or defined to use it)."""

    name: str
    uuid: str
    active: bool
    macs: tuple[str, ...] = ()


@dataclass(slots=True)
class VirtualNetwork:
    name: str
    uuid: str
    active: bool
    persistent: bool
    autostart: bool
    bridge: str  # "" when it has none (e.g. macvtap modes)
    forward_mode: str  # one of FORWARD_MODES
    forward_dev: str = ""  # the host interface traffic leaves by ("" any)
    addresses: list[NetworkAddress] = field(default_factory=list)
    domain: str = ""  # DNS domain served to the guests
    guests: list[AttachedGuest] | None = None  # None: not read
    # False: only what the listing calls tell (name, state, autostart, persistence);
    # bridge, forward mode and addresses wait for the network's XML
    described: bool = True
    leases: list[DhcpLease] | None = None  # None: not read (or the network is inactive)

    @property
    def state(self) -> str:
        return "active" if self.active else "inactive"

    @property
    def ipv4(self) -> list[NetworkAddress]:
        return [a for a in self.addresses if a.family == "ipv4"]

    @property
    def ipv6(self) -> list[NetworkAddress]:
        return [a for a in self.addresses if a.family == "ipv6"]
