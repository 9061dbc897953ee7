"""Shared by the migration pre-flight tests: guests redefined with the one thing a check
is about, and finding a check's line among all of them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import libvirt
from lxml import etree

from tests.support import guest_on
from vtui.core.host import Host
from vtui.core.migration import Check, MigrationOptions, preflight

E = etree.SubElement


def redefine(uri: str, name: str, edit: Callable, *, start: bool = False) -> None:
    """Apply edit(root) to the guest's stored definition, define it again, maybe start it."""
    conn = libvirt.open(uri)
    try:
        root = etree.fromstring(
            conn.lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE).encode()
        )
        edit(root)
        dom = conn.defineXML(etree.tostring(root, encoding="unicode"))
        if start:
            dom.create()
    finally:
        conn.close()


async def checks_of(a: Host, b: Host, name: str, **options) -> list[Check]:
    guest = await guest_on(a, name)
    return await preflight(a, guest, b, MigrationOptions(**options))


def the(checks: list[Check], name: str, status: str | None = None) -> Check:
    """The one check of that name (and status, when several share a name)."""
    found = [c for c in checks if c.name == name and (status is None or c.status == status)]
    assert len(found) == 1, [f"{c.status} {c.line}" for c in checks]
    return found[0]


def run_libvirt(uri: str, fn, *args):
    """fn(conn, *args) on a fresh connection (test set-up, not the code under test)."""
    conn = libvirt.open(uri)
    try:
        return fn(conn, *args)
    finally:
        conn.close()


async def in_thread(uri: str, fn, *args):
    return await asyncio.to_thread(run_libvirt, uri, fn, *args)


@contextlib.contextmanager
def transient_pool(uri: str, name: str, path: str):
    """A dir pool for the test's lifetime (transient: it leaves no definition behind)."""
    pool = etree.Element("pool", type="dir")
    E(pool, "name").text = name
    E(E(pool, "target"), "path").text = path
    run_libvirt(uri, lambda c: c.storagePoolCreateXML(etree.tostring(pool, encoding="unicode")))
    try:
        yield
    finally:
        run_libvirt(uri, lambda c: c.storagePoolLookupByName(name).destroy())
