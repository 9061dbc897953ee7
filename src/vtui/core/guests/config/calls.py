"""The libvirt calls changes are made of, each paired with the call that undoes it.
They run in the host's worker threads (see apply.py)."""

from __future__ import annotations

import time
from collections.abc import Callable

import libvirt
from lxml import etree

from vtui.core.errors import VtuiError
from vtui.core.guests.config.parse import parse_root
from vtui.core.guests.config.plan import AFFECT, FLAG_NAMES, Call, Context, Scope

DETACH_WAIT = 15.0  # seconds a running guest gets to release an unplugged device
VALIDATE = libvirt.VIR_DOMAIN_DEFINE_VALIDATE
Present = Callable[[etree._Element], bool]


def _wait_gone(ctx: Context, present: Present, what: str) -> None:
    """A live unplug asks the guest; libvirt may return before the guest let go."""
    end = time.monotonic() + DETACH_WAIT
    while present(parse_root(ctx.dom.XMLDesc(0))):
        if time.monotonic() > end:
            raise VtuiError(
                f"the guest has not released {what} within {DETACH_WAIT:.0f} s "
                "(the request stays pending in the guest)"
            )
        time.sleep(0.2)


def attach(scope: Scope, xml: str, what: str, present: Present) -> Call:
    flag = AFFECT[scope]

    def undo(ctx: Context) -> None:
        detach_now(ctx, scope, xml, what, present)

    return Call(
        f"virDomainAttachDeviceFlags({what}, {FLAG_NAMES[scope]})",
        run=lambda ctx: ctx.dom.attachDeviceFlags(xml, flag),
        undo=undo,
    )


def detach_now(ctx: Context, scope: Scope, xml: str, what: str, present: Present) -> None:
    ctx.dom.detachDeviceFlags(xml, AFFECT[scope])
    if scope is Scope.LIVE:
        _wait_gone(ctx, present, what)


def detach(scope: Scope, xml: str, what: str, present: Present) -> Call:
    """Unplug a device; `xml` is the element as that definition has it (so undoing
    puts it back where it was)."""
    flag = AFFECT[scope]
    return Call(
        f"virDomainDetachDeviceFlags({what}, {FLAG_NAMES[scope]})",
        run=lambda ctx: detach_now(ctx, scope, xml, what, present),
        undo=lambda ctx: ctx.dom.attachDeviceFlags(xml, flag),
    )


def update(scope: Scope, new_xml: str, old_xml: str, what: str) -> Call:
    flag = AFFECT[scope]
    return Call(
        f"virDomainUpdateDeviceFlags({what}, {FLAG_NAMES[scope]})",
        run=lambda ctx: ctx.dom.updateDeviceFlags(new_xml, flag),
        undo=lambda ctx: ctx.dom.updateDeviceFlags(old_xml, flag),
    )


def define(new_xml: str, old_xml: str) -> Call:
    """Replace the saved definition, validated against libvirt's schema."""
    return Call(
        "virDomainDefineXMLFlags(the new definition, VALIDATE)",
        run=lambda ctx: ctx.conn.defineXMLFlags(new_xml, VALIDATE),
        undo=lambda ctx: ctx.conn.defineXML(old_xml),
    )


def set_vcpus(scope: Scope, count: int, old: int, *, maximum: bool = False) -> Call:
    flags = AFFECT[scope] | (libvirt.VIR_DOMAIN_VCPU_MAXIMUM if maximum else 0)
    names = FLAG_NAMES[scope] + (" | VCPU_MAXIMUM" if maximum else "")
    return Call(
        f"virDomainSetVcpusFlags({count}, {names})",
        run=lambda ctx: ctx.dom.setVcpusFlags(count, flags),
        undo=lambda ctx: ctx.dom.setVcpusFlags(old, flags),
    )


def set_memory(scope: Scope, kib: int, old: int, *, maximum: bool = False) -> Call:
    flags = AFFECT[scope] | (libvirt.VIR_DOMAIN_MEM_MAXIMUM if maximum else 0)
    names = FLAG_NAMES[scope] + (" | MEM_MAXIMUM" if maximum else "")
    return Call(
        f"virDomainSetMemoryFlags({kib} KiB, {names})",
        run=lambda ctx: ctx.dom.setMemoryFlags(kib, flags),
        undo=lambda ctx: ctx.dom.setMemoryFlags(old, flags),
    )


METADATA = {
    "title": libvirt.VIR_DOMAIN_METADATA_TITLE,
    "description": libvirt.VIR_DOMAIN_METADATA_DESCRIPTION,
}


def set_metadata(scope: Scope, kind: str, text: str, old: str) -> Call:
    flag, which = AFFECT[scope], METADATA[kind]
    return Call(
        f"virDomainSetMetadata({kind.upper()}, {FLAG_NAMES[scope]})",
        run=lambda ctx: ctx.dom.setMetadata(which, text or None, None, None, flag),
        undo=lambda ctx: ctx.dom.setMetadata(which, old or None, None, None, flag),
    )
