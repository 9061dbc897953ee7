"""The stable machine-readable shape of guests and hosts (see docs/json.md).

Every size is in bytes, every rate in bytes per second, CPU in percent, times in
seconds; unknown values are None (null in JSON, an empty cell in CSV). Field names
and meanings only ever grow: a change that breaks scripts bumps FORMAT_VERSION.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vtui.core.host import Host
    from vtui.core.model import Guest

FORMAT_VERSION = 1

GUEST_FIELDS = (
    "host",
    "name",
    "uuid",
    "state",
    "reason",
    "vcpus",
    "memory_bytes",
    "memory_max_bytes",
    "memory_used_bytes",
    "memory_rss_bytes",
    "cpu_percent",
    "disk_read_bytes_per_sec",
    "disk_write_bytes_per_sec",
    "net_rx_bytes_per_sec",
    "net_tx_bytes_per_sec",
    "uptime_seconds",
    "started_at",
    "autostart",
    "persistent",
    "managed_save",
)


def _bytes(kib: int | None) -> int | None:
    return None if kib is None else int(kib) * 1024


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def iso_time(epoch: float | None) -> str | None:
    """UTC, second precision, e.g. 2025-01-31T12:00:00Z."""
    if epoch is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def guest_record(guest: Guest, now: float | None = None) -> dict:
    now = time.time() if now is None else now
    uptime = None
    if guest.active and guest.started_at is not None:
        uptime = max(int(now - guest.started_at), 0)
    return {
        "host": guest.host,
        "name": guest.name,
        "uuid": guest.uuid,
        "state": guest.state,
        "reason": guest.reason,
        "vcpus": guest.vcpus,
        "memory_bytes": _bytes(guest.memory_kib),
        "memory_max_bytes": _bytes(guest.memory_max_kib or guest.memory_kib),
        "memory_used_bytes": _bytes(guest.memory_used_kib),
        "memory_rss_bytes": _bytes(guest.memory_rss_kib),
        "cpu_percent": _pct(guest.cpu_pct),
        "disk_read_bytes_per_sec": _rate(guest.disk_rd_bps),
        "disk_write_bytes_per_sec": _rate(guest.disk_wr_bps),
        "net_rx_bytes_per_sec": _rate(guest.net_rx_bps),
        "net_tx_bytes_per_sec": _rate(guest.net_tx_bps),
        "uptime_seconds": uptime,
        "started_at": iso_time(guest.started_at) if guest.active else None,
        "autostart": guest.autostart,
        "persistent": guest.persistent,
        "managed_save": guest.has_managed_save,
    }


def counts_by_state(host: Host) -> dict[str, int]:
    return dict(sorted(host.counts_by_state().items()))


def host_record(host: Host) -> dict:
    facts = host.facts
    assert facts is not None, "only connected hosts have facts"
    active = [g for g in host.guests.values() if g.active]
    vcpu_ratio, memory_ratio = host.commitment()
    ksm = None
    if facts.ksm is not None:
        ksm = {
            "running": facts.ksm.running,
            "pages_shared": facts.ksm.pages_shared,
            "pages_sharing": facts.ksm.pages_sharing,
            "full_scans": facts.ksm.full_scans,
            "saved_bytes": facts.ksm.saved_bytes,
            "pages_unshared": facts.ksm.pages_unshared,
            "pages_volatile": facts.ksm.pages_volatile,
            "pages_to_scan": facts.ksm.pages_to_scan,
            "sleep_millisecs": facts.ksm.sleep_millisecs,
            "merge_across_nodes": facts.ksm.merge_across_nodes,
        }
    return {
        "name": host.name,
        "uri": host.uri,
        "readonly": host.readonly,
        "hostname": facts.hostname,
        "driver": facts.driver,
        "libvirt_version": facts.libvirt_version,
        "hypervisor_version": facts.hypervisor_version,
        "arch": facts.arch,
        "cpu_model": facts.cpu_model,
        "cpus": facts.cpus,
        "mhz": facts.mhz,
        "sockets": facts.sockets,
        "cores_per_socket": facts.cores,
        "threads_per_core": facts.threads,
        "kvm": facts.kvm,
        "cpu_percent": _pct(facts.cpu_pct),
        "memory_total_bytes": _bytes(facts.memory_total_kib),
        "memory_used_bytes": _bytes(facts.memory_used_kib),
        "numa_cells": [
            {
                "id": c.id,
                "memory_total_bytes": _bytes(c.total_kib),
                "memory_free_bytes": _bytes(c.free_kib),
                "cpus": list(c.cpus),
            }
            for c in facts.numa
        ],
        "ksm": ksm,
        "ksm_unavailable_reason": (facts.ksm_error or "not available") if ksm is None else None,
        "guests_total": len(host.guests),
        "guests_by_state": counts_by_state(host),
        "active_vcpus": sum(g.vcpus for g in active),
        "active_memory_bytes": sum(_bytes(g.memory_max_kib or g.memory_kib) for g in active),
        "vcpu_commitment": None if vcpu_ratio is None else round(vcpu_ratio, 3),
        "memory_commitment": None if memory_ratio is None else round(memory_ratio, 3),
    }


def error_record(host: Host, message: str) -> dict:
    return {"host": host.name, "uri": host.uri, "message": message}
