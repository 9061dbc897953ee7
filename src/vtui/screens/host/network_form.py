"""The form for a new virtual network: mode, name, subnets, DHCP range. Every keystroke
runs the core's plan_network against the host's other networks, so a malformed or
overlapping subnet is named (with its field) before anything is sent to libvirt."""

from __future__ import annotations

from vtui.core.host import Host
from vtui.core.networks import (
    InvalidAnswer,
    NetworkAnswers,
    VirtualNetwork,
    create_network,
    plan_network,
)
from vtui.screens.host.form import FormField, FormScreen, Problem, Values

MODES = (
    ("nat", "NAT: guests reach out through the host's address"),
    ("route", "routed: guests' addresses are routed as they are"),
    ("isolated", "isolated: guests and the host only"),
    ("open", "open: like routed, with no firewall rules from libvirt"),
)
FIELDS = (
    FormField("name", "Name", placeholder="e.g. backend", hint="no / < > & ' \""),
    FormField("mode", "Mode", "nat", choices=MODES),
    FormField(
        "ipv4",
        "IPv4 subnet",
        placeholder="e.g. 192.168.150.0/24",
        hint="CIDR; the host takes the first address (or the one you write, e.g. .254/24)",
    ),
    FormField("dhcp", "serve DHCP on the IPv4 subnet", True),
    FormField("dhcp_start", "DHCP from", placeholder="the upper half of the subnet"),
    FormField("dhcp_end", "DHCP to", placeholder="the upper half of the subnet"),
    FormField("ipv6", "IPv6 subnet", placeholder="optional, e.g. fd00:150::/64"),
    FormField("bridge", "Bridge", placeholder="libvirt picks virbrN", hint="at most 15 bytes"),
    FormField(
        "forward_dev",
        "Forward device",
        placeholder="any interface",
        hint="nat and route only: traffic leaves by this host interface",
    ),
    FormField("start", "start it now", True),
    FormField("autostart", "start it when the host boots", True),
)


def answers_of(values: Values) -> NetworkAnswers:
    return NetworkAnswers(
        name=str(values["name"]),
        mode=str(values["mode"]),
        ipv4=str(values["ipv4"]),
        dhcp=bool(values["dhcp"]),
        dhcp_start=str(values["dhcp_start"]),
        dhcp_end=str(values["dhcp_end"]),
        ipv6=str(values["ipv6"]),
        bridge=str(values["bridge"]),
        forward_dev=str(values["forward_dev"]),
        start=bool(values["start"]),
        autostart=bool(values["autostart"]),
    )


def network_form(host: Host, others: list[VirtualNetwork]) -> FormScreen:
    def check(values: Values) -> Problem | None:
        try:
            plan_network(answers_of(values), others)
        except InvalidAnswer as exc:
            return exc.message, exc.field
        return None

    async def submit(values: Values) -> VirtualNetwork:
        return await create_network(host, answers_of(values))

    return FormScreen(f"New virtual network on {host.name}", FIELDS, submit, check=check)
