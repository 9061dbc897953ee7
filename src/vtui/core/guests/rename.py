"""Rename a shut-off guest (virDomainRename). Its snapshots follow (libvirt keeps their
metadata under the guest's UUID); its NVRAM file keeps its path, which the definition
still names, and that is said. What libvirt refuses (a managed save image, a driver
without rename) is said before trying, with what to do instead."""

from __future__ import annotations

from dataclasses import dataclass

import libvirt

from vtui.core.errors import VtuiError
from vtui.core.guests.access import lookup_domain, on_guest
from vtui.core.guests.layout import parse_layout
from vtui.core.guests.lifecycle import Action, refusal
from vtui.core.host import Host
from vtui.core.model import Guest
from vtui.core.storage import BadInput, check_name

RENAME = Action("rename", "rename", False, "inactive")


@dataclass(frozen=True, slots=True)
class RenameResult:
    old_name: str
    new_name: str
    snapshots: int  # how many came along
    notes: tuple[str, ...]


def state_refusal(host: Host, guest: Guest) -> str | None:
    """Why this guest cannot be renamed now, whatever the new name."""
    why = refusal(RENAME, guest, host.readonly)
    if why:
        return why
    if not guest.persistent:
        return f"cannot rename {guest.name}: it is transient (no saved definition)"
    if guest.has_managed_save:
        return (
            f"cannot rename {guest.name}: it has a saved memory image (start it to resume, "
            "then shut it down; or discard the saved state)"
        )
    return None


def rename_refusal(host: Host, guest: Guest, new_name: str) -> str | None:
    """Why the rename cannot be done, from what is known without asking the host."""
    why = state_refusal(host, guest)
    if why:
        return why
    try:
        check_name(new_name, "guest")
    except BadInput as exc:
        return f"cannot rename {guest.name}: {exc.message}"
    if new_name == guest.name:
        return f"cannot rename {guest.name}: that is already its name"
    return None


def _snapshot_count(dom: libvirt.virDomain) -> int:
    try:
        return dom.snapshotNum(0)
    except libvirt.libvirtError:
        return 0  # a driver without snapshots


async def rename_guest(host: Host, guest: Guest, new_name: str) -> RenameResult:
    """Rename the shut-off `guest`; VtuiError with the reason if refused or failed."""
    why = rename_refusal(host, guest, new_name)
    if why:
        raise VtuiError(why, host=host.name)
    conn = host.require_conn()
    old_name = guest.name

    def work() -> RenameResult:
        try:
            conn.lookupByName(new_name)
        except libvirt.libvirtError:
            pass
        else:
            raise VtuiError(
                f"cannot rename {old_name}: {host.name} already has a guest called {new_name!r}",
                host=host.name,
            )
        dom = lookup_domain(conn, guest)
        if dom.isActive():
            raise VtuiError(f"cannot rename {old_name}: it is running now", host=host.name)
        if dom.hasManagedSaveImage(0):
            raise VtuiError(
                f"cannot rename {old_name}: it has a saved memory image", host=host.name
            )
        dom.rename(new_name, 0)
        renamed = conn.lookupByUUIDString(guest.uuid)
        definition = parse_layout(renamed.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
        notes = []
        if definition.nvram and old_name in definition.nvram:
            notes.append(
                f"its NVRAM file keeps its name ({definition.nvram}); a new guest called "
                f"{old_name} would be given the same file name"
            )
        return RenameResult(old_name, new_name, _snapshot_count(renamed), tuple(notes))

    result = await on_guest(host, guest, f"rename {old_name} to {new_name}", work)
    await host.refresh_guest(guest.uuid)  # a rename sends "undefined" + "defined" events
    return result
