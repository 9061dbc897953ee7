"""MAC addresses for new interfaces (creating a guest, adding a NIC): checked when
given, generated unique on the host otherwise (QEMU's 52:54:00 prefix, like
virt-install)."""

from __future__ import annotations

import random
import re
from collections.abc import Collection

import libvirt

from vtui.core.host import Host
from vtui.core.host.definitions import read_definitions
from vtui.core.host.fanout import width_for
from vtui.core.host.guard import call_or_fail

QEMU_PREFIX = (0x52, 0x54, 0x00)
_MAC = re.compile(r"^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$")


def mac_problem(text: str) -> str:
    """Why `text` cannot be an interface's MAC address ("" when it can)."""
    value = text.strip().lower()
    if not _MAC.match(value):
        return f"MAC address {text!r} is not six hex pairs like 52:54:00:12:34:56"
    first = int(value[:2], 16)
    if first & 1:
        return f"MAC address {text!r} is a multicast address (its first byte is odd)"
    if int(value.replace(":", "").replace("-", ""), 16) == 0:
        return "MAC address 00:00:00:00:00:00 is not usable"
    return ""


def normal_mac(text: str) -> str:
    """'52-54-00-AB-CD-EF' -> '52:54:00:ab:cd:ef' (check it with mac_problem first)."""
    return text.strip().lower().replace("-", ":")


def random_mac(taken: Collection[str] = (), rng: random.Random | None = None) -> str:
    """A 52:54:00:xx:xx:xx address no interface of the host has."""
    rng = rng or random.SystemRandom()
    while True:
        octets = (*QEMU_PREFIX, rng.randrange(256), rng.randrange(256), rng.randrange(256))
        mac = ":".join(f"{o:02x}" for o in octets)
        if mac not in taken:
            return mac


async def macs_in_use(host: Host) -> set[str]:
    """The MAC addresses of every guest interface defined on the host."""
    conn = host.require_conn()

    def read(conn: libvirt.virConnect, width: int) -> set[str]:
        found = set()
        for guest in read_definitions(conn, width):
            for mac in guest.xml.iterfind("devices/interface/mac"):
                found.add(normal_mac(mac.get("address", "")))
        return found

    return await call_or_fail(host, "read the guests' MAC addresses", read, conn, width_for(host))
