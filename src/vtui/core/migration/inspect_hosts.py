"""What the pre-flight checks read from both hosts, in the hosts' worker threads.

The one thing that touches the destination is the disk probe: libvirt has no "does
this file exist" call, so for a file outside any storage pool we open a short-lived
transient directory pool over its folder, look for the file, and destroy that pool
(a transient pool leaves no trace).
"""

from __future__ import annotations

import posixpath
import threading
import uuid as uuidlib
from dataclasses import dataclass

import libvirt
from lxml import etree

from vtui.core.errors import VtuiError, libvirt_message

_NO_PROBE = ("/dev/", "/proc/", "/sys/")  # never list these folders through a pool
_PROBE_LOCK = threading.RLock()  # see _path_presence
_PROBE_PREFIX = "vtui-probe-"


# -- facts read in the hosts' threads -------------------------------------------------------
@dataclass(slots=True)
class _Item:
    """A file the guest needs on the destination: a disk or a boot file."""

    name: str  # "disk vda", "kernel"
    kind: str  # "file", "block", "network"
    path: str
    copyable: bool  # copy-storage would carry it (writable, not shared)


@dataclass(slots=True)
class Source:
    state: int
    persistent: bool
    managed_save: bool
    job_active: bool
    snapshots: int
    memory_kib: int
    domain_type: str
    cpu_xml: str | None
    cpu_mode: str
    cpu_model: str
    emulator: str | None
    arch: str | None
    machine: str | None
    items: list[_Item]
    host_uuid: str
    driver: str
    host_cpu: str


def _host_identity(conn: libvirt.virConnect) -> tuple[str, str, str]:
    caps = etree.fromstring(conn.getCapabilities().encode())
    return (
        caps.findtext("host/uuid") or "",
        conn.getType(),
        caps.findtext("host/cpu/model") or caps.findtext("host/cpu/arch") or "",
    )


def _items(conn: libvirt.virConnect, root) -> list[_Item]:
    items = []
    for disk in root.iterfind("devices/disk"):
        source = disk.find("source")
        if source is None:
            continue  # an empty CD-ROM drive
        kind = disk.get("type", "file")
        target = disk.find("target")
        name = f"disk {target.get('dev') if target is not None else '?'}"
        writable = (
            disk.get("device", "disk") == "disk"
            and disk.find("readonly") is None
            and disk.find("shareable") is None
        )
        if kind == "network":
            items.append(_Item(name, "network", source.get("name", "") or "", False))
            continue
        path = source.get("file") or source.get("dev") or ""
        if kind == "volume":
            try:
                vol = conn.storagePoolLookupByName(source.get("pool", "")).storageVolLookupByName(
                    source.get("volume", "")
                )
                path, kind = vol.path(), "file"
            except libvirt.libvirtError:
                path = f"{source.get('pool')}/{source.get('volume')}"
        if path:
            items.append(_Item(name, "block" if kind == "block" else "file", path, writable))
    for tag in ("kernel", "initrd", "loader"):
        path = root.findtext(f"os/{tag}")
        if path:
            items.append(_Item("firmware" if tag == "loader" else tag, "file", path, False))
    return items


def read_source(conn: libvirt.virConnect, guest_uuid: str) -> Source:
    try:
        dom = conn.lookupByUUIDString(guest_uuid)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            raise VtuiError("the guest no longer exists on the source") from exc
        raise
    state, _reason = dom.state()
    active = bool(dom.isActive())
    flags = libvirt.VIR_DOMAIN_XML_MIGRATABLE if active else libvirt.VIR_DOMAIN_XML_INACTIVE
    root = etree.fromstring(dom.XMLDesc(flags).encode())
    cpu = root.find("cpu")
    ostype = root.find("os/type")
    job_active = False
    if active:
        try:
            job_active = dom.jobStats().get("type", 0) != libvirt.VIR_DOMAIN_JOB_NONE
        except libvirt.libvirtError:
            pass
    try:
        snapshots = dom.snapshotNum(0)
    except libvirt.libvirtError:
        snapshots = 0
    host_uuid, driver, host_cpu = _host_identity(conn)
    has_model = cpu is not None and (
        cpu.find("model") is not None
        or cpu.get("mode") in ("host-model", "host-passthrough", "maximum")
    )
    return Source(
        state=state,
        persistent=bool(dom.isPersistent()),
        managed_save=bool(dom.hasManagedSaveImage(0)) if not active else False,
        job_active=job_active,
        snapshots=snapshots,
        memory_kib=int(dom.maxMemory()),
        domain_type=root.get("type", ""),
        cpu_xml=etree.tostring(cpu, encoding="unicode") if cpu is not None and has_model else None,
        cpu_mode=cpu.get("mode", "custom") if cpu is not None else "",
        cpu_model=(cpu.findtext("model") or "") if cpu is not None else "",
        emulator=root.findtext("devices/emulator"),
        arch=ostype.get("arch") if ostype is not None else None,
        machine=ostype.get("machine") if ostype is not None else None,
        items=_items(conn, root),
        host_uuid=host_uuid,
        driver=driver,
        host_cpu=host_cpu,
    )


def _pool_at(conn: libvirt.virConnect, directory: str) -> libvirt.virStoragePool | None:
    """The pool over `directory`, not counting another check's short-lived probe."""
    try:
        pool = conn.storagePoolLookupByTargetPath(directory)
    except libvirt.libvirtError:
        return None
    return None if pool.name().startswith(_PROBE_PREFIX) else pool


def _path_presence(conn: libvirt.virConnect, path: str) -> tuple[bool | None, str]:
    """(True/False, "") when known; (None, why) when the destination cannot tell us."""
    try:
        conn.storageVolLookupByPath(path)
        return True, ""
    except libvirt.libvirtError:
        pass
    directory, filename = posixpath.split(path)
    if not directory.startswith("/") or (directory + "/").startswith(_NO_PROBE):
        return None, "not in a storage pool there"
    pool = _pool_at(conn, directory)
    if pool is not None and pool.isActive():
        pool.refresh(0)
        try:
            pool.storageVolLookupByName(filename)
            return True, ""
        except libvirt.libvirtError:
            return False, ""
    probe = etree.Element("pool", type="dir")
    etree.SubElement(probe, "name").text = f"{_PROBE_PREFIX}{uuidlib.uuid4().hex[:12]}"
    etree.SubElement(etree.SubElement(probe, "target"), "path").text = directory
    # Two migrations checked at once (a bulk migration) probe the same folders; libvirt
    # refuses a second pool over a folder that has one, so probes take turns.
    with _PROBE_LOCK:
        try:
            pool = conn.storagePoolCreateXML(etree.tostring(probe, encoding="unicode"), 0)
        except libvirt.libvirtError as exc:
            message = libvirt_message(exc)
            if "No such file or directory" in message:
                return False, ""
            return None, message
        try:
            pool.storageVolLookupByName(filename)
            return True, ""
        except libvirt.libvirtError:
            return False, ""
        finally:
            try:
                pool.destroy()
            except libvirt.libvirtError:
                pass


@dataclass(slots=True)
class Destination:
    same_name: tuple[str, bool] | None  # (uuid, active) of a guest with our name
    same_uuid: tuple[str, bool] | None  # (name, active) of a guest with our UUID
    available_kib: int | None
    total_kib: int
    cpu_result: int | None
    cpu_error: str
    presence: dict[str, tuple[bool | None, str]]
    pools: dict[str, str]  # directory -> active pool name there
    host_uuid: str
    driver: str
    host_cpu: str


def _available_kib(conn: libvirt.virConnect) -> int | None:
    try:
        stats = conn.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS)
        if stats.get("total"):
            return stats.get("free", 0) + stats.get("buffers", 0) + stats.get("cached", 0)
    except libvirt.libvirtError:
        pass
    try:  # drivers without memory stats; 0 means "not known" (the test driver says 0)
        return conn.getFreeMemory() // 1024 or None
    except libvirt.libvirtError:
        return None


def _compare_cpu(conn: libvirt.virConnect, src: Source) -> tuple[int | None, str]:
    try:
        return conn.compareHypervisorCPU(
            src.emulator, src.arch, src.machine, src.domain_type, src.cpu_xml, 0
        ), ""
    except libvirt.libvirtError as first:
        try:  # older drivers, or an emulator path the destination lacks
            return conn.compareCPU(src.cpu_xml, 0), ""
        except libvirt.libvirtError:
            return None, libvirt_message(first)


def read_destination(
    conn: libvirt.virConnect, name: str, guest_uuid: str, src: Source, live: bool
) -> Destination:
    def lookup(fn, key):
        try:
            return fn(key)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return None
            raise

    by_name, by_uuid = lookup(conn.lookupByName, name), lookup(conn.lookupByUUIDString, guest_uuid)
    cpu_result, cpu_error = (None, "")
    if src.cpu_xml and src.cpu_mode not in ("host-passthrough", "maximum"):
        cpu_result, cpu_error = _compare_cpu(conn, src)
    presence, pools = {}, {}
    for item in src.items:
        if item.kind == "network":
            continue
        with _PROBE_LOCK:  # no other check's probe comes and goes while we look
            presence[item.path] = _path_presence(conn, item.path)
            directory = posixpath.dirname(item.path)
            pool = _pool_at(conn, directory)
            if pool is not None and pool.isActive():
                pools[directory] = pool.name()
    info = conn.getInfo()
    host_uuid, driver, host_cpu = _host_identity(conn)
    return Destination(
        same_name=(by_name.UUIDString(), bool(by_name.isActive())) if by_name else None,
        same_uuid=(by_uuid.name(), bool(by_uuid.isActive())) if by_uuid else None,
        available_kib=_available_kib(conn) if live else None,
        total_kib=info[1] * 1024,
        cpu_result=cpu_result,
        cpu_error=cpu_error,
        presence=presence,
        pools=pools,
        host_uuid=host_uuid,
        driver=driver,
        host_cpu=host_cpu,
    )
