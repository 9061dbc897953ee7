"""libvirt's event loop runs on a C thread that holds the GIL only for callbacks."""

from __future__ import annotations

import os
import signal
import threading
import time

import libvirt

from vtui.core.host import events


def thread_names() -> dict[int, str]:
    names = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                names[int(tid)] = f.read().strip()
        except OSError:
            continue
    return names


def blocked_signals(tid: int) -> int:
    with open(f"/proc/self/task/{tid}/status") as f:
        return int(next(ln for ln in f if ln.startswith("SigBlk:")).split()[1], 16)


def test_the_loop_is_not_a_python_thread():
    """Each of the loop's wake-ups (two per RPC call) used to take the GIL back."""
    events.ensure_event_loop()
    events.ensure_event_loop()  # once per process
    assert list(thread_names().values()).count("libvirt-events") == 1
    assert "libvirt-events" not in {t.name for t in threading.enumerate()}


def test_it_leaves_ctrl_c_to_python():
    """A signal the kernel gives a thread other than Python's main one is only noted
    there; the loop's thread blocks them so they go to a Python thread."""
    events.ensure_event_loop()
    (tid,) = [t for t, name in thread_names().items() if name == "libvirt-events"]
    # glibc starts a thread with every signal blocked and sets the mask it inherits
    # once the thread runs: wait for that (faults unblocked) before reading it
    deadline = time.monotonic() + 5
    while True:
        blocked = blocked_signals(tid)
        if not blocked & (1 << (signal.SIGSEGV - 1)) or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGWINCH):
        assert blocked & (1 << (sig - 1)), sig.name
    assert not blocked & (1 << (signal.SIGSEGV - 1))
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])  # ours: as before


def test_callbacks_run_on_it():
    """A domain event's Python callback runs on the loop's thread, GIL taken for it."""
    events.ensure_event_loop()
    conn = libvirt.open("test:///default")
    seen = threading.Event()
    where: list[int] = []

    def lifecycle(_conn, dom, event, _detail, _opaque):
        if dom.name() == "test" and event == libvirt.VIR_DOMAIN_EVENT_SUSPENDED:
            where.append(threading.get_native_id())
            seen.set()

    callback = conn.domainEventRegisterAny(
        None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, lifecycle, None
    )
    try:
        conn.lookupByName("test").suspend()
        assert seen.wait(5), "no lifecycle event"
        assert thread_names()[where[0]] == "libvirt-events"
    finally:
        conn.domainEventDeregisterAny(callback)
        conn.close()
