"""Per-host bookkeeping between two samples, and applying one bulk stats reply.

Runs in the host's worker thread (not on the asyncio loop) so that a 10,000-guest
reply never stalls the keys; it only changes fields of Guest objects that already
exist. New guests are built here and inserted by the loop, so the loop's view of the
guest dict never changes size under a reader.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import libvirt

from vtui.core.host.history import GuestHistory, samples_for
from vtui.core.host.stats import (
    STATS_FLAGS,
    STATS_GROUPS,
    Counters,
    apply_rates,
    apply_record,
    counters_of,
)
from vtui.core.model import Guest

HISTORY = 60  # samples of CPU history the main screen shows per guest and host


def row_values(g: Guest) -> tuple:
    """Everything a view shows of a guest: a change here means redraw its row."""
    return (
        g.name,
        g.state,
        g.reason,
        g.vcpus,
        g.memory_kib,
        g.memory_used_kib,
        g.cpu_pct,
        g.disk_rd_bps,
        g.disk_wr_bps,
        g.net_rx_bps,
        g.net_tx_bps,
        g.started_at,
        g.persistent,
        g.autostart,
        g.has_managed_save,
    )


@dataclass(slots=True)
class SampleResult:
    changed: set[str] = field(default_factory=set)
    new: list[Guest] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)


class Sampler:
    def __init__(self, host_name: str, interval: float = 2.0):
        self.host_name = host_name
        # running guests' recent numbers (a stopped guest's are dropped)
        self.history: dict[str, GuestHistory] = {}
        self.history_samples = samples_for(interval)
        self._counters: dict[str, Counters] = {}
        # uuid -> (last record, whether it was already an identical repeat)
        self._last: dict[str, tuple[dict, bool]] = {}
        self._event_at: dict[str, float] = {}

    def new_guest(self, uuid: str, name: str) -> Guest:
        """A guest seen for the first time; its record fills in the rest."""
        return Guest(uuid=uuid, name=name, host=self.host_name, state="")

    def note_event(self, uuid: str) -> None:
        """A lifecycle event is newer than any sample already in flight."""
        self._event_at[uuid] = time.monotonic()

    def event_since(self, uuid: str, began: float) -> bool:
        return self._event_at.get(uuid, 0.0) > began

    def forget(self, uuid: str) -> None:
        for table in (self.history, self._counters, self._last, self._event_at):
            table.pop(uuid, None)

    def reset_rates(self) -> None:
        """After a reconnect the counters may have moved on without us."""
        self._counters.clear()
        self._last.clear()

    def process(self, guests: dict[str, Guest], records, began: float, info_of) -> SampleResult:
        result = SampleResult()
        # the hot loop of a big fleet: look-ups bound to locals once
        last_records, seen_add, guest_of = self._last.get, result.seen.add, guests.get
        for dom, rec in records:
            uuid = dom.UUIDString()
            seen_add(uuid)
            guest = guest_of(uuid)
            if guest is None:
                guest = self.new_guest(uuid, dom.name())
                self.apply_info(guest, info_of(dom, rec))
                self.update(guest, rec, began)
                result.new.append(guest)
                continue
            last = last_records(uuid)
            if last is not None and last[1] and last[0] == rec:
                continue  # nothing moved since a sample that already showed "no change"
            if self.update(guest, rec, began):
                result.changed.add(uuid)
        return result

    def update(self, guest: Guest, rec: dict, began: float) -> bool:
        """Apply one record; True when anything a view shows changed."""
        uuid = guest.uuid
        before = row_values(guest)
        last = self._last.get(uuid)
        self._last[uuid] = (rec, last is not None and last[0] == rec)
        if self.event_since(uuid, began) and guest.state:
            # the event that arrived meanwhile knows the state better than this record
            # (unless the guest is new: a "defined" event says no state at all)
            state, reason = guest.state, guest.reason
            apply_record(guest, rec)
            guest.state, guest.reason = state, reason
        else:
            apply_record(guest, rec)
        counters = counters_of(rec, began)
        apply_rates(guest, counters, self._counters.get(uuid))
        self._counters[uuid] = counters
        if not guest.active:
            guest.started_at = None
            self._counters.pop(uuid, None)
            self.history.pop(uuid, None)
        else:
            history = self.history.get(uuid)
            if history is None:
                history = self.history[uuid] = GuestHistory(self.history_samples)
            history.append(guest)
        return before != row_values(guest)

    @staticmethod
    def apply_info(guest: Guest, info) -> None:
        if info is None:
            return
        _state, max_kib, cur_kib, vcpus, _cpu = info
        guest.vcpus, guest.memory_kib, guest.memory_max_kib = vcpus, cur_kib, max_kib


def info_if_needed(dom: libvirt.virDomain, rec: dict):
    """Drivers whose stats lack vCPUs/memory (the test driver) need one info() call,
    made once when the guest is first seen."""
    return dom.info() if "vcpu.current" not in rec else None


def read_flags(conn: libvirt.virConnect) -> dict[str, set[str]]:
    """UUIDs of the persistent, autostarting and managed-saved guests: three calls
    for the whole host instead of three per guest."""

    def uuids(flag):
        return {d.UUIDString() for d in conn.listAllDomains(flag)}

    return {
        "persistent": uuids(libvirt.VIR_CONNECT_LIST_DOMAINS_PERSISTENT),
        "autostart": uuids(libvirt.VIR_CONNECT_LIST_DOMAINS_AUTOSTART),
        "managed_save": uuids(libvirt.VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE),
    }


def read_one_guest(conn: libvirt.virConnect, uuid: str):
    """One guest after an event: (name, record, info, persistent, autostart, managed
    save), or None when it no longer exists."""
    try:
        dom = conn.lookupByUUIDString(uuid)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return None
        raise
    stats = conn.domainListGetStats([dom], STATS_GROUPS, STATS_FLAGS)
    rec = stats[0][1] if stats else {}
    persistent = bool(dom.isPersistent())
    return (
        dom.name(),
        rec,
        dom.info(),
        persistent,
        bool(dom.autostart()) if persistent else False,
        bool(dom.hasManagedSaveImage()),
    )
