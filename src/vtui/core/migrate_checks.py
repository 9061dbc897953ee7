"""Pre-flight checks: whether a migration can run, each a pass/warn/fail line.

The checks only read: guest and host facts on both sides, libvirt's CPU comparison,
and which disk paths exist on the destination. The one thing that touches the
destination is the disk probe: libvirt has no "does this file exist" call, so for a
file outside any storage pool we open a short-lived transient directory pool over its
folder, look for the file, and destroy that pool (a transient pool leaves no trace).
"""

from __future__ import annotations

import asyncio
import posixpath
import uuid as uuidlib
from dataclasses import dataclass

import libvirt
from lxml import etree

from .errors import VtuiError, libvirt_message
from .host import Host, HostStatus
from .migrate_model import FAIL, PASS, WARN, Check, MigrationOptions, peer_uri
from .model import Guest
from .units import kib, size

REACH_TIMEOUT = 5.0          # seconds the destination gets to answer one call
INSPECT_TIMEOUT = 30.0       # seconds either host gets to answer all our questions
_NO_PROBE = ("/dev/", "/proc/", "/sys/")   # never list these folders through a pool


# -- facts read in the hosts' threads -------------------------------------------------------
@dataclass(slots=True)
class _Item:
    """A file the guest needs on the destination: a disk or a boot file."""

    name: str          # "disk vda", "kernel"
    kind: str          # "file", "block", "network"
    path: str
    copyable: bool     # copy-storage would carry it (writable, not shared)


@dataclass(slots=True)
class _Source:
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
    return (caps.findtext("host/uuid") or "", conn.getType(),
            caps.findtext("host/cpu/model") or caps.findtext("host/cpu/arch") or "")


def _items(conn: libvirt.virConnect, root) -> list[_Item]:
    items = []
    for disk in root.iterfind("devices/disk"):
        source = disk.find("source")
        if source is None:
            continue  # an empty CD-ROM drive
        kind = disk.get("type", "file")
        target = disk.find("target")
        name = f"disk {target.get('dev') if target is not None else '?'}"
        writable = (disk.get("device", "disk") == "disk" and disk.find("readonly") is None
                    and disk.find("shareable") is None)
        if kind == "network":
            items.append(_Item(name, "network", source.get("name", "") or "", False))
            continue
        path = source.get("file") or source.get("dev") or ""
        if kind == "volume":
            try:
                vol = conn.storagePoolLookupByName(source.get("pool", "")).storageVolLookupByName(
                    source.get("volume", ""))
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


def _read_source(conn: libvirt.virConnect, guest_uuid: str) -> _Source:
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
    has_model = cpu is not None and (cpu.find("model") is not None
                                     or cpu.get("mode") in ("host-model", "host-passthrough",
                                                            "maximum"))
    return _Source(
        state=state, persistent=bool(dom.isPersistent()),
        managed_save=bool(dom.hasManagedSaveImage(0)) if not active else False,
        job_active=job_active, snapshots=snapshots, memory_kib=int(dom.maxMemory()),
        domain_type=root.get("type", ""),
        cpu_xml=etree.tostring(cpu, encoding="unicode") if has_model else None,
        cpu_mode=cpu.get("mode", "custom") if cpu is not None else "",
        cpu_model=(cpu.findtext("model") or "") if cpu is not None else "",
        emulator=root.findtext("devices/emulator"),
        arch=ostype.get("arch") if ostype is not None else None,
        machine=ostype.get("machine") if ostype is not None else None,
        items=_items(conn, root), host_uuid=host_uuid, driver=driver, host_cpu=host_cpu)


def _pool_at(conn: libvirt.virConnect, directory: str) -> libvirt.virStoragePool | None:
    try:
        return conn.storagePoolLookupByTargetPath(directory)
    except libvirt.libvirtError:
        return None


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
    etree.SubElement(probe, "name").text = f"vtui-probe-{uuidlib.uuid4().hex[:12]}"
    etree.SubElement(etree.SubElement(probe, "target"), "path").text = directory
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
class _Destination:
    same_name: tuple[str, bool] | None           # (uuid, active) of a guest with our name
    same_uuid: tuple[str, bool] | None           # (name, active) of a guest with our UUID
    available_kib: int | None
    total_kib: int
    cpu_result: int | None
    cpu_error: str
    presence: dict[str, tuple[bool | None, str]]
    pools: dict[str, str]                        # directory -> active pool name there
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


def _compare_cpu(conn: libvirt.virConnect, src: _Source) -> tuple[int | None, str]:
    try:
        return conn.compareHypervisorCPU(src.emulator, src.arch, src.machine, src.domain_type,
                                         src.cpu_xml, 0), ""
    except libvirt.libvirtError as first:
        try:  # older drivers, or an emulator path the destination lacks
            return conn.compareCPU(src.cpu_xml, 0), ""
        except libvirt.libvirtError:
            return None, libvirt_message(first)


def _read_destination(conn: libvirt.virConnect, name: str, guest_uuid: str, src: _Source,
                      live: bool) -> _Destination:
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
        presence[item.path] = _path_presence(conn, item.path)
        directory = posixpath.dirname(item.path)
        pool = _pool_at(conn, directory)
        if pool is not None and pool.isActive():
            pools[directory] = pool.name()
    info = conn.getInfo()
    host_uuid, driver, host_cpu = _host_identity(conn)
    return _Destination(
        same_name=(by_name.UUIDString(), bool(by_name.isActive())) if by_name else None,
        same_uuid=(by_uuid.name(), bool(by_uuid.isActive())) if by_uuid else None,
        available_kib=_available_kib(conn) if live else None, total_kib=info[1] * 1024,
        cpu_result=cpu_result, cpu_error=cpu_error, presence=presence, pools=pools,
        host_uuid=host_uuid, driver=driver, host_cpu=host_cpu)


# -- turning facts into checks ------------------------------------------------------------
def _state_check(src: _Source, options: MigrationOptions) -> Check:
    running = (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_BLOCKED, libvirt.VIR_DOMAIN_PAUSED)
    if src.job_active:
        return Check("guest state", FAIL, "another job (e.g. a migration) is running on it")
    if options.live:
        if src.state in running:
            paused = src.state == libvirt.VIR_DOMAIN_PAUSED
            return Check("guest state", PASS, "paused (stays paused on the destination)"
                         if paused else "running")
        return Check("guest state", FAIL, "not running: live migration needs a running or "
                     "paused guest (choose offline for a stopped one)")
    if src.state not in (libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_CRASHED):
        return Check("guest state", FAIL, "running: offline migration moves a stopped guest "
                     "(shut it down, or choose live)")
    if not src.persistent:
        return Check("guest state", FAIL, "transient: it has no definition to move offline")
    if src.managed_save:
        return Check("guest state", FAIL, "has a saved memory state (managed save) that cannot "
                     "move: start it and migrate live, or discard the saved state")
    return Check("guest state", PASS, "shut off, persistent")


def _memory_check(src: _Source, dst: _Destination, dst_name: str) -> Check:
    need = src.memory_kib
    have = dst.available_kib
    if have is None:
        return Check("memory", WARN, f"{dst_name} does not report its free memory")
    text = f"needs {kib(need)}, {dst_name} has {kib(have)} available"
    if have < need:
        return Check("memory", FAIL, text)
    if have - need < dst.total_kib // 20:
        return Check("memory", WARN, text + " (leaves less than 5%)")
    return Check("memory", PASS, text)


def _cpu_check(src: _Source, dst: _Destination, src_name: str, dst_name: str) -> Check:
    if src.cpu_xml is None:
        if src.domain_type == "qemu":
            return Check("cpu", PASS, "emulated (TCG) guest with the default CPU model")
        return Check("cpu", PASS, "no CPU model pinned (hypervisor default)")
    if src.cpu_mode in ("host-passthrough", "maximum"):
        if src.host_cpu == dst.host_cpu:
            return Check("cpu", PASS, f"{src.cpu_mode} between identical host CPUs "
                         f"({src.host_cpu})")
        return Check("cpu", WARN, f"{src.cpu_mode}: {src_name} has {src.host_cpu}, {dst_name} "
                     f"has {dst.host_cpu}; the guest may fail after moving")
    model = src.cpu_model or src.cpu_mode
    if dst.cpu_result is None:
        return Check("cpu", WARN, f"cannot compare CPU model {model}: {dst.cpu_error}")
    if dst.cpu_result == libvirt.VIR_CPU_COMPARE_INCOMPATIBLE:
        return Check("cpu", FAIL, f"{dst_name} cannot provide the guest's CPU ({model})")
    return Check("cpu", PASS, f"{dst_name} provides the guest's CPU ({model})")


def _storage_checks(src: _Source, dst: _Destination, dst_name: str,
                    options: MigrationOptions) -> list[Check]:
    copying = options.live and options.copy_storage != "none"
    checks = []
    for item in src.items:
        if item.kind == "network":
            checks.append(Check(item.name, PASS, f"network disk {item.path} (shared)"))
            continue
        present, why = dst.presence.get(item.path, (None, "not checked"))
        if present:
            if copying and item.copyable:
                checks.append(Check(item.name, WARN, f"{item.path} exists on {dst_name} and "
                                    "will be overwritten by the copy (never copy shared storage)"))
            else:
                checks.append(Check(item.name, PASS, f"{item.path} present on {dst_name}"))
        elif present is None:
            checks.append(Check(item.name, WARN, f"cannot check {item.path} on {dst_name}: {why}"))
        elif copying and item.copyable:
            directory = posixpath.dirname(item.path)
            pool = dst.pools.get(directory)
            if pool:
                checks.append(Check(item.name, PASS, f"{item.path} will be copied into pool "
                                    f"{pool} on {dst_name}"))
            else:
                checks.append(Check(item.name, FAIL, f"{item.path} is missing on {dst_name}, and "
                                    f"copying it needs an active storage pool at {directory} "
                                    "there"))
        elif copying:
            checks.append(Check(item.name, FAIL, f"{item.path} is missing on {dst_name} "
                                "(read-only disks and boot files are never copied)"))
        else:
            checks.append(Check(item.name, FAIL, f"{item.path} is missing on {dst_name}: "
                                "choose copy storage, or use storage both hosts share"))
    if not checks:
        checks.append(Check("storage", PASS, "no disks"))
    return checks


def _identity_checks(src: _Source, dst: _Destination, dst_name: str, name: str,
                     options: MigrationOptions) -> list[Check]:
    checks = []
    if src.host_uuid and src.host_uuid == dst.host_uuid:
        checks.append(Check("hypervisor", FAIL, "source and destination are the same host"))
    elif src.driver != dst.driver:
        checks.append(Check("hypervisor", FAIL, f"source runs {src.driver}, {dst_name} runs "
                            f"{dst.driver}"))
    else:
        checks.append(Check("hypervisor", PASS, f"both {src.driver}"))
    if dst.same_uuid is not None and dst.same_uuid[0] == name and not dst.same_uuid[1] \
            and options.live:
        checks.append(Check("name", WARN, f"{dst_name} has a stopped definition of {name}; the "
                            "migrated guest replaces it"))
    elif dst.same_name is not None:
        state = "running" if dst.same_name[1] else "defined"
        checks.append(Check("name", FAIL, f"{dst_name} already has a guest called {name} "
                            f"({state})"))
    elif dst.same_uuid is not None:
        checks.append(Check("name", FAIL, f"{dst_name} already has a guest with this UUID "
                            f"({dst.same_uuid[0]})"))
    else:
        checks.append(Check("name", PASS, f"no guest called {name} or with its UUID on "
                            f"{dst_name}"))
    return checks


async def _reach(dst: Host) -> Check:
    if dst.status is not HostStatus.CONNECTED or dst.conn is None:
        why = f": {dst.error}" if dst.error else ""
        return Check("destination", FAIL, f"{dst.name} is {dst.status.value}{why}")
    if dst.readonly:
        return Check("destination", FAIL, f"the connection to {dst.name} is read-only")
    conn = dst.conn
    try:
        alive = await asyncio.wait_for(dst.call(conn.getLibVersion), REACH_TIMEOUT)
    except TimeoutError:
        return Check("destination", FAIL, f"{dst.name} does not answer within "
                     f"{REACH_TIMEOUT:.0f} s")
    except libvirt.libvirtError as exc:
        return Check("destination", FAIL, f"{dst.name} does not answer: {libvirt_message(exc)}")
    facts = dst.facts
    driver = facts.driver if facts else ""
    return Check("destination", PASS, f"{dst.name} answers ({driver} libvirt "
                 f"{alive // 1000000}.{alive // 1000 % 1000})")


async def _inspect(host: Host, role: str, checks: list[Check], fn, *args):
    """fn(conn, *args) in host's threads, bounded; None (and a failed check) on error."""
    try:
        return await asyncio.wait_for(host.call(fn, host.require_conn(), *args),
                                      INSPECT_TIMEOUT)
    except VtuiError as exc:
        checks.append(Check(role, FAIL, exc.message))
    except TimeoutError:
        checks.append(Check(role, FAIL, f"{host.name} did not answer within "
                            f"{INSPECT_TIMEOUT:.0f} s"))
    except libvirt.libvirtError as exc:
        checks.append(Check(role, FAIL, f"cannot inspect {host.name}: {libvirt_message(exc)}"))
    return None


async def preflight(src_host: Host, guest: Guest, dst_host: Host,
                    options: MigrationOptions) -> list[Check]:
    """Every check that can be made before migrating; never changes either host."""
    checks: list[Check] = []
    problems = options.problems()
    checks.append(Check("options", FAIL, "; ".join(problems)) if problems
                  else Check("options", PASS, options.describe()))
    if src_host is dst_host:
        checks.append(Check("destination", FAIL, "source and destination are the same host"))
        return checks
    if src_host.readonly:
        checks.append(Check("source", FAIL, f"the connection to {src_host.name} is read-only"))
        return checks
    src = await _inspect(src_host, "source", checks, _read_source, guest.uuid)
    if src is None:
        return checks
    checks.append(_state_check(src, options))
    if src.snapshots:
        checks.append(Check("snapshots", WARN, f"has {src.snapshots} snapshot(s): libvirt may "
                            "refuse to migrate it"))
    reach = await _reach(dst_host)
    checks.append(reach)
    if reach.status == FAIL:
        return checks
    dst = await _inspect(dst_host, "destination", checks, _read_destination, guest.name,
                         guest.uuid, src, options.live)
    if dst is None:
        return checks
    checks += _identity_checks(src, dst, dst_host.name, guest.name, options)
    if options.live:
        checks.append(_memory_check(src, dst, dst_host.name))
    checks.append(_cpu_check(src, dst, src_host.name, dst_host.name))
    checks += _storage_checks(src, dst, dst_host.name, options)
    if options.peer_to_peer:
        checks.append(Check("peer-to-peer", PASS, f"{src_host.name} connects to "
                            f"{peer_uri(dst_host, options)} itself"))
    if options.live and options.post_copy:
        checks.append(Check("post-copy", WARN, "after the switch to post-copy, a broken link "
                            "loses the guest on both hosts"))
    if options.live and options.bandwidth_mib:
        eta = src.memory_kib * 1024 / (options.bandwidth_mib * 1024 * 1024)
        if eta > 600:
            checks.append(Check("bandwidth", WARN, f"{size(src.memory_kib * 1024)} at "
                                f"{options.bandwidth_mib} MiB/s takes over {eta / 60:.0f} min"))
    return checks
