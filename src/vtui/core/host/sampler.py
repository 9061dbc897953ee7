"""Per-host bookkeeping between two samples, and applying one bulk stats reply.

Runs in the host's worker thread (not on the asyncio loop) so that a 10,000-guest
reply never stalls the keys; it only changes fields of Guest objects that already
exist. New guests are built here and inserted by the loop, so the loop's view of the
guest dict never changes size under a reader.
"""

from __future__ import annotations

import time
from collections.abc import Container
from dataclasses import dataclass, field

import libvirt
import libvirtmod

from vtui.core.host.history import GuestHistory, samples_for
from vtui.core.host.stats import (
    ACTIVE_GROUPS,
    ACTIVE_ONLY,
    STATS_FLAGS,
    STATS_GROUPS,
    Counters,
    apply_rates,
    apply_record,
    counters_of,
)
from vtui.core.model import Guest

try:  # vtui's compiled module (setup.py); without it, libvirt-python does the reading
    from vtui.core.host import _domstats
except ImportError:
    _domstats = None  # type: ignore[assignment]

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
    # new guests whose record lacks vCPUs and memory (the test driver's): read after
    # their rows are shown, so connecting never waits for one call per guest
    needs_info: list[tuple[str, libvirt.virDomain]] = field(default_factory=list)
    # every guest was asked for: one missing from `seen` has gone
    everyone: bool = True


class Sampler:
    def __init__(self, host_name: str, interval: float = 2.0):
        self.host_name = host_name
        # running guests' recent numbers (a stopped guest's are dropped)
        self.history: dict[str, GuestHistory] = {}
        self.history_samples = samples_for(interval)
        self._counters: dict[str, Counters] = {}
        # uuid -> (the last record's values, whether it was already an identical repeat).
        # Its values only: a record's keys are new strings in every reply, and keeping
        # 10,000 records whole costs tens of MB; the keys come in a fixed order.
        self._last: dict[str, tuple[tuple, bool]] = {}
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

    def process(
        self, conn: libvirt.virConnect, guests: dict[str, Guest], records, began: float
    ) -> SampleResult:
        """Apply a bulk reply (bulk_stats); releases the domain references it holds."""
        result = SampleResult()
        # the hot loop of a big fleet: look-ups bound to locals once
        last_records, seen_add, guest_of = self._last.get, result.seen.add, guests.get
        kept = set()
        try:
            for uuid, name, rec, dom in records:
                guest = guest_of(uuid)
                if guest is None:
                    if dom is None:
                        continue  # forgotten (an event) since bulk_stats looked: next time
                    seen_add(uuid)
                    guest = self.new_guest(uuid, name)
                    if "vcpu.current" not in rec:  # the wrapper owns this reference now
                        result.needs_info.append((uuid, libvirt.virDomain(conn, _obj=dom)))
                        kept.add(id(dom))
                    self.update(guest, rec, began)
                    result.new.append(guest)
                    continue
                seen_add(uuid)
                last = last_records(uuid)
                if last is not None and last[1] and last[0] == tuple(rec.values()):
                    # nothing moved since a sample that already showed "no change" (a
                    # paused guest's graph still gets its point for this sample)
                    history = self.history.get(uuid)
                    if history is not None:
                        history.repeat_last(guest)
                    continue
                if self.update(guest, rec, began):
                    result.changed.add(uuid)
        finally:
            release = libvirtmod.virDomainFree
            for _uuid, _name, _rec, dom in records:
                if dom is not None and id(dom) not in kept:
                    release(dom)
        return result

    def update(self, guest: Guest, rec: dict, began: float) -> bool:
        """Apply one record; True when anything a view shows changed."""
        uuid = guest.uuid
        before = row_values(guest)
        last, values = self._last.get(uuid), tuple(rec.values())
        self._last[uuid] = (values, last is not None and last[0] == values)
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


def bulk_stats(
    conn: libvirt.virConnect, known: Container[str], *, active_only: bool = False
) -> list:
    """The host's bulk statistics as (uuid, name, record, domain) tuples: for a guest
    whose UUID is in `known`, name and domain are None; for any other, its name and a
    domain reference (a capsule) that process() releases or hands on. No Python
    virDomain object is made per guest: its __init__ and __del__ cost a big host more
    than the rest of a refresh. `active_only`: the running (and paused) guests only,
    without their vCPU group (stats.ACTIVE_GROUPS)."""
    flags, groups = STATS_FLAGS, STATS_GROUPS
    if active_only:
        flags, groups = STATS_FLAGS | ACTIVE_ONLY, ACTIVE_GROUPS
    if _domstats is not None:
        records = _domstats.domain_stats(conn._o, groups, flags, known)
    else:
        records = _through_libvirt_python(conn, known, flags, groups)
    if records is None:
        raise libvirt.libvirtError("virConnectGetAllDomainStats() failed")
    return records


def _through_libvirt_python(
    conn: libvirt.virConnect, known: Container[str], flags: int, groups: int
) -> list | None:
    """bulk_stats without vtui's compiled module (it could not be built here): the same
    tuples, at the cost of more libvirt calls per guest."""
    pairs = libvirtmod.virConnectGetAllDomainStats(conn._o, groups, flags)
    if pairs is None:
        return None
    records = []
    try:
        for dom, rec in pairs:
            uuid = libvirtmod.virDomainGetUUIDString(dom)
            if uuid in known:
                libvirtmod.virDomainFree(dom)
                records.append((uuid, None, rec, None))
            else:
                records.append((uuid, libvirtmod.virDomainGetName(dom), rec, dom))
    except BaseException:
        for dom, _rec in pairs[len(records) :]:
            libvirtmod.virDomainFree(dom)
        for _uuid, _name, _rec, dom in records:
            if dom is not None:
                libvirtmod.virDomainFree(dom)
        raise
    return records


def read_infos(guests: dict[str, Guest], pending: list[tuple[str, libvirt.virDomain]]) -> set[str]:
    """vCPUs and memory of guests whose stats lack them (the test driver's), one info()
    call each, made once when the guest is first seen; the UUIDs it filled in."""
    filled = set()
    for uuid, dom in pending:
        guest = guests.get(uuid)
        if guest is None:
            continue  # gone meanwhile
        try:
            info = dom.info()
        except libvirt.libvirtError:
            continue  # undefined meanwhile: the next sample drops it
        Sampler.apply_info(guest, info)
        filled.add(uuid)
    return filled


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


def read_guest(conn: libvirt.virConnect, name_or_uuid: str):
    """(uuid, name, info, persistent) of the guest of that name (or UUID), or None:
    three calls, for commands that act on one guest."""
    try:
        dom = conn.lookupByName(name_or_uuid)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
            raise
        try:
            dom = conn.lookupByUUIDString(name_or_uuid)
        except libvirt.libvirtError as again:
            if again.get_error_code() in (libvirt.VIR_ERR_NO_DOMAIN, libvirt.VIR_ERR_INVALID_ARG):
                return None
            raise
    try:
        return dom.UUIDString(), dom.name(), dom.info(), bool(dom.isPersistent())
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return None  # undefined just now
        raise
