"""The Meter's bandwidth limit: the rate a limited upload, download or copy may use.
Only lower bounds of time are asserted (a loaded machine can only make it slower)."""

from __future__ import annotations

import threading
import time

import pytest

from vtui.core.storage.streams import BURST, Cancelled, Meter

KiB = 1024


def send(meter: Meter, chunks: int, size: int) -> float:
    began = time.monotonic()
    for _ in range(chunks):
        meter.advance(size, data=True)
    return time.monotonic() - began


def test_the_limit_holds_from_the_first_byte_however_late_it_comes():
    meter = Meter(total=2048 * KiB, limit_bps=1024 * KiB, on_progress=lambda: None)
    time.sleep(0.6)  # the volume is being made: no data moves yet
    took = send(meter, 4, 128 * KiB)  # 512 KiB at 1 MiB/s
    assert took >= 0.45, f"512 KiB at 1 MiB/s went in {took:.2f} s"


def test_a_pause_earns_at_most_a_short_burst():
    meter = Meter(total=4096 * KiB, limit_bps=1024 * KiB, on_progress=lambda: None)
    send(meter, 1, 64 * KiB)
    time.sleep(1.5)  # the host stalled
    took = send(meter, 8, 128 * KiB)  # 1 MiB: BURST seconds of it may go at once
    assert took >= 1.0 - BURST - 0.05, f"1 MiB after a pause went in {took:.2f} s"


def test_holes_are_not_limited_and_counted_apart():
    meter = Meter(total=64 * 1024 * KiB, limit_bps=64 * KiB, on_progress=lambda: None)
    began = time.monotonic()
    meter.advance(64 * 1024 * KiB, data=False)
    assert time.monotonic() - began < 1  # (a 64 MiB hole at 64 KiB/s would take 1024 s)
    assert (meter.done, meter.data) == (64 * 1024 * KiB, 0)


def test_cancel_stops_a_limited_wait_at_once():
    meter = Meter(total=1024 * KiB, limit_bps=KiB, on_progress=lambda: None)
    threading.Timer(0.2, meter.cancelled.set).start()
    began = time.monotonic()
    with pytest.raises(Cancelled):
        meter.advance(64 * KiB, data=True)  # 64 s at 1 KiB/s, unless cancelled
    assert time.monotonic() - began < 30
