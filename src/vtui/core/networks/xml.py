"""A virtual network's XML: read what libvirt returns, build what we define.

Built from elements only: names, bridges and devices come from users.
"""

from __future__ import annotations

import ipaddress

from lxml import etree

from vtui.core.networks.model import ISOLATED, DhcpRange, NetworkAddress


def parse_network(root: etree._Element) -> dict:
    """The fields of VirtualNetwork that the XML holds (name, uuid, bridge, forward
    mode and device, addresses, domain)."""
    forward = root.find("forward")
    if forward is None:
        mode, dev = ISOLATED, ""
    else:
        mode = forward.get("mode") or "nat"  # libvirt's default when mode is left out
        dev = forward.get("dev", "")
        if not dev:  # macvtap modes name their devices in <interface> elements
            first = forward.find("interface")
            dev = first.get("dev", "") if first is not None else ""
    bridge = root.find("bridge")
    domain = root.find("domain")
    return {
        "name": root.findtext("name", ""),
        "uuid": root.findtext("uuid", ""),
        "bridge": bridge.get("name", "") if bridge is not None else "",
        "forward_mode": mode,
        "forward_dev": dev,
        "addresses": [a for a in (_address(ip) for ip in root.iterfind("ip")) if a],
        "domain": domain.get("name", "") if domain is not None else "",
    }


def _address(ip: etree._Element) -> NetworkAddress | None:
    address = ip.get("address")
    if not address:
        return None  # e.g. an <ip> with only tftp settings is not ours to show
    try:
        parsed = ipaddress.ip_address(address)
        if ip.get("prefix"):
            prefix = int(ip.get("prefix", "0"))
        elif ip.get("netmask"):
            prefix = ipaddress.ip_network(f"0.0.0.0/{ip.get('netmask')}").prefixlen
        else:
            prefix = 24 if parsed.version == 4 else 64  # libvirt's own defaults
    except ValueError:
        return None
    ranges = tuple(
        DhcpRange(r.get("start", ""), r.get("end", "")) for r in ip.iterfind("dhcp/range")
    )
    family = "ipv6" if parsed.version == 6 else "ipv4"
    return NetworkAddress(family, str(parsed), prefix, ranges)


def build_network(
    *,
    name: str,
    mode: str,
    addresses: list[NetworkAddress],
    bridge: str = "",
    forward_dev: str = "",
) -> str:
    """The XML to define a nat/route/open/isolated network. Without a bridge name
    libvirt picks a free one (virbrN) when it defines the network."""
    E = etree.SubElement
    root = etree.Element("network")
    E(root, "name").text = name
    if mode != ISOLATED:
        forward = E(root, "forward", mode=mode)
        if forward_dev:
            forward.set("dev", forward_dev)
    if bridge:
        E(root, "bridge", name=bridge, stp="on", delay="0")
    for address in addresses:
        ip = E(root, "ip", address=address.address, prefix=str(address.prefix))
        if address.family == "ipv6":
            ip.set("family", "ipv6")
        if address.dhcp_ranges:
            dhcp = E(ip, "dhcp")
            for r in address.dhcp_ranges:
                E(dhcp, "range", start=r.start, end=r.end)
    return etree.tostring(root, pretty_print=True, encoding="unicode")
