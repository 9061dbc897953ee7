"""libvirt's event loop on a dedicated daemon thread.

libvirt needs an event implementation for keepalive, domain events and console
streams, registered once per process before the first connection opens. We run the
default implementation on its own thread (docs/architecture.md, "Threads"): libvirt updates its
handle watches from whichever thread makes an RPC, and asyncio loops are not
thread-safe, so libvirtaio on Textual's loop plus worker threads would race.
Callbacks running on this thread must only hand work to an asyncio loop.
"""

from __future__ import annotations

import threading

import libvirt

_lock = threading.Lock()
_thread: threading.Thread | None = None


def _quiet(_ctx, _err) -> None:
    """libvirt prints every error to stderr by default; we report them ourselves."""


def _run() -> None:
    while True:
        libvirt.virEventRunDefaultImpl()


def ensure_event_loop() -> None:
    """Register libvirt's default event impl and start its thread (idempotent)."""
    global _thread
    with _lock:
        if _thread is not None:
            return
        libvirt.registerErrorHandler(_quiet, None)
        libvirt.virEventRegisterDefaultImpl()
        _thread = threading.Thread(target=_run, name="libvirt-events", daemon=True)
        _thread.start()
