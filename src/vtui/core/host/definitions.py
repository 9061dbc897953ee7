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


@dataclass(frozen=True, slots=True)
class GuestDefinition:
    name: str
    uuid: str
    active: bool
    xml: etree._Element


def read_definitions(conn: libvirt.virConnect) -> list[GuestDefinition]:
    active = {d.UUIDString() for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)}
    found = []
    for dom in conn.listAllDomains(0):
        try:
            text = dom.XMLDesc(0)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                continue  # undefined since the listing: it uses nothing any more
            raise
        uuid = dom.UUIDString()
        root = etree.fromstring(text.encode())
        found.append(GuestDefinition(dom.name(), uuid, uuid in active, root))
    return found
