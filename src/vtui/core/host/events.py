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

try:  # (setup.py: optional, like _domstats)
    from vtui.core.host import _event_thread
except ImportError:  # pragma: no cover - the extension did not build
    _event_thread = None  # type: ignore[assignment]

_lock = threading.Lock()
_started = False


def _quiet(_ctx, _err) -> None:
    """libvirt prints every error to stderr by default; we report them ourselves."""


def _run() -> None:
    while True:
        libvirt.virEventRunDefaultImpl()


def ensure_event_loop() -> None:
    """Register libvirt's default event impl and start its thread (idempotent). The
    thread is a C one where the extension is built: it takes the GIL only for a
    callback, not on each of the loop's wake-ups (_event_thread.c)."""
    global _started
    with _lock:
        if _started:
            return
        libvirt.registerErrorHandler(_quiet, None)
        libvirt.virEventRegisterDefaultImpl()
        if _event_thread is not None:
            _event_thread.start()
        else:
            threading.Thread(target=_run, name="libvirt-events", daemon=True).start()
        _started = True
