"""Lifecycle actions on one guest. Each looks the guest up by UUID in a worker
thread, does one thing, and turns any libvirt failure into a one-line VtuiError.

The resulting state change reaches views through lifecycle events, not here.
"""

from __future__ import annotations

from dataclasses import dataclass

import libvirt
from lxml import etree

from vtui.core.errors import VtuiError, libvirt_message
from vtui.core.host import Host
from vtui.core.model import Guest
from vtui.core.states import BLOCKED, PAUSED, RUNNING


@dataclass(frozen=True, slots=True)
class Action:
    id: str
    label: str  # verb for menus and messages
    destructive: bool  # asks for confirmation
    needs: str  # "active", "inactive", "running", "paused", "any"


ACTIONS = {
    a.id: a
    for a in (
        Action("start", "start", False, "inactive"),
        Action("shutdown", "shut down", False, "active"),
        Action("reboot", "reboot", False, "active"),
        Action("reset", "reset", True, "active"),
        Action("destroy", "force off", True, "active"),
        Action("suspend", "pause", False, "running"),
        Action("resume", "resume", False, "paused"),
        Action("managedsave", "save (managed)", False, "active"),
        Action("autostart_on", "enable autostart", False, "persistent"),
        Action("autostart_off", "disable autostart", False, "persistent"),
        Action("undefine", "delete", True, "inactive"),
    )
}


def refusal(action: Action, guest: Guest, readonly: bool) -> str | None:
    """Why this action cannot apply to this guest now, or None if it can. The reason
    says what state the guest is in and, where there is one, what to do instead."""
    why = _why_not(action, guest, readonly)
    return None if why is None else f"cannot {action.label} {guest.name}: {why}"


def _why_not(action: Action, guest: Guest, readonly: bool) -> str | None:
    if readonly:
        return f"the connection to {guest.host} is read-only"
    state = guest.state
    if action.needs == "inactive" and guest.active:
        if state == PAUSED:
            return "it is paused (resume it, or force it off first)"
        return f"it is {state} (shut it down first)"
    if action.needs in ("active", "running") and not guest.active:
        return f"it is not running ({state}: start it first)"
    if action.needs == "running" and state not in (RUNNING, BLOCKED):
        return "it is already paused" if state == PAUSED else f"it is {state}"
    if action.needs == "paused" and state != PAUSED:
        return f"it is not paused ({state})"
    if action.needs == "persistent":
        if not guest.persistent:
            return "it is transient (no saved definition)"
        if action.id == "autostart_on" and guest.autostart:
            return "autostart is already on"
        if action.id == "autostart_off" and not guest.autostart:
            return "autostart is already off"
    return None


def _lookup(conn: libvirt.virConnect, guest: Guest) -> libvirt.virDomain:
    try:
        return conn.lookupByUUIDString(guest.uuid)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            raise VtuiError(
                "no longer exists on this host", host=guest.host, guest=guest.name
            ) from None
        raise


_MANAGED_SAVE = libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
_SNAPSHOTS = libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
# Everything a delete removes besides the definition; drivers that reject some of these
# flags (the test driver knows only the first two) get the largest set they accept.
_UNDEFINE_FLAG_SETS = (
    _MANAGED_SAVE
    | _SNAPSHOTS
    | libvirt.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA
    | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM,
    _MANAGED_SAVE | _SNAPSHOTS | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM,
    _MANAGED_SAVE | _SNAPSHOTS,
    _MANAGED_SAVE,
)


def _undefine(dom: libvirt.virDomain) -> None:
    for flags in _UNDEFINE_FLAG_SETS:
        try:
            dom.undefineFlags(flags)
            return
        except libvirt.libvirtError as exc:
            if exc.get_error_code() not in (
                libvirt.VIR_ERR_NO_SUPPORT,
                libvirt.VIR_ERR_INVALID_ARG,
            ):
                raise
    if dom.hasManagedSaveImage(0):  # a driver without undefine flags at all
        dom.managedSaveRemove(0)
    dom.undefine()


def _blocking(action_id: str, dom: libvirt.virDomain) -> None:
    if action_id == "start":
        dom.create()
    elif action_id == "shutdown":
        dom.shutdown()
    elif action_id == "reboot":
        dom.reboot(0)
    elif action_id == "reset":
        dom.reset(0)
    elif action_id == "destroy":
        dom.destroy()
    elif action_id == "suspend":
        dom.suspend()
    elif action_id == "resume":
        dom.resume()
    elif action_id == "managedsave":
        dom.managedSave(0)
    elif action_id in ("autostart_on", "autostart_off"):
        dom.setAutostart(1 if action_id == "autostart_on" else 0)
    else:
        raise ValueError(action_id)


def _allowed(action: Action, host: Host, guest: Guest) -> libvirt.virConnect:
    """The connection to act through, or a VtuiError saying why not."""
    why = refusal(action, guest, host.readonly)
    if why:
        raise VtuiError(why, host=host.name)
    return host.require_conn()


async def _on_guest(host: Host, guest: Guest, what: str, work):
    """Run work() in the host's threads; a libvirt failure becomes one clear line."""
    try:
        return await host.call(work)
    except libvirt.libvirtError as exc:
        raise VtuiError(
            f"cannot {what}: {libvirt_message(exc)}", host=host.name, guest=guest.name
        ) from exc


async def run_action(host: Host, guest: Guest, action_id: str) -> None:
    """Do `action_id` to `guest`. Raises VtuiError naming host, guest and reason."""
    action = ACTIONS[action_id]
    conn = _allowed(action, host, guest)
    await _on_guest(host, guest, action.label, lambda: _blocking(action_id, _lookup(conn, guest)))
    if action_id.startswith("autostart"):
        guest.autostart = action_id == "autostart_on"  # no event exists for autostart


# -- delete -----------------------------------------------------------------------------
def _disk_paths(xml: str) -> list[str]:
    root = etree.fromstring(xml.encode())
    paths = []
    for disk in root.iterfind("devices/disk"):
        if disk.get("device", "disk") != "disk":
            continue  # never offer to delete CD-ROM images or floppies
        source = disk.find("source")
        if source is None:
            continue
        path = source.get("file") or source.get("dev")
        if path:
            paths.append(path)
    return paths


async def storage_of(host: Host, guest: Guest) -> list[str]:
    """Paths of the guest's disks that are libvirt storage volumes (deletable)."""
    conn = host.require_conn()

    def work():
        dom = _lookup(conn, guest)
        found = []
        for path in _disk_paths(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)):
            try:
                conn.storageVolLookupByPath(path)
            except libvirt.libvirtError:
                continue
            found.append(path)
        return found

    return await _on_guest(host, guest, "list storage", work)


async def delete_guest(host: Host, guest: Guest, volumes: list[str] | None = None) -> list[str]:
    """Undefine a shut-off guest, then delete the given volumes. The definition goes
    first so a guest is never left defined with missing disks. Returns volumes that
    could not be deleted (as messages)."""
    conn = _allowed(ACTIONS["undefine"], host, guest)

    def work():
        dom = _lookup(conn, guest)
        if dom.isActive():
            raise VtuiError(
                "is running now; shut it down before deleting", host=host.name, guest=guest.name
            )
        _undefine(dom)
        failures = []
        for path in volumes or []:
            try:
                conn.storageVolLookupByPath(path).delete(0)
            except libvirt.libvirtError as exc:
                failures.append(f"{path}: {libvirt_message(exc)}")
        return failures

    return await _on_guest(host, guest, "delete", work)
