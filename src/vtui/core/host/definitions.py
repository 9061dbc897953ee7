"""Every guest's XML definition on one host, to tell which guest uses a network, a
host device or a volume.

One listing call plus one XMLDesc per guest (libvirt has no bulk call for it). A
running guest is read as it runs now (its live XML: what is really attached); a
shut-off one as it will start. Runs in the host's worker threads.
"""

from __future__ import annotations

from dataclasses import dataclass

import libvirt
from lxml import etree

from vtui.core.host.fanout import fan_out


@dataclass(frozen=True, slots=True)
class GuestDefinition:
    name: str
    uuid: str
    active: bool
    xml: etree._Element


def read_definitions(conn: libvirt.virConnect, width: int = 1) -> list[GuestDefinition]:
    """Every guest's definition; `width` reads at a time (see fanout.py)."""
    active = {d.UUIDString() for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)}

    def read(dom: libvirt.virDomain) -> GuestDefinition | None:
        try:
            text = dom.XMLDesc(0)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return None  # undefined since the listing: it uses nothing any more
            raise
        uuid = dom.UUIDString()
        return GuestDefinition(dom.name(), uuid, uuid in active, etree.fromstring(text.encode()))

    found = fan_out(read, conn.listAllDomains(0), width)
    return [d for d in found if d is not None]
