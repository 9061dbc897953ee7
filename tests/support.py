"""Waiting helpers shared by the tests that drive real hosts."""

from __future__ import annotations

import asyncio
import select
import time

from vtui.core.host import Host
from vtui.core.model import Guest


def read_until(stream, text: str, timeout: float = 30.0) -> str:
    """A child's output (a text pipe) line by line until a line holds `text`; all that
    was read, which holds `text` unless the time ran out (the caller asserts)."""
    seen = ""
    deadline = time.monotonic() + timeout
    while text not in seen and time.monotonic() < deadline:
        if select.select([stream], [], [], 0.5)[0]:
            seen += stream.readline()
    return seen


async def until(
    predicate, timeout: float = 15.0, what: str = "condition", step: float = 0.05
) -> float:
    """Wait until predicate() is true; return how many seconds that took."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    while not predicate():
        if loop.time() - began > timeout:
            raise AssertionError(f"{what} not met within {timeout:.0f} s")
        await asyncio.sleep(step)
    return loop.time() - began


async def guest_on(host: Host, name: str) -> Guest:
    """The guest a fixture just made, once the host has sampled it."""
    for _ in range(50):
        guest = host.find(name)
        if guest is not None:
            return guest
        await host.sample()
    raise AssertionError(f"{name} never showed up on {host.name}")
