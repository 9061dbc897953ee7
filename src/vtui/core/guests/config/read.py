"""Reading one guest's configuration: both definitions, its state, and the sizes of
its disks, in one trip to the host's worker threads."""

from __future__ import annotations

from dataclasses import replace

import libvirt

from vtui.core.errors import VtuiError, libvirt_message
from vtui.core.guests.config.model import BlockSize, GuestConfig
from vtui.core.guests.config.parse import parse_domain, parse_root
from vtui.core.guests.config.pending import pending_changes
from vtui.core.host import Host
from vtui.core.states import ACTIVE_STATES, reason_text, state_name


def lookup(conn: libvirt.virConnect, uuid: str, host: str) -> libvirt.virDomain:
    try:
        return conn.lookupByUUIDString(uuid)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            raise VtuiError(f"no guest with UUID {uuid} any more", host=host) from None
        raise


def persistent_flags(readonly: bool) -> int:
    """The saved definition as `virsh edit` reads it: with its secrets (a VNC password),
    so that writing it back loses nothing. A read-only connection may not ask for them."""
    secure = 0 if readonly else libvirt.VIR_DOMAIN_XML_SECURE
    return libvirt.VIR_DOMAIN_XML_INACTIVE | secure


def _optional(call, *args):
    """A runtime number some drivers do not give (None then)."""
    try:
        return call(*args)
    except libvirt.libvirtError:
        return None


def read_blocking(
    conn: libvirt.virConnect, uuid: str, host: str, readonly: bool, uri: str = ""
) -> GuestConfig:
    dom = lookup(conn, uuid, host)
    state_code, reason_code = dom.state()
    state = state_name(state_code)
    active = state in ACTIVE_STATES
    persistent = bool(dom.isPersistent())
    live_xml = dom.XMLDesc(0) if active else ""
    persistent_xml = dom.XMLDesc(persistent_flags(readonly)) if persistent else ""
    live = parse_domain(parse_root(live_xml)) if live_xml else None
    saved = parse_domain(parse_root(persistent_xml)) if persistent_xml else None
    shown = live or saved
    if shown is None:
        raise VtuiError(f"{dom.name()} has neither a live nor a saved definition", host=host)
    sizes = {}
    for disk in shown.disks:
        if disk.source and disk.type in ("file", "block", "volume"):
            info = _optional(dom.blockInfo, disk.target)
            if info is not None:
                sizes[disk.target] = BlockSize(*info)
    info = _optional(dom.info) if active else None
    return GuestConfig(
        host=host,
        uuid=uuid,
        name=dom.name(),
        state=state,
        reason=reason_text(state, reason_code),
        active=active,
        persistent=persistent,
        autostart=bool(_optional(dom.autostart)) if persistent else False,
        live=live,
        persistent_view=saved,
        live_xml=live_xml,
        persistent_xml=persistent_xml,
        vcpus_live=_optional(dom.vcpusFlags, libvirt.VIR_DOMAIN_AFFECT_LIVE) if active else None,
        memory_live_kib=info[2] if info else None,
        block_sizes=sizes,
        pending=pending_changes(live, saved),
        uri=uri,
    )


async def read_config(host: Host, uuid: str) -> GuestConfig:
    """Everything the details screen shows of the guest with this UUID, read fresh."""
    conn = host.require_conn()
    try:
        config = await host.call(read_blocking, conn, uuid, host.name, host.readonly, host.uri)
    except libvirt.libvirtError as exc:
        raise VtuiError(
            f"cannot read the guest's configuration: {libvirt_message(exc)}", host=host.name
        ) from exc
    guest = host.guests.get(uuid)
    if guest is not None and guest.started_at is not None:
        config = replace(config, started_at=guest.started_at)
    return config
