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
    next_start: etree._Element | None = None  # a running guest's saved definition, if asked

    @property
    def documents(self) -> list[etree._Element]:
        """The live definition, and the one the next start uses when read."""
        return [self.xml] if self.next_start is None else [self.xml, self.next_start]


def read_definitions(
    conn: libvirt.virConnect, width: int = 1, next_start: bool = False
) -> list[GuestDefinition]:
    """Every guest's definition; `width` reads at a time (see fanout.py). With
    `next_start`, a running persistent guest's saved definition too: storage a guest
    will use after a restart is in use as much as what it uses now."""
    active = {d.UUIDString() for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)}

    def read(dom: libvirt.virDomain) -> GuestDefinition | None:
        uuid = dom.UUIDString()
        try:
            text = dom.XMLDesc(0)
            saved = None
            if next_start and uuid in active and dom.isPersistent():
                saved = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return None  # undefined since the listing: it uses nothing any more
            raise
        return GuestDefinition(
            dom.name(),
            uuid,
            uuid in active,
            etree.fromstring(text.encode()),
            etree.fromstring(saved.encode()) if saved else None,
        )

    found = fan_out(read, conn.listAllDomains(0), width)
    return [d for d in found if d is not None]
