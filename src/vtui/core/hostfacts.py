"""Host facts: read once at connect (what the host is) and per sample (how it is).

All functions here block on libvirt and run in the host's worker threads.
"""

from __future__ import annotations

from dataclasses import dataclass

import libvirt
from lxml import etree

from .errors import libvirt_message
from .model import HostFacts, Ksm, NumaCell


def version_text(number: int) -> str:
    return f"{number // 1000000}.{number // 1000 % 1000}.{number % 1000}"


def read_static(conn: libvirt.virConnect) -> HostFacts:
    facts = HostFacts()
    facts.hostname = conn.getHostname()
    facts.driver = conn.getType()
    facts.libvirt_version = version_text(conn.getLibVersion())
    try:
        facts.hypervisor_version = version_text(conn.getVersion())
    except libvirt.libvirtError:
        facts.hypervisor_version = ""
    arch, mem_mib, cpus, mhz, nodes, sockets, cores, threads = conn.getInfo()
    facts.arch, facts.cpus, facts.mhz = arch, cpus, mhz
    # getInfo counts sockets per NUMA node
    facts.sockets, facts.cores, facts.threads = sockets * max(nodes, 1), cores, threads
    facts.memory_total_kib = mem_mib * 1024
    caps = etree.fromstring(conn.getCapabilities().encode())
    facts.cpu_model = caps.findtext("host/cpu/model") or arch
    facts.kvm = bool(caps.xpath("guest/arch/domain[@type='kvm']"))
    for cell in caps.iterfind("host/topology/cells/cell"):
        mem = cell.find("memory")
        kib = _kib(mem) if mem is not None else 0
        facts.numa.append(NumaCell(id=int(cell.get("id", "0")), total_kib=kib))
    return facts


def _kib(elem) -> int:
    value = int(elem.text or 0)
    unit = (elem.get("unit") or "KiB").lower()
    scale = {"b": 1 / 1024, "bytes": 1 / 1024, "kib": 1, "k": 1, "mib": 1024, "m": 1024,
             "gib": 1024**2, "g": 1024**2}
    return int(value * scale.get(unit, 1))


@dataclass(slots=True)
class CpuTimes:
    busy_ns: int
    total_ns: int


def read_cpu_times(conn: libvirt.virConnect) -> CpuTimes | None:
    try:
        stats = conn.getCPUStats(libvirt.VIR_NODE_CPU_STATS_ALL_CPUS)
    except libvirt.libvirtError:
        return None
    idle = stats.get("idle", 0) + stats.get("iowait", 0)
    busy = stats.get("kernel", 0) + stats.get("user", 0)
    return CpuTimes(busy_ns=busy, total_ns=busy + idle)


def cpu_percent(new: CpuTimes | None, old: CpuTimes | None) -> float | None:
    if new is None or old is None or new.total_ns <= old.total_ns:
        return None
    busy = max(new.busy_ns - old.busy_ns, 0)
    return min(100.0 * busy / (new.total_ns - old.total_ns), 100.0)


def read_memory_used(conn: libvirt.virConnect, total_kib: int) -> int | None:
    try:
        stats = conn.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS)
    except libvirt.libvirtError:
        try:  # drivers without memory stats still know the free memory
            return max(total_kib - conn.getFreeMemory() // 1024, 0)
        except libvirt.libvirtError:
            return None
    reclaimable = stats.get("free", 0) + stats.get("buffers", 0) + stats.get("cached", 0)
    return max(stats.get("total", total_kib) - reclaimable, 0)


def read_numa_free(conn: libvirt.virConnect, cells: list[NumaCell]) -> None:
    if not cells:
        return
    try:
        free = conn.getCellsFreeMemory(0, len(cells))
    except libvirt.libvirtError:
        return
    for cell, free_bytes in zip(cells, free):
        cell.free_kib = min(free_bytes // 1024, cell.total_kib)


def read_ksm(conn: libvirt.virConnect, last: Ksm | None) -> tuple[Ksm | None, str]:
    """KSM counters, or None and why. 'Running' = the scanner made progress or
    pages are merged; libvirt does not expose /sys/kernel/mm/ksm/run itself."""
    try:
        params = conn.getMemoryParameters()
    except libvirt.libvirtError as exc:
        return None, "not available (" + libvirt_message(exc) + ")"
    if "shm_pages_shared" not in params:
        return None, "not available on this host"
    scans = params.get("shm_full_scans", 0)
    ksm = Ksm(
        pages_shared=params.get("shm_pages_shared", 0),
        pages_sharing=params.get("shm_pages_sharing", 0),
        full_scans=scans,
        running=bool(params.get("shm_pages_sharing", 0))
        or (last is not None and scans > last.full_scans),
    )
    return ksm, ""


def refresh_dynamic(conn: libvirt.virConnect, facts: HostFacts, last_cpu: CpuTimes | None):
    """Update the changing numbers in place; returns the new CPU counters."""
    cpu = read_cpu_times(conn)
    facts.cpu_pct = cpu_percent(cpu, last_cpu)
    facts.memory_used_kib = read_memory_used(conn, facts.memory_total_kib)
    read_numa_free(conn, facts.numa)
    facts.ksm, facts.ksm_error = read_ksm(conn, facts.ksm)
    return cpu
