"""What the pre-flight checks read from the destination host, in one worker call.

Everything here only reads, except the disk probe (probe.py), which may open and at
once destroy a transient pool over a folder: libvirt has no "does this file exist" call.
Networks, pools and host interfaces are read with plain libvirt calls (the storage and
networks packages are other layers' business; a migration needs only these answers).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

import libvirt
from lxml import etree

from vtui.core.errors import libvirt_message
from vtui.core.migration.inspect_source import HostIdentity, Source, host_identity
from vtui.core.migration.probe import PathProbe, pool_at

_NOT_FOUND = (
    libvirt.VIR_ERR_NO_DOMAIN,
    libvirt.VIR_ERR_NO_NETWORK,
    libvirt.VIR_ERR_NO_INTERFACE,
    libvirt.VIR_ERR_NO_STORAGE_POOL,
    libvirt.VIR_ERR_NO_NODE_DEVICE,
)


@dataclass(slots=True)
class Pool:
    name: str
    active: bool
    available: int  # bytes
    path: str = ""


@dataclass(slots=True)
class DomainCaps:
    """The destination's answer for this guest's emulator, arch, machine and type."""

    error: str = ""  # why it has none (no such emulator or machine type)
    machine: str = ""
    loaders: list[str] = field(default_factory=list)  # firmware it knows of
    firmware: list[str] = field(default_factory=list)  # efi, bios (auto-selection)
    tpm_backends: list[str] = field(default_factory=list)
    fs_drivers: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Destination:
    host: HostIdentity
    same_name: tuple[str, bool] | None  # (uuid, active) of a guest with our name
    same_uuid: tuple[str, bool] | None  # (name, active) of a guest with our UUID
    available_kib: int | None
    total_kib: int
    committed_kib: int  # maximum memory of the guests running there now
    cpu_result: int | None
    cpu_error: str
    caps: DomainCaps
    cpus: set[int]
    numa_nodes: set[int]
    free_pages: dict[int, int]  # huge page size (KiB) -> free pages, all NUMA nodes
    default_huge_kib: int  # the smallest huge page size it offers
    presence: dict[str, tuple[bool | None, str]]  # path -> found?
    pools_by_name: dict[str, Pool | None]
    pools_by_dir: dict[str, Pool | None]
    networks: dict[str, bool | None]  # name -> active (None: no such network)
    interfaces: dict[str, tuple[bool | None, str]]  # bridge/NIC -> found? (why not known)
    nodedevs: dict[str, tuple[bool | None, str]]  # host device -> found?


def _lookup(fn, key):
    try:
        return fn(key)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() in _NOT_FOUND:
            return None
        raise


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


def _committed_kib(conn: libvirt.virConnect) -> int:
    """Maximum memory of the running guests (what they may use at most)."""
    # NOWAIT: a guest in a job (one migrating in) is not waited for; its definition says
    flags = (
        libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE
        | libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT
    )
    total = 0
    for dom, rec in conn.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_BALLOON, flags):
        total += rec.get("balloon.maximum") or dom.maxMemory()
    return total


def _compare_cpu(conn: libvirt.virConnect, src: Source) -> tuple[int | None, str]:
    cfg = src.config
    try:
        return conn.compareHypervisorCPU(
            cfg.emulator or None, cfg.arch or None, cfg.machine or None,
            cfg.domain_type or None, cfg.cpu_xml, 0,
        ), ""  # fmt: skip
    except libvirt.libvirtError as first:
        try:  # older drivers, or an emulator path the destination lacks
            return conn.compareCPU(cfg.cpu_xml, 0), ""
        except libvirt.libvirtError:
            return None, libvirt_message(first)


def _domain_caps(conn: libvirt.virConnect, src: Source) -> DomainCaps:
    cfg = src.config
    try:
        xml = conn.getDomainCapabilities(
            cfg.emulator or None, cfg.arch or None, cfg.machine or None, cfg.domain_type or None, 0
        )
    except libvirt.libvirtError as exc:
        return DomainCaps(error=libvirt_message(exc))
    root = etree.fromstring(xml.encode())

    def values(path: str) -> list[str]:
        return [v.text or "" for v in root.iterfind(path)]

    return DomainCaps(
        machine=root.findtext("machine") or "",
        loaders=values("os/loader/value"),
        firmware=values("os/enum[@name='firmware']/value"),
        tpm_backends=values("devices/tpm/enum[@name='backendModel']/value"),
        fs_drivers=values("devices/filesystem/enum[@name='driverType']/value"),
    )


def _pool(pool: libvirt.virStoragePool | None) -> Pool | None:
    if pool is None:
        return None
    active = bool(pool.isActive())
    if active:
        pool.refresh(0)
    _state, _capacity, _allocation, available = pool.info()
    path = etree.fromstring(pool.XMLDesc(0).encode()).findtext("target/path") or ""
    return Pool(pool.name(), active, available, path)


def _topology(conn: libvirt.virConnect) -> tuple[set[int], set[int], int, list[int]]:
    """CPU ids, NUMA node ids, the smallest huge page size and every page size."""
    caps = etree.fromstring(conn.getCapabilities().encode())
    cpus = {int(c.get("id", "0")) for c in caps.iterfind("host/topology/cells/cell/cpus/cpu")}
    nodes = {int(c.get("id", "0")) for c in caps.iterfind("host/topology/cells/cell")}
    if not cpus:
        cpus = set(range(conn.getInfo()[2]))
    sizes = sorted({int(p.get("size", "0")) for p in caps.iterfind("host/cpu/pages")})
    huge = [s for s in sizes if s > 4]
    return cpus, nodes or {0}, (huge[0] if huge else 2048), sizes


def _free_pages(conn: libvirt.virConnect, sizes: list[int], nodes: set[int]) -> dict[int, int]:
    huge = [s for s in sizes if s > 4] or [2048]
    try:
        per_node = conn.getFreePages(huge, min(nodes), len(nodes), 0)
    except libvirt.libvirtError:
        return {}
    free: dict[int, int] = {}
    for counts in per_node.values():
        for size, count in counts.items():
            free[size] = free.get(size, 0) + count
    return free


def _interface(conn: libvirt.virConnect, name: str) -> tuple[bool | None, str]:
    try:
        conn.interfaceLookupByName(name)
        return True, ""
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_INTERFACE:
            return False, ""
        return None, libvirt_message(exc)


def _nodedev(conn: libvirt.virConnect, kind: str, device) -> tuple[bool | None, str]:
    try:
        if kind == "pci":
            return conn.nodeDeviceLookupByName(device.nodedev) is not None, ""
        cap = {
            "usb": libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_USB_DEV,
            "mdev": libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_MDEV,
        }.get(kind)
        if cap is None:
            return None, f"{kind} devices are not checked"
        for dev in conn.listAllDevices(cap):
            xml = etree.fromstring(dev.XMLDesc(0).encode())
            if kind == "usb":
                ids = [xml.find(f"capability/{tag}") for tag in ("vendor", "product")]
                found = tuple((e.get("id", "") if e is not None else "").lower() for e in ids)
                if found == (device.vendor, device.product):
                    return True, ""
            elif device.address in etree.tostring(xml, encoding="unicode"):
                return True, ""
        return False, ""
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_NODE_DEVICE:
            return False, ""
        return None, libvirt_message(exc)


def read_destination(
    conn: libvirt.virConnect, name: str, guest_uuid: str, src: Source, live: bool
) -> Destination:
    cfg = src.config
    by_name = _lookup(conn.lookupByName, name)
    by_uuid = _lookup(conn.lookupByUUIDString, guest_uuid)
    cpu_result, cpu_error = (None, "")
    if cfg.cpu_xml and cfg.cpu_mode not in ("host-passthrough", "maximum"):
        cpu_result, cpu_error = _compare_cpu(conn, src)
    cpus, nodes, default_huge, sizes = _topology(conn)
    probe = PathProbe(conn)
    files = [d.path for d in cfg.disks if d.kind in ("file", "block", "volume") and d.path]
    files += [p for d in cfg.disks for p in d.backing if p.startswith("/")]
    files += [p for _tag, p in cfg.boot_files]
    files += [p for p in (cfg.loader, cfg.nvram, cfg.nvram_template) if p]
    files += [d for _driver, d, _tag in cfg.filesystems if d]
    pool_names = {d.source_pool for d in cfg.disks if d.source_pool}
    pool_names |= {d.pool for d in cfg.disks if d.kind == "volume" and d.pool}
    folders = {posixpath.dirname(d.path) for d in cfg.disks if d.kind == "file" and d.path}
    return Destination(
        host=host_identity(conn),
        same_name=(by_name.UUIDString(), bool(by_name.isActive())) if by_name else None,
        same_uuid=(by_uuid.name(), bool(by_uuid.isActive())) if by_uuid else None,
        available_kib=_available_kib(conn) if live else None,
        total_kib=conn.getInfo()[1] * 1024,
        committed_kib=_committed_kib(conn),
        cpu_result=cpu_result,
        cpu_error=cpu_error,
        caps=_domain_caps(conn, src),
        cpus=cpus,
        numa_nodes=nodes,
        free_pages=_free_pages(conn, sizes, nodes) if cfg.hugepages else {},
        default_huge_kib=default_huge,
        presence={path: probe.present(path) for path in dict.fromkeys(files)},
        pools_by_name={n: _pool(_lookup(conn.storagePoolLookupByName, n)) for n in pool_names},
        pools_by_dir={f: _pool(pool_at(conn, f)) for f in folders},
        networks={
            nic.source: _network_active(conn, nic.source)
            for nic in cfg.nics
            if nic.kind == "network" and nic.source
        },
        interfaces={
            nic.source: _interface(conn, nic.source)
            for nic in cfg.nics
            if nic.kind in ("bridge", "direct") and nic.source
        },
        nodedevs={dev.address: _nodedev(conn, dev.kind, dev) for dev in cfg.hostdevs},
    )


def _network_active(conn: libvirt.virConnect, name: str) -> bool | None:
    network = _lookup(conn.networkLookupByName, name)
    return None if network is None else bool(network.isActive())
