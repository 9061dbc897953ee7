"""The asyncio event loop the app runs on (and the tests): uvloop's.

A fleet's loop thread spends its time per libvirt call on transport work: reading the
forwarded socket, one SSH packet out and one in, writing the reply back, a few
callbacks. uvloop does the loop and transport part in C. With 50 SSH hosts x 200
guests sampled every 2 s (bench/fleet.py) the loop thread went from 2.0 to 1.6
CPU-s per minute and the whole process from 5.7 to 5.0-5.2, same run, same calls.

Batch commands keep asyncio's own loop: uvloop imports Python's ssl module, which they
keep out to start sooner (vtui.batch).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


def new_event_loop() -> asyncio.AbstractEventLoop:
    return uvloop.new_event_loop()


def run(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run() on vtui's loop: the same shutdown (pending tasks cancelled, async
    generators and the default executor closed)."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(main)
