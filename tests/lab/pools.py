"""Storage pools in lab hosts, made and removed straight through libvirt (not vtui),
so tests can set up what they need and always clean up, even after a failure.

Pools live under the host's private /var/lib/libvirt; building a pool makes its
directory, and removing it deletes the volumes, the directory and the definition.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import libvirt
from lxml import etree

POOL_ROOT = "/var/lib/libvirt"


def _in_thread(fn, *args):
    # libvirt calls block; keep them off whatever event loop the calling test runs.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


def unique_name(prefix: str = "vtui-p") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def pool_path(name: str) -> str:
    return f"{POOL_ROOT}/{name}"


def _make(uri: str, name: str) -> None:
    root = etree.Element("pool", type="dir")
    etree.SubElement(root, "name").text = name
    target = etree.SubElement(root, "target")
    etree.SubElement(target, "path").text = pool_path(name)
    conn = libvirt.open(uri)
    try:
        pool = conn.storagePoolDefineXML(etree.tostring(root, encoding="unicode"), 0)
        pool.build(0)
        pool.create(0)
    finally:
        conn.close()


def make_pool(uri: str, name: str | None = None) -> str:
    """A started dir pool (built: its directory is made); returns its name."""
    name = name or unique_name()
    _in_thread(_make, uri, name)
    return name


def _remove(uri: str, name: str) -> None:
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError:
        return  # its libvirtd is gone: so is the pool
    try:
        try:
            pool = conn.storagePoolLookupByName(name)
        except libvirt.libvirtError:
            return
        try:
            if not pool.isActive():
                pool.create(0)
            for volume in pool.listAllVolumes(0):
                volume.delete(0)
            pool.destroy()
            pool.delete(0)
        except libvirt.libvirtError:
            pass  # e.g. its directory is already gone: still undefine it
        if pool.isPersistent():
            pool.undefine()
    finally:
        conn.close()


def remove_pool(uri: str, name: str) -> None:
    """Delete the pool's volumes, its directory and its definition, if it exists."""
    _in_thread(_remove, uri, name)


def volumes_in(uri: str, name: str) -> list[str]:
    """The pool's volumes as libvirt lists them right now (after a refresh)."""

    def read() -> list[str]:
        conn = libvirt.open(uri)
        try:
            pool = conn.storagePoolLookupByName(name)
            pool.refresh(0)
            return sorted(v.name() for v in pool.listAllVolumes(0))
        finally:
            conn.close()

    return _in_thread(read)


def pool_names(uri: str) -> list[str]:
    def read() -> list[str]:
        conn = libvirt.open(uri)
        try:
            return sorted(p.name() for p in conn.listAllStoragePools(0))
        finally:
            conn.close()

    return _in_thread(read)
