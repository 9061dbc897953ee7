"""What a host fills in after its first rows are shown: the guests' flags, the start
times of guests already running (over SSH, a remote command), and the vCPUs and memory
of guests whose bulk stats lack them (the test driver's). Each publishes what it
learnt; none of them holds back the rows (Host.connect, Fleet.connect_all)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

import libvirt

from vtui.core.host import uptime
from vtui.core.host.sampler import read_flags as read_flag_sets
from vtui.core.host.sampler import read_infos as read_info_chunk
from vtui.core.host.state import Change, HostStatus

if TYPE_CHECKING:
    from vtui.core.host.connection import Host

INFO_CHUNK = 50  # guests per worker call when filling in vCPUs and memory


def _in_process(host: Host) -> bool:
    """libvirt's test driver runs inside this process (no daemon between)."""
    return host.uri.startswith("test:///")


async def read_flags(host: Host) -> None:
    """Persistent, autostart and managed-save flags of every guest (three calls)."""
    conn = host.conn
    if conn is None:
        return
    async with host._reading if _in_process(host) else contextlib.nullcontext():
        flags = await host.call(read_flag_sets, conn)
    host._flags_at = time.monotonic()
    change = Change(host)
    host._apply_flags(flags, change)
    if change.guests:
        host.publish(change)


async def learn_remote_start_times(host: Host) -> None:
    """Uptime of guests already running when we connected (see uptime.py)."""
    starts = await uptime.remote_start_times(host.uri, host.tunnel)
    change = Change(host)
    for guest in host.guests.values():
        if guest.active and guest.started_at is None and guest.name in starts:
            guest.started_at = starts[guest.name]
            change.guests.add(guest.uuid)
    if change.guests:
        host.publish(change)


async def read_infos(host: Host, pending: list[tuple[str, libvirt.virDomain]]) -> None:
    """vCPUs and memory of new guests whose stats lack them, a chunk per worker call
    (two at a time: a sample and an action still find a free thread)."""
    chunks = [pending[i : i + INFO_CHUNK] for i in range(0, len(pending), INFO_CHUNK)]
    lanes = asyncio.Semaphore(2)

    # libvirt inside this process (the demo host): one call at a time beside the
    # samples, as for the host's numbers (see Host._reading); a daemon serves many
    in_process = host._reading if _in_process(host) else contextlib.nullcontext()

    async def fill(chunk) -> None:
        async with lanes:
            try:
                async with in_process:
                    filled = await host.call(read_info_chunk, host.guests, chunk)
            except RuntimeError:
                return  # closed meanwhile (the thread pool is shut down)
        if filled and host.status is HostStatus.CONNECTED:  # (the commitment moved too)
            host.publish(Change(host, guests=filled, host_changed=True))

    try:
        await asyncio.gather(*(fill(c) for c in chunks))
    finally:
        # Cancelled (the host closing), the tasks' tracebacks keep these frames in
        # reference cycles the collector frees only later; their domain references
        # would hold libvirt's connection (and the SSH tunnel's socket) open meanwhile.
        for chunk in chunks:
            chunk.clear()
        pending.clear()
