"""Plain data the core hands to the UI and to scripts: guests and host facts."""

from __future__ import annotations

from dataclasses import dataclass, field

from vtui.core.states import ACTIVE_STATES


@dataclass(slots=True)
class Guest:
    """One guest as last seen. Rates are per second; None means not known yet."""

    uuid: str
    name: str
    host: str
    state: str
    reason: str = ""
    vcpus: int = 0
    memory_kib: int = 0  # assigned (balloon current, or the definition)
    memory_max_kib: int = 0
    memory_used_kib: int | None = None  # in use inside the guest (balloon), if it says
    memory_rss_kib: int | None = None  # resident memory of its QEMU process on the host
    cpu_pct: float | None = None
    disk_rd_bps: float | None = None
    disk_wr_bps: float | None = None
    net_rx_bps: float | None = None
    net_tx_bps: float | None = None
    started_at: float | None = None  # wall clock, when known
    persistent: bool = True
    autostart: bool = False
    has_managed_save: bool = False

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES


@dataclass(slots=True)
class NumaCell:
    id: int
    total_kib: int
    free_kib: int | None = None
    cpus: tuple[int, ...] = ()  # the host CPU ids of this cell


@dataclass(slots=True)
class Ksm:
    """Kernel same-page merging, from virNodeGetMemoryParameters."""

    pages_shared: int
    pages_sharing: int
    full_scans: int
    running: bool
    page_size: int = 4096
    # None where the host's libvirt does not report the value
    pages_unshared: int | None = None
    pages_volatile: int | None = None
    pages_to_scan: int | None = None  # tunable: pages scanned per wake-up
    sleep_millisecs: int | None = None  # tunable: pause between wake-ups
    merge_across_nodes: bool | None = None  # tunable: merge pages of different NUMA nodes
    # True when `running` was read from the host's /sys/kernel/mm/ksm/run; False when it
    # is guessed from progress (libvirt does not report the run switch)
    running_known: bool = False

    @property
    def saved_bytes(self) -> int:
        # every "sharing" page beyond the one kept is memory not spent
        return max(self.pages_sharing, 0) * self.page_size


@dataclass(slots=True)
class HostFacts:
    """What a host is (static) and how it is doing (refreshed each sample)."""

    hostname: str = ""
    driver: str = ""
    libvirt_version: str = ""
    hypervisor_version: str = ""
    arch: str = ""
    cpu_model: str = ""
    cpus: int = 0
    mhz: int = 0
    sockets: int = 0
    cores: int = 0
    threads: int = 0
    kvm: bool = False
    memory_total_kib: int = 0
    memory_used_kib: int | None = None
    cpu_pct: float | None = None
    numa: list[NumaCell] = field(default_factory=list)
    ksm: Ksm | None = None
    ksm_error: str = ""
