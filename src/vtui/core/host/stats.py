"""Turn one getAllDomainStats record into guest numbers; rates from two samples.

One bulk call per host per tick returns counters (cpu time, bytes read...). A rate
is the counter's delta over the wall time between the two samples; a counter that
went backwards (guest restarted) gives no rate for that tick rather than a lie.
"""

from __future__ import annotations

from dataclasses import dataclass

import libvirt

from vtui.core.model import Guest
from vtui.core.states import PAUSED, reason_text, state_name

STATS_GROUPS = (
    libvirt.VIR_DOMAIN_STATS_STATE
    | libvirt.VIR_DOMAIN_STATS_CPU_TOTAL
    | libvirt.VIR_DOMAIN_STATS_BALLOON
    | libvirt.VIR_DOMAIN_STATS_VCPU
    | libvirt.VIR_DOMAIN_STATS_INTERFACE
    | libvirt.VIR_DOMAIN_STATS_BLOCK
)
# The vCPU group costs libvirtd about as much as the CPU totals (on QEMU a read of each
# vCPU thread's times; bench/stats_groups.py) and of it vtui needs only the count,
# which rarely moves: the samples that read active guests only leave it out; those
# that read everyone and the re-read of a guest after an event ask for it.
ACTIVE_GROUPS = STATS_GROUPS & ~libvirt.VIR_DOMAIN_STATS_VCPU
# NOWAIT: a guest busy in a long job is skipped for this tick instead of stalling all.
STATS_FLAGS = libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT
# most samples ask for the running guests only: a stopped guest's numbers do not move
ACTIVE_ONLY = libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE


@dataclass(slots=True)
class Counters:
    """Monotonic counters of one guest at one instant (monotonic clock seconds); None
    where the driver reports nothing (unknown is not zero)."""

    at: float
    cpu_ns: int | None
    rd_bytes: int | None
    wr_bytes: int | None
    rx_bytes: int | None
    tx_bytes: int | None


def _sum(record: dict, prefix: str, count_key: str, suffix: str) -> int | None:
    if count_key not in record:
        return None  # the driver has no such statistics (libvirt's test driver)
    total = 0
    for i in range(record[count_key]):
        total += record.get(f"{prefix}.{i}.{suffix}", 0)
    return total


def counters_of(record: dict, at: float) -> Counters:
    return Counters(
        at=at,
        cpu_ns=record.get("cpu.time"),
        rd_bytes=_sum(record, "block", "block.count", "rd.bytes"),
        wr_bytes=_sum(record, "block", "block.count", "wr.bytes"),
        rx_bytes=_sum(record, "net", "net.count", "rx.bytes"),
        tx_bytes=_sum(record, "net", "net.count", "tx.bytes"),
    )


def _rate(new: int | None, old: int | None, seconds: float) -> float | None:
    if new is None or old is None or seconds <= 0 or new < old:
        return None
    return (new - old) / seconds


def apply_record(guest: Guest, record: dict) -> None:
    """Fields a record states directly: state, reason, vCPUs, memory."""
    guest.state = state_name(record.get("state.state", 0))
    guest.reason = reason_text(guest.state, record.get("state.reason", 0))
    if "vcpu.current" in record:
        guest.vcpus = record["vcpu.current"]
    if "balloon.current" in record:
        guest.memory_kib = record["balloon.current"]
    if "balloon.maximum" in record:
        guest.memory_max_kib = record["balloon.maximum"]
    # Used is what the guest itself reports in use (its balloon driver), nothing else:
    # the QEMU process's resident set includes QEMU's own overhead, so it is kept apart.
    avail, unused = record.get("balloon.available"), record.get("balloon.unused")
    if avail is not None and unused is not None:
        guest.memory_used_kib = max(avail - unused, 0)
    else:
        guest.memory_used_kib = None
    guest.memory_rss_kib = record.get("balloon.rss") if guest.active else None


def apply_rates(guest: Guest, new: Counters, old: Counters | None) -> None:
    if not guest.active:
        guest.cpu_pct = guest.disk_rd_bps = guest.disk_wr_bps = None
        guest.net_rx_bps = guest.net_tx_bps = None
        return
    if old is None:
        if guest.state == PAUSED:
            guest.cpu_pct = 0.0
        return
    seconds = new.at - old.at
    cpu = _rate(new.cpu_ns, old.cpu_ns, seconds)
    if guest.state == PAUSED:
        guest.cpu_pct = 0.0  # not running now, whatever it did before the pause
    elif cpu is not None:
        # percent of the guest's own vCPUs: 100 means every vCPU busy
        guest.cpu_pct = min(cpu / 1e9 / max(guest.vcpus, 1) * 100.0, 100.0)
    guest.disk_rd_bps = _rate(new.rd_bytes, old.rd_bytes, seconds)
    guest.disk_wr_bps = _rate(new.wr_bytes, old.wr_bytes, seconds)
    guest.net_rx_bps = _rate(new.rx_bytes, old.rx_bytes, seconds)
    guest.net_tx_bps = _rate(new.tx_bytes, old.tx_bytes, seconds)
