"""One libvirt host: its connection, worker threads, inventory and sampler.

Every libvirt call runs in this host's own thread pool and is awaited, so a slow
or dead host never blocks the asyncio loop, the keys, or the other hosts.
Lifecycle events arrive on libvirt's event thread and are handed to the loop.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any, NoReturn
from urllib.parse import urlsplit

import libvirt

from vtui.core.errors import VtuiError, libvirt_message
from vtui.core.host import details, uptime
from vtui.core.host import facts as hostfacts
from vtui.core.host.events import ensure_event_loop
from vtui.core.host.history import CpuHistoryView, GuestHistory
from vtui.core.host.link import WORKERS, HostLink
from vtui.core.host.resource_events import ResourceEvents
from vtui.core.host.sampler import (
    HISTORY,
    Sampler,
    bulk_stats,
    read_flags,
    read_guest,
    read_one_guest,
)
from vtui.core.host.state import Change, HostStatus, Tunnel
from vtui.core.model import Guest, HostFacts
from vtui.core.states import EVENT_STATE, event_name, state_name
from vtui.core.timeouts import CONNECT_TIMEOUT
from vtui.core.uri import display_name, test_driver_file_missing

FLAGS_EVERY = 60.0  # seconds between re-reads of persistent/autostart/managed-save flags
KEEPALIVE = (5, 3)  # seconds between probes, missed probes before the link is dead
SLOW_FACTS_EVERY = 5  # samples between reads of NUMA free memory and KSM
# Samples between ones that also read the stopped guests. In between, events keep them
# right (each one re-reads its guest); this catches what no event reports (a config
# changed while stopped) and what a lost event would leave wrong.
EVERYONE_EVERY = 5


def memory_percent(facts: HostFacts | None) -> float:
    """How full the host's memory is, in percent (0 when not known)."""
    if facts is None or facts.memory_used_kib is None or not facts.memory_total_kib:
        return 0.0
    return min(100.0 * facts.memory_used_kib / facts.memory_total_kib, 100.0)


class Host(HostLink):
    def __init__(
        self,
        uri: str,
        *,
        name: str | None = None,
        readonly: bool = False,
        interval: float = 2.0,
        connect_timeout: float = CONNECT_TIMEOUT,
        tunnel: Tunnel | None = None,
    ):
        # libvirt's test driver runs inside this process and is not safe under concurrent
        # calls (seen crashing the process): one thread for it, so calls take turns
        workers = 1 if urlsplit(uri).scheme == "test" else WORKERS
        super().__init__(name or display_name(uri), tunnel, workers)
        self.uri = uri  # what the user asked for (shown); the tunnel may open another
        self.readonly = readonly
        self.interval = interval
        self.connect_timeout = connect_timeout
        self.guests: dict[str, Guest] = {}
        self.facts: HostFacts | None = None
        self.cpu_history: deque[float] = deque(maxlen=HISTORY)
        self.memory_history: deque[float] = deque(maxlen=HISTORY)  # % of memory in use
        self.last_sample_at: float | None = None  # wall clock of the last good sample
        self.sample_seconds = 0.0  # how long the last sample took
        self.paused = False  # a hidden view may stop the sampler
        # samples between reads of the host's own CPU and memory (two round trips): a
        # big fleet reads the hosts nobody looks at less often (Fleet.focus)
        self.numbers_every = 1
        self.follow_events = True  # False: a command that does not wait ignores events
        self._sampler = Sampler(self.name, interval)
        self._probe = hostfacts.HostProbe()
        self._flags_dirty = True
        self._flags_at = 0.0
        self._samples = 0
        self._everyone_due = True  # the next sample reads the stopped guests too
        self.resource_events = ResourceEvents(self)  # pool/network/nodedev events
        # False: their callbacks are not registered (four round trips a command that
        # lists nothing of the kind has no use for)
        self.watch_resources = True
        self._details: set[asyncio.Task] = set()  # info and start times being filled in
        # A sample and the facts read one after the other, never at once (host numbers
        # beside the bulk call crashed libvirt's in-process test driver).
        self._reading = asyncio.Lock()
        # What is filled in after the rows waits for this (a fleet: every host's rows)
        self.details_after: asyncio.Future | None = None

    # -- connecting -----------------------------------------------------------------
    async def connect(self, *, inventory: bool = True, facts: bool = True) -> None:
        """Open the connection and, with `inventory`, take the first sample: the guest
        rows, published at once. Then, with `facts`, read what the host is (hostname,
        versions, CPU, NUMA...) and its load: the rows never wait for it. A command
        that needs less asks for less: each read is a round trip to a remote host.
        Returns with everything read, except in a fleet (details_after set): there
        what is filled in after the rows (details_known) may still be on its way.
        Raises VtuiError."""
        ensure_event_loop()
        self._loop = asyncio.get_running_loop()
        run_ahead = getattr(self.tunnel, "run_ahead", None)
        if inventory and run_ahead is not None and uptime.remote_applies(self.uri):
            run_ahead(uptime.REMOTE_COMMAND)  # the guests' start times, beside the opening
        self.status = HostStatus.CONNECTING
        self.publish(Change(self, host_changed=True))
        try:
            await self._open()
        except VtuiError as exc:
            self._fail(exc.message)
        except TimeoutError:
            probe = getattr(self.tunnel, "silence_reason", None)
            why = await probe() if probe is not None else None
            if why:  # something answered, only not as an SSH server
                self._fail(f"cannot reach {self.name}: {why}")
            self._fail(f"no answer from {self.uri} within {self.connect_timeout:.0f} s")
        except libvirt.libvirtError as exc:
            self._fail(f"cannot connect to {self.uri}: {libvirt_message(exc)}")
        self.status = HostStatus.CONNECTED
        self.error = ""
        if inventory:
            # the rows first: the guests' flags (three more calls) come with the details
            self._flags_dirty, self._flags_at = False, time.monotonic()
            await self.sample()
            self._fill_in(details.read_flags(self))
            # pool/network/device events only matter once a host screen lists them:
            # their four round trips come after the rows, not before
            self._fill_in(self._watch_resources())
        else:
            await self._watch_resources()
        if facts:
            try:
                await self.read_facts()
            except libvirt.libvirtError as exc:
                self._fail(f"cannot read the host's facts: {libvirt_message(exc)}")
        if inventory and self.details_after is None:
            # alone (not in a fleet that shows every host's rows first): return with
            # everything read, as a caller expects
            await self.details_known()

    async def read_facts(self) -> None:
        """What the host is, and its load now (CPU % needs a second sample)."""
        async with self._reading:
            self.facts = await self.call(self._facts_blocking, self.require_conn())
        self.publish(Change(self, host_changed=True))

    def _facts_blocking(self, conn: libvirt.virConnect) -> HostFacts:
        facts = hostfacts.read_static(conn)
        self._probe.refresh(conn, facts)
        return facts

    async def _after_rows(self, coro) -> None:
        try:
            if self.details_after is not None:
                await asyncio.shield(self.details_after)
        except BaseException:
            coro.close()
            raise
        await coro

    async def details_known(self) -> None:
        """Wait until what was being filled in after the rows (vCPUs and memory of
        test-driver guests, start times over SSH) is known."""
        while self._details:
            await asyncio.gather(*self._details, return_exceptions=True)

    def _fill_in(self, coro) -> None:
        task = asyncio.ensure_future(self._after_rows(coro))
        for tracked in (self._details, self._tasks):  # (close() cancels _tasks)
            tracked.add(task)
            task.add_done_callback(tracked.discard)

    def _fail(self, message: str) -> NoReturn:
        self.status = HostStatus.FAILED
        self.error = message
        self.publish(Change(self, host_changed=True, error=message))
        raise VtuiError(message, host=self.name)

    async def _open(self) -> None:
        uri = self.uri
        if self.tunnel is not None:
            # The tunnel bounds its own network time: the user's answers to its prompts
            # (host key, passphrase) must not count against connect_timeout.
            uri = await self.tunnel.open()
            self.tunnel.on_lost(self._mark_disconnected)
        try:
            await asyncio.wait_for(self.call(self._open_blocking, uri), self.connect_timeout)
        except BaseException:
            if self.tunnel is not None:  # don't keep an SSH session nobody uses
                await self.tunnel.close()
            raise

    def _open_blocking(self, uri: str) -> None:
        missing = test_driver_file_missing(uri)
        if missing:  # else libxml2 prints an "I/O warning" straight onto the terminal
            raise VtuiError(f"cannot connect to {uri}: no such file {missing}")
        opener = libvirt.openReadOnly if self.readonly else libvirt.open
        conn = opener(uri)
        try:
            conn.setKeepAlive(*KEEPALIVE)
        except libvirt.libvirtError:
            pass  # local drivers (test://, unix socket to some daemons) may not support it
        try:
            conn.registerCloseCallback(self._on_close_thread, None)
        except libvirt.libvirtError:
            pass
        self._callback_ids = [
            conn.domainEventRegisterAny(
                None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._on_lifecycle_thread, None
            )
        ]
        self.conn = conn
        self._flags_dirty = True
        self._everyone_due = True  # events were not followed while disconnected

    def _close_blocking(self, conn: libvirt.virConnect) -> None:
        self.resource_events.deregister(conn)
        super()._close_blocking(conn)

    async def _relinked(self) -> None:
        self._sampler.reset_rates()  # the counters moved on while we were away
        try:
            await self.sample()
            await self._watch_resources()
        except VtuiError:
            pass  # already reported through a Change

    async def _watch_resources(self) -> None:
        """Register the pool, network and node-device event callbacks on the current
        connection (lists of a kind without events poll meanwhile)."""
        if self.watch_resources:
            try:
                await self.call(self.resource_events.register, self.require_conn())
            except VtuiError:
                pass  # the link went away meanwhile: registered again once it is back

    def _change(self, **fields: Any) -> Change:
        return Change(self, **fields)

    def start(self, *, first_in: float = 0.0) -> None:
        """Sample every `interval` seconds, re-armed after each sample (never overlapping);
        the first one `first_in` seconds from now."""
        if self._poller is None or self._poller.done():
            self._poller = asyncio.ensure_future(self._poll(first_in))

    async def _poll(self, first_in: float = 0.0) -> None:
        if first_in:
            await asyncio.sleep(first_in)
        while self.status is not HostStatus.CLOSED:
            began = time.monotonic()
            if self.status is HostStatus.CONNECTED and not self.paused:
                try:
                    await self.sample()
                except VtuiError:
                    pass  # already reported through a Change
            # A host slower than the interval is sampled as often as it can be.
            await asyncio.sleep(max(self.interval - (time.monotonic() - began), 0.05))

    # -- sampling -----------------------------------------------------------------------
    @property
    def guest_cpu_history(self) -> CpuHistoryView:
        """The last HISTORY CPU samples of each running guest (uuid -> list)."""
        return CpuHistoryView(self._sampler.history, HISTORY)

    def guest_history(self, uuid: str) -> GuestHistory | None:
        """The running guest's last ten minutes (None when stopped or not seen yet)."""
        return self._sampler.history.get(uuid)

    async def sample(self) -> Change:
        """One refresh: the bulk stats call plus the host's own numbers."""
        async with self._reading:
            return await self._sample()

    async def _sample(self) -> Change:
        conn = self.require_conn()
        began = time.monotonic()
        try:
            # One thread does all of a sample's calls in a row.
            result, flags = await self.call(self._sample_blocking, conn, began)
        except libvirt.libvirtError as exc:
            message = f"refresh failed: {libvirt_message(exc)}"
            if conn is not self.conn:  # already marked disconnected: don't touch it again
                raise VtuiError(message, host=self.name) from exc
            alive = await self.call(self._is_alive, conn)
            if not alive:
                self._mark_disconnected(message)
            elif message != self.error:
                self.error = message
                self.publish(Change(self, error=message))
            raise VtuiError(message, host=self.name) from exc
        change = self._merge(result, flags, began)
        self.sample_seconds = time.monotonic() - began
        self.publish(change)
        return change

    @staticmethod
    def _is_alive(conn: libvirt.virConnect) -> bool:
        try:
            return bool(conn.isAlive())
        except libvirt.libvirtError:
            return False

    def _sample_blocking(self, conn: libvirt.virConnect, began: float):
        everyone = (
            self._everyone_due or not self.follow_events or self._samples % EVERYONE_EVERY == 0
        )
        records = bulk_stats(conn, self.guests, active_only=not everyone)
        result = self._sampler.process(conn, self.guests, records, began)
        result.everyone = everyone
        self._everyone_due = False
        del records  # a big reply is garbage now, not after the flags and host numbers
        flags = None
        if self._flags_dirty or time.monotonic() - self._flags_at > FLAGS_EVERY:
            # events cover (un)define and managed save; autostart has no event of its own
            flags = read_flags(conn)
            self._flags_at = time.monotonic()
        every = self.numbers_every
        if self.facts is not None and self._samples % every == 0:
            # NUMA and KSM are shown by the host's own screen only (a focused host)
            full = self._samples % (SLOW_FACTS_EVERY * every) == 0
            self._probe.refresh(conn, self.facts, full=full)
        self._samples += 1
        return result, flags

    def _merge(self, result, flags, began: float) -> Change:
        """On the loop: insert new guests, drop vanished ones, apply flags."""
        change = Change(self, host_changed=True, guests=result.changed)
        unknown_start = False
        here = uptime.local_applies(self.uri)  # (once, not once per guest)
        for guest in result.new:
            if guest.active and guest.started_at is None:
                guest.started_at = uptime.local_start_time(self.uri, guest.name) if here else None
                unknown_start |= guest.started_at is None
            self.guests[guest.uuid] = guest
            change.guests.add(guest.uuid)
        if unknown_start and hasattr(self.tunnel, "run"):
            self._fill_in(details.learn_remote_start_times(self))
        if result.needs_info:
            self._fill_in(details.read_infos(self, result.needs_info))
        gone = set(self.guests) - result.seen if result.everyone else ()
        for uuid in gone:
            if not self._sampler.event_since(uuid, began):  # an event may have added it since
                self._forget(uuid)
                change.removed.add(uuid)
        if flags is not None:
            self._apply_flags(flags, change)
            self._flags_dirty = False
        self.cpu_history.append((self.facts.cpu_pct if self.facts else None) or 0.0)
        self.memory_history.append(memory_percent(self.facts))
        self.last_sample_at = time.time()
        return change

    def _apply_flags(self, flags: dict[str, set[str]], change: Change) -> None:
        persistent, autostart, managed = (
            flags["persistent"],
            flags["autostart"],
            flags["managed_save"],
        )
        for uuid, guest in self.guests.items():
            values = (uuid in persistent, uuid in autostart, uuid in managed)
            if values != (guest.persistent, guest.autostart, guest.has_managed_save):
                guest.persistent, guest.autostart, guest.has_managed_save = values
                change.guests.add(uuid)

    def _forget(self, uuid: str) -> None:
        self.guests.pop(uuid, None)
        self._sampler.forget(uuid)

    # -- lifecycle events -----------------------------------------------------------------
    def _on_lifecycle_thread(self, _conn, dom, event, detail, _opaque) -> None:
        # libvirt's event thread: no RPC here, only hand over to the asyncio loop
        loop = self._loop
        if loop is None or loop.is_closed():
            return  # the program is ending: an event still in flight has nobody to tell
        try:
            loop.call_soon_threadsafe(
                self._on_lifecycle, dom.UUIDString(), dom.name(), event, detail
            )
        except RuntimeError:
            pass  # the loop closed between the check and the call

    def _on_lifecycle(self, uuid: str, name: str, event: int, detail: int) -> None:
        if self.status is not HostStatus.CONNECTED or not self.follow_events:
            return
        guest = self.guests.get(uuid)
        change = Change(self, event=f"{name} {event_name(event)}")
        self._sampler.note_event(uuid)
        if guest is not None:
            new_state = EVENT_STATE.get(event)
            if new_state is not None:
                guest.state, guest.reason = new_state, ""
            if event == libvirt.VIR_DOMAIN_EVENT_STARTED:
                guest.started_at = time.time()
            change.guests.add(uuid)
        if event in (libvirt.VIR_DOMAIN_EVENT_DEFINED, libvirt.VIR_DOMAIN_EVENT_UNDEFINED):
            self._flags_dirty = True
        self.publish(change)
        self._spawn(self.refresh_guest(uuid))

    async def refresh_guest(self, uuid: str) -> None:
        """Re-read one guest after an event: one stats call for that guest only."""
        conn = self.conn
        if conn is None:
            return
        began = time.monotonic()
        try:
            row = await self.call(read_one_guest, conn, uuid)
        except libvirt.libvirtError:
            return  # the next regular sample will tell
        change = Change(self)
        if row is None:
            if uuid in self.guests:
                self._forget(uuid)
                change.removed.add(uuid)
        else:
            name, rec, info, persistent, autostart, managed = row
            guest = self.guests.get(uuid)
            if guest is None:
                guest = self.guests[uuid] = self._sampler.new_guest(uuid, name)
            guest.name = name
            Sampler.apply_info(guest, info)
            self._sampler.update(guest, rec, began)
            guest.persistent, guest.autostart, guest.has_managed_save = (
                persistent,
                autostart,
                managed,
            )
            change.guests.add(uuid)
        self.publish(change)

    # -- queries used by views and scripts ------------------------------------------------
    def counts_by_state(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for guest in self.guests.values():
            counts[guest.state] = counts.get(guest.state, 0) + 1
        return counts

    def commitment(self) -> tuple[float | None, float | None]:
        """(vCPUs of running guests per host CPU, their memory per host memory)."""
        facts = self.facts
        if facts is None or not facts.cpus or not facts.memory_total_kib:
            return None, None
        running = [g for g in self.guests.values() if g.active]
        vcpus = sum(g.vcpus for g in running)
        memory = sum(g.memory_max_kib or g.memory_kib for g in running)
        return vcpus / facts.cpus, memory / facts.memory_total_kib

    async def lookup(self, name_or_uuid: str) -> Guest | None:
        """One guest by name or UUID, read from the host (a few calls, not the whole
        inventory): for commands that act on one guest. None if there is none."""
        found = await self.call(read_guest, self.require_conn(), name_or_uuid)
        if found is None:
            return None
        uuid, name, info, persistent = found
        guest = self.guests.get(uuid) or self._sampler.new_guest(uuid, name)
        guest.name = name
        guest.state, guest.reason = state_name(info[0]), ""
        guest.persistent = persistent
        Sampler.apply_info(guest, info)
        self.guests[uuid] = guest
        return guest

    def guest_name(self, uuid: str) -> str:
        """The name of the guest with this UUID as last seen, else the UUID itself."""
        guest = self.guests.get(uuid)
        return guest.name if guest is not None else uuid

    def find(self, name_or_uuid: str) -> Guest | None:
        guest = self.guests.get(name_or_uuid)
        if guest is not None:
            return guest
        return next((g for g in self.guests.values() if g.name == name_or_uuid), None)
