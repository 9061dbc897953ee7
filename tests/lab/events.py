"""The process-wide libvirt event loop, for tests that need streams or events.

libvirt accepts one event implementation per process, so always go through the app's
own `vtui.core.host.events.ensure_event_loop()`; the fallback below (same behaviour) only
exists for when the app module is missing.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_started = False


def ensure_event_loop() -> None:
    try:
        from vtui.core.host.events import ensure_event_loop as app_impl
    except ImportError:
        app_impl = _fallback
    app_impl()


def _fallback() -> None:
    global _started
    import libvirt

    with _lock:
        if _started:
            return
        libvirt.virEventRegisterDefaultImpl()  # must precede the first libvirt.open()
        threading.Thread(target=_run, name="libvirt-events", daemon=True).start()
        _started = True


def _run() -> None:
    import libvirt

    while True:
        libvirt.virEventRunDefaultImpl()
