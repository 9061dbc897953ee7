"""Host facts: read once at connect (what the host is) and per sample (how it is).

All functions here block on libvirt and run in the host's worker threads. Over a
remote link every call costs a round trip (libvirt-python asks for the number of
node CPU or memory statistics before it reads them: two each), so a sample reads
only what changes quickly (CPU, memory); NUMA free memory and KSM, which move
slowly and are shown only in the host's details, are read every few samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import libvirt

from vtui.core.host.nodestats import NodeStats
from vtui.core.model import HostFacts, Ksm, NumaCell


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
    from lxml import etree  # here: a command that reads no facts does not pay for it

    caps = etree.fromstring(conn.getCapabilities().encode())
    facts.cpu_model = caps.findtext("host/cpu/model") or arch
    facts.kvm = bool(caps.xpath("guest/arch/domain[@type='kvm']"))
    for cell in caps.iterfind("host/topology/cells/cell"):
        mem = cell.find("memory")
        kib = memory_kib(mem) if mem is not None else 0
        cpus = tuple(int(c.get("id", "0")) for c in cell.iterfind("cpus/cpu"))
        facts.numa.append(NumaCell(id=int(cell.get("id", "0")), total_kib=kib, cpus=cpus))
    return facts


def memory_kib(elem) -> int:
    value = int(elem.text or 0)
    unit = (elem.get("unit") or "KiB").lower()
    scale = {
        "b": 1 / 1024,
        "bytes": 1 / 1024,
        "kib": 1,
        "k": 1,
        "mib": 1024,
        "m": 1024,
        "gib": 1024**2,
        "g": 1024**2,
    }
    return int(value * scale.get(unit, 1))


@dataclass(slots=True)
class CpuTimes:
    busy_ns: int
    total_ns: int


def cpu_percent(new: CpuTimes | None, old: CpuTimes | None) -> float | None:
    if new is None or old is None or new.total_ns <= old.total_ns:
        return None
    busy = max(new.busy_ns - old.busy_ns, 0)
    return min(100.0 * busy / (new.total_ns - old.total_ns), 100.0)


class HostProbe:
    """Reads a host's changing numbers each sample. A call the driver does not support
    is not made again: over a slow link every round trip costs the whole latency."""

    def __init__(self):
        self.unsupported: set[str] = set()
        self.cpu: CpuTimes | None = None
        self.node = NodeStats()

    def _call(self, conn: libvirt.virConnect, name: str, *args):
        """conn.<name>(*args), or None when this driver lacks it (now or before)."""
        if name in self.unsupported:
            return None
        try:
            if name == "getCPUStats":
                return self.node.cpu(conn)
            if name == "getMemoryStats":
                return self.node.memory(conn)
            return getattr(conn, name)(*args)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() in (
                libvirt.VIR_ERR_NO_SUPPORT,
                libvirt.VIR_ERR_OPERATION_UNSUPPORTED,
            ):
                self.unsupported.add(name)
                return None
            raise

    def refresh(self, conn: libvirt.virConnect, facts: HostFacts, *, full: bool = True) -> None:
        """Update the changing numbers of `facts` in place (a worker thread); `full`
        also reads the slow ones (NUMA free memory, KSM)."""
        stats = self._call(conn, "getCPUStats", libvirt.VIR_NODE_CPU_STATS_ALL_CPUS)
        cpu = None
        if stats is not None:
            idle = stats.get("idle", 0) + stats.get("iowait", 0)
            busy = stats.get("kernel", 0) + stats.get("user", 0)
            cpu = CpuTimes(busy_ns=busy, total_ns=busy + idle)
        facts.cpu_pct = cpu_percent(cpu, self.cpu)
        self.cpu = cpu
        facts.memory_used_kib = self._memory_used(conn, facts.memory_total_kib)
        if full:
            self._numa_free(conn, facts.numa)
            facts.ksm, facts.ksm_error = self._ksm(conn, facts.ksm)

    def _memory_used(self, conn: libvirt.virConnect, total_kib: int) -> int | None:
        stats = self._call(conn, "getMemoryStats", libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS)
        if stats is None:  # drivers without memory stats still know the free memory
            free = self._call(conn, "getFreeMemory")
            # 0 free bytes is what a driver that does not know says (the test driver):
            # "unknown", not "100% used"
            return None if not free else max(total_kib - free // 1024, 0)
        reclaimable = stats.get("free", 0) + stats.get("buffers", 0) + stats.get("cached", 0)
        return max(stats.get("total", total_kib) - reclaimable, 0)

    def _numa_free(self, conn: libvirt.virConnect, cells: list[NumaCell]) -> None:
        if not cells:
            return
        free = self._call(conn, "getCellsFreeMemory", 0, len(cells))
        for cell, free_bytes in zip(cells, free or ()):
            cell.free_kib = min(free_bytes // 1024, cell.total_kib)

    def _ksm(self, conn: libvirt.virConnect, last: Ksm | None) -> tuple[Ksm | None, str]:
        """KSM counters, or None and why. 'Running' = the scanner made progress or
        pages are merged; libvirt does not expose /sys/kernel/mm/ksm/run itself."""
        params = self._call(conn, "getMemoryParameters")
        if params is None:
            return None, "not available (this host's driver does not report it)"
        if "shm_pages_shared" not in params:
            return None, "not available on this host"
        ksm = ksm_from_params(params)
        ksm.running = ksm.running or (last is not None and ksm.full_scans > last.full_scans)
        return ksm, ""


def ksm_from_params(params: dict) -> Ksm:
    """KSM as virNodeGetMemoryParameters reports it (`params` has shm_pages_shared).
    `running` is a guess here: pages are being shared (see Ksm.running_known)."""
    merge = params.get("shm_merge_across_nodes")
    return Ksm(
        pages_shared=params.get("shm_pages_shared", 0),
        pages_sharing=params.get("shm_pages_sharing", 0),
        full_scans=params.get("shm_full_scans", 0),
        running=bool(params.get("shm_pages_sharing", 0)),
        pages_unshared=params.get("shm_pages_unshared"),
        pages_volatile=params.get("shm_pages_volatile"),
        pages_to_scan=params.get("shm_pages_to_scan"),
        sleep_millisecs=params.get("shm_sleep_millisecs"),
        merge_across_nodes=None if merge is None else bool(merge),
    )
