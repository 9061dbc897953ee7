"""A running guest's IP addresses and what its guest agent says about it.

Addresses come from the best source that answers: the QEMU guest agent (every
interface, as the guest sees it), else the DHCP leases of libvirt's networks, else
the host's ARP table; the answer says which. Agent calls can take seconds on a guest
whose agent does not answer, so the details screen asks for these after its first
paint.
"""

from __future__ import annotations

import libvirt
from lxml import etree

from vtui.core.errors import VtuiError, libvirt_message
from vtui.core.guests.config.model import Addresses, AgentInfo, GuestAddress, GuestFilesystem
from vtui.core.guests.config.read import lookup
from vtui.core.host import Host

SOURCES = (
    (libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT, "guest agent"),
    (libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE, "DHCP leases"),
    (libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP, "ARP table"),
)
FAMILIES = {libvirt.VIR_IP_ADDR_TYPE_IPV4: "ipv4", libvirt.VIR_IP_ADDR_TYPE_IPV6: "ipv6"}


def _test_driver_would_crash(conn: libvirt.virConnect, dom: libvirt.virDomain) -> bool:
    """libvirt's test driver (9.x) crashes the whole process when asked for the
    addresses of a guest on a network without an IPv4 address: ask it only when
    every network the guest is on has one."""
    if conn.getType().lower() != "test":
        return False
    root = etree.fromstring(dom.XMLDesc(0).encode())
    for nic in root.iterfind("devices/interface"):
        source = nic.find("source")
        if nic.get("type") != "network" or source is None:
            return True
        try:
            net = etree.fromstring(
                conn.networkLookupByName(source.get("network", "")).XMLDesc(0).encode()
            )
        except libvirt.libvirtError:
            return True
        if not any(ip.get("family", "ipv4") == "ipv4" for ip in net.iterfind("ip")):
            return True
    return False


def _parse(answer: dict) -> tuple[GuestAddress, ...]:
    found = []
    for name, iface in sorted((answer or {}).items()):
        for addr in iface.get("addrs") or []:
            if not addr.get("addr"):
                continue
            prefix = addr.get("prefix")
            text = f"{addr['addr']}/{prefix}" if prefix is not None else addr["addr"]
            family = FAMILIES.get(addr.get("type"), "")
            found.append(GuestAddress(name, iface.get("hwaddr") or "", text, family))
    return tuple(found)


def _addresses_blocking(conn: libvirt.virConnect, uuid: str, host: str) -> Addresses:
    dom = lookup(conn, uuid, host)
    if not dom.isActive():
        return Addresses("", note="not running")
    if _test_driver_would_crash(conn, dom):
        return Addresses("", note="this host's driver cannot tell for this guest")
    reasons = []
    for source, label in SOURCES:
        try:
            found = _parse(dom.interfaceAddresses(source, 0))
        except libvirt.libvirtError as exc:
            reasons.append(f"{label}: {libvirt_message(exc)}")
            continue
        if found:
            return Addresses(label, found)
        reasons.append(f"{label}: none")
    return Addresses("", note="; ".join(reasons))


async def read_addresses(host: Host, uuid: str) -> Addresses:
    conn = host.require_conn()
    try:
        return await host.call(_addresses_blocking, conn, uuid, host.name)
    except libvirt.libvirtError as exc:
        raise VtuiError(
            f"cannot read the guest's addresses: {libvirt_message(exc)}", host=host.name
        ) from exc


# -- the guest agent -------------------------------------------------------------------
def _int(value) -> int | None:
    return value if isinstance(value, int) else None


def parse_guest_info(info: dict) -> AgentInfo:
    """virDomainGetGuestInfo's typed parameters (os.*, hostname, fs.N.*, user.N.*)."""
    filesystems = []
    for i in range(info.get("fs.count", 0) or 0):
        prefix = f"fs.{i}."
        disks = [
            str(info.get(f"{prefix}disk.{d}.alias") or info.get(f"{prefix}disk.{d}.serial") or "")
            for d in range(info.get(f"{prefix}disk.count", 0) or 0)
        ]
        filesystems.append(
            GuestFilesystem(
                mountpoint=str(info.get(prefix + "mountpoint", "")),
                fstype=str(info.get(prefix + "fstype", "")),
                total_bytes=_int(info.get(prefix + "total-bytes")),
                used_bytes=_int(info.get(prefix + "used-bytes")),
                devices=tuple(d for d in disks if d),
            )
        )
    users = [str(info.get(f"user.{i}.name", "")) for i in range(info.get("user.count", 0) or 0)]
    return AgentInfo(
        os_name=str(info.get("os.pretty-name") or info.get("os.name") or ""),
        os_version=str(info.get("os.version") or ""),
        kernel=str(info.get("os.kernel-release") or ""),
        hostname=str(info.get("hostname") or ""),
        timezone=str(info.get("timezone.name") or ""),
        filesystems=tuple(filesystems),
        users=tuple(u for u in users if u),
    )


def _agent_blocking(conn: libvirt.virConnect, uuid: str, host: str) -> tuple[AgentInfo | None, str]:
    dom = lookup(conn, uuid, host)
    if not dom.isActive():
        return None, "not running"
    try:
        return parse_guest_info(dom.guestInfo(0, 0)), ""
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_SUPPORT:
            return None, libvirt_message(exc)
    # A driver without guestInfo (libvirt's test driver): what its single calls give.
    hostname, filesystems = "", []
    try:
        hostname = dom.hostname(0)
    except libvirt.libvirtError:
        pass
    try:
        for mountpoint, name, fstype, disks in dom.fsInfo(0):
            filesystems.append(GuestFilesystem(mountpoint, fstype, devices=tuple(disks or [name])))
    except libvirt.libvirtError:
        pass
    if not hostname and not filesystems:
        return None, "no guest agent answers"
    return AgentInfo(hostname=hostname, filesystems=tuple(filesystems)), ""


async def read_agent_info(host: Host, uuid: str) -> tuple[AgentInfo | None, str]:
    """(what the guest agent says, or None and why not)."""
    conn = host.require_conn()
    try:
        return await host.call(_agent_blocking, conn, uuid, host.name)
    except libvirt.libvirtError as exc:
        return None, libvirt_message(exc)
