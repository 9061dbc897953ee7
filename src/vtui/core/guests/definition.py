"""Reading one guest's definition, the way every guest feature needs it: in the
host's threads, parsed there too (a secure XML's passwords never leave the thread),
and a libvirt failure worded as one line naming the host and the guest."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import libvirt

from vtui.core.errors import VtuiError, libvirt_message
from vtui.core.host import Host

T = TypeVar("T")


async def read_definition(host: Host, uuid: str, parse: Callable[[str], T], flags: int = 0) -> T:
    """parse(the guest's live XML, or its inactive one when it is shut off)."""
    conn = host.require_conn()

    def read() -> T:
        return parse(conn.lookupByUUIDString(uuid).XMLDesc(flags))

    try:
        return await host.call(read)
    except libvirt.libvirtError as exc:
        raise VtuiError(
            f"cannot read the definition: {libvirt_message(exc)}",
            host=host.name,
            guest=host.guest_name(uuid),
        ) from None
