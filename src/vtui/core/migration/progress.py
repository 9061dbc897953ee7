"""How far a migration got (progress from libvirt's job statistics) and how it ended.
Nothing here talks to libvirt."""

from __future__ import annotations

from dataclasses import dataclass

from vtui.core.units import size

# job states
RUNNING, COMPLETED, FAILED, CANCELLED = "running", "completed", "failed", "cancelled"
# phases shown while running (then the final state)
STARTING, SETUP, COPYING_STORAGE, COPYING_MEMORY = (
    "starting",
    "setting up",
    "copying storage",
    "copying memory",
)
CONVERGING, POST_COPY, CANCELLING = "re-sending dirty memory", "post-copy", "cancelling"


@dataclass(slots=True)
class MigrationProgress:
    """One sample of a running migration (bytes, bytes/s, seconds)."""

    phase: str = STARTING
    elapsed: float = 0.0
    data_total: int = 0
    data_processed: int = 0
    data_remaining: int = 0
    memory_total: int = 0
    memory_processed: int = 0
    memory_remaining: int = 0
    disk_total: int = 0
    disk_processed: int = 0
    disk_remaining: int = 0
    transfer_bps: float | None = None
    dirty_bps: float | None = None
    iteration: int = 0
    expected_downtime_ms: int | None = None
    eta: float | None = None

    @property
    def fraction(self) -> float | None:
        """How much of what is left to send has been sent, 0..1 (None before it is known)."""
        if not self.data_total:
            return None
        return min(max(1 - self.data_remaining / self.data_total, 0.0), 1.0)


@dataclass(slots=True)
class MigrationSummary:
    total_seconds: float
    downtime_ms: int | None
    data_bytes: int
    memory_bytes: int
    disk_bytes: int
    iterations: int

    @property
    def average_bps(self) -> float | None:
        return self.data_bytes / self.total_seconds if self.total_seconds > 0 else None

    def line(self) -> str:
        downtime = "-" if self.downtime_ms is None else f"{self.downtime_ms} ms"
        return f"{size(self.data_bytes)} moved in {self.total_seconds:.1f} s, downtime {downtime}"


def phase_of(stats: dict, post_copy: bool) -> str:
    """The phase of a running migration, from its job statistics."""
    if post_copy:
        return POST_COPY
    if not stats.get("data_total") and not stats.get("disk_total"):
        return SETUP
    if stats.get("disk_remaining", 0) > 0 and not stats.get("memory_processed"):
        return COPYING_STORAGE  # disks are mirrored before memory moves
    return CONVERGING if stats.get("memory_iteration", 0) >= 2 else COPYING_MEMORY


def progress_from_stats(
    stats: dict, phase: str, elapsed: float, last: MigrationProgress | None
) -> MigrationProgress:
    """Turn virDomainGetJobStats' dict into a MigrationProgress."""
    p = MigrationProgress(phase=phase, elapsed=elapsed)
    for key in (
        "data_total",
        "data_processed",
        "data_remaining",
        "memory_total",
        "memory_processed",
        "memory_remaining",
        "disk_total",
        "disk_processed",
        "disk_remaining",
    ):
        setattr(p, key, int(stats.get(key, 0)))
    p.iteration = int(stats.get("memory_iteration", 0))
    if "downtime" in stats:
        p.expected_downtime_ms = int(stats["downtime"])
    rate = stats.get("memory_bps", 0) + stats.get("disk_bps", 0)
    if not rate and last is not None and elapsed > last.elapsed:
        rate = max(p.data_processed - last.data_processed, 0) / (elapsed - last.elapsed)
    p.transfer_bps = float(rate) if rate else None
    if stats.get("memory_dirty_rate"):
        p.dirty_bps = float(stats["memory_dirty_rate"] * stats.get("memory_page_size", 4096))
    if p.transfer_bps and p.data_total:
        p.eta = p.data_remaining / p.transfer_bps
    return p
