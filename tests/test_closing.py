"""Closing a host lets go of libvirt's connection at once, whatever was under way."""

from __future__ import annotations

import asyncio
import gc
import time

import libvirt

from vtui.core.fleet import Fleet
from vtui.core.host import Host, details
from vtui.core.uri import demo_uri


async def test_a_host_closed_while_reading_details_frees_every_domain_first(monkeypatch):
    """The test driver's guests get their vCPUs and memory from one info() call each,
    in chunks, after the rows. Quitting meanwhile cancels those reads: the cancelled
    tasks' tracebacks kept their chunks' domain references until the collector ran, and
    each reference holds libvirt's connection open past its close (over SSH the tunnel
    then waited its grace second: quitting took 1.5 s instead of 0.5)."""
    real_chunk = details.read_info_chunk

    def slow_chunk(guests, chunk):
        time.sleep(0.2)
        return real_chunk(guests, chunk)

    monkeypatch.setattr(details, "read_info_chunk", slow_chunk)
    monkeypatch.setattr(details, "INFO_CHUNK", 5)  # the demo's 33 guests in 7 chunks
    alive_at_close: list[int] = []
    real_close = Host._close_blocking

    def domains_alive() -> int:
        return sum(isinstance(o, libvirt.virDomain) for o in gc.get_objects())

    def close_blocking(self, conn):
        alive_at_close.append(domains_alive() - before)
        return real_close(self, conn)

    monkeypatch.setattr(Host, "_close_blocking", close_blocking)
    fleet = Fleet(interval=2.0, readonly=True)
    host = fleet.add(demo_uri())
    gc.collect()  # (earlier tests' garbage)
    before = domains_alive()
    gc.disable()  # what matters is what reference counting alone frees
    try:
        connecting = asyncio.ensure_future(fleet.connect_all())
        for _ in range(500):
            if host._details:
                break
            await asyncio.sleep(0.01)
        assert host._details, "the details read never started"
        await asyncio.sleep(0.05)
        connecting.cancel()  # as quitting does; the app holds this task until the end
        await fleet.close()
    finally:
        gc.enable()
    assert alive_at_close == [0]
    assert connecting.cancelled()


async def test_a_close_callback_after_the_loop_closed_is_ignored():
    """libvirt's event thread may report a connection closing after the app's loop has
    closed (a connection freed as the program ends): nothing may be raised there."""
    host = Host(demo_uri(), name="demo", readonly=True)
    loop = asyncio.new_event_loop()
    loop.close()
    host._loop = loop
    host._on_close_thread(None, 3, None)  # raised RuntimeError before
