"""Does a file exist on the destination? libvirt has no call for that, so we ask its
storage driver: a volume by that path, else the names in an active pool over the
file's folder, else those of a short-lived transient directory pool over it, destroyed
at once (a transient pool leaves no trace). One listing per folder, however many of
the guest's files are in it."""

from __future__ import annotations

import posixpath
import threading
import uuid as uuidlib

import libvirt
from lxml import etree

from vtui.core.errors import libvirt_message

_NO_PROBE = ("/dev/", "/proc/", "/sys/")  # never list these folders through a pool
_PROBE_PREFIX = "vtui-probe-"
# Two migrations checked at once (a bulk migration) probe the same folders, and libvirt
# refuses a second pool over a folder that has one: probes take turns.
_PROBE_LOCK = threading.RLock()


def pool_at(conn: libvirt.virConnect, directory: str) -> libvirt.virStoragePool | None:
    """The pool over `directory`, not counting another check's short-lived probe."""
    try:
        pool = conn.storagePoolLookupByTargetPath(directory)
    except libvirt.libvirtError:
        return None
    return None if pool.name().startswith(_PROBE_PREFIX) else pool


class PathProbe:
    """Asks one host about many paths (in its worker thread)."""

    def __init__(self, conn: libvirt.virConnect):
        self.conn = conn
        self._folders: dict[str, tuple[set[str] | None, str]] = {}

    def present(self, path: str) -> tuple[bool | None, str]:
        """(True/False, "") when known; (None, why) when the host cannot tell."""
        try:
            self.conn.storageVolLookupByPath(path)
            return True, ""
        except libvirt.libvirtError:
            pass
        directory, name = posixpath.split(path.rstrip("/"))
        if not directory.startswith("/") or (directory + "/").startswith(_NO_PROBE):
            return None, "not in a storage pool there"
        names, why = self._listing(directory)
        if names is None:
            return (False, "") if why == "missing" else (None, why)
        return name in names, ""

    def _listing(self, directory: str) -> tuple[set[str] | None, str]:
        if directory not in self._folders:
            self._folders[directory] = self._list(directory)
        return self._folders[directory]

    def _list(self, directory: str) -> tuple[set[str] | None, str]:
        names: set[str] = set()
        why = self._with_pool(directory, lambda pool: names.update(pool.listVolumes()))
        return (None, why) if why else (names, "")

    def describe(self, path: str) -> tuple[int, int, list[str]] | None:
        """(capacity, allocation, backing chain) of a file outside any pool here, read
        the same way; None if it cannot be."""
        directory, name = posixpath.split(path)
        found: list = []

        def read(pool: libvirt.virStoragePool) -> None:
            vol = pool.storageVolLookupByName(name)
            _kind, capacity, allocation = vol.info()
            backing = etree.fromstring(vol.XMLDesc(0).encode()).findtext("backingStore/path")
            found.append((capacity, allocation, [backing] if backing else []))

        if not directory.startswith("/") or (directory + "/").startswith(_NO_PROBE):
            return None
        try:
            self._with_pool(directory, read)
        except libvirt.libvirtError:
            return None
        return found[0] if found else None

    def _with_pool(self, directory: str, work) -> str:
        """work(pool) on an active pool over `directory`, or a transient one made for
        it and destroyed after; "" or why not ("missing": no such folder)."""
        with _PROBE_LOCK:
            return self._with_pool_locked(directory, work)

    def _with_pool_locked(self, directory: str, work) -> str:
        pool = pool_at(self.conn, directory)
        if pool is not None and pool.isActive():
            pool.refresh(0)
            work(pool)
            return ""
        probe = etree.Element("pool", type="dir")
        etree.SubElement(probe, "name").text = f"{_PROBE_PREFIX}{uuidlib.uuid4().hex[:12]}"
        etree.SubElement(etree.SubElement(probe, "target"), "path").text = directory
        try:
            pool = self.conn.storagePoolCreateXML(etree.tostring(probe, encoding="unicode"), 0)
        except libvirt.libvirtError as exc:
            message = libvirt_message(exc)
            return "missing" if "No such file or directory" in message else message
        try:
            work(pool)
            return ""
        finally:
            try:
                pool.destroy()
            except libvirt.libvirtError:
                pass
