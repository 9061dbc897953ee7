"""How snapshot, clone and rename calls reach one guest: looked up by UUID in the host's
worker threads, refused on a read-only connection, libvirt's failure as one line."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import libvirt

from vtui.core.errors import VtuiError, libvirt_message
from vtui.core.host import Host
from vtui.core.model import Guest

R = TypeVar("R")


def lookup_domain(conn: libvirt.virConnect, guest: Guest) -> libvirt.virDomain:
    try:
        return conn.lookupByUUIDString(guest.uuid)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            raise VtuiError(
                "no longer exists on this host", host=guest.host, guest=guest.name
            ) from None
        raise


def writable_conn(host: Host, guest: Guest, verb: str) -> libvirt.virConnect:
    """The connection to change the guest through, or why not."""
    if host.readonly:
        raise VtuiError(
            f"cannot {verb} {guest.name}: the connection to {host.name} is read-only",
            host=host.name,
        )
    return host.require_conn()


async def on_guest(host: Host, guest: Guest, what: str, work: Callable[[], R]) -> R:
    """work() in the host's threads; a libvirt failure becomes 'cannot WHAT: reason'."""
    try:
        return await host.call(work)
    except libvirt.libvirtError as exc:
        raise VtuiError(
            f"cannot {what}: {libvirt_message(exc)}", host=host.name, guest=guest.name
        ) from exc


def driver_and_version(conn: libvirt.virConnect) -> tuple[str, int]:
    """('QEMU', 9000000): what decides which snapshot operations the host can do."""
    return conn.getType().upper(), conn.getLibVersion()


def version_text(number: int) -> str:
    return f"{number // 1_000_000}.{number // 1000 % 1000}.{number % 1000}"
