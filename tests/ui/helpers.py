"""Shared helpers for Pilot tests on the demo host (libvirt's test driver)."""

from __future__ import annotations

import asyncio

from vtui.app import VtuiApp
from vtui.core.fleet import Fleet
from vtui.core.uri import demo_uri


def demo_app(*, readonly: bool = False, uris: list[str] | None = None) -> VtuiApp:
    """Each test:///file connection has private state, so tests never see each other."""
    fleet = Fleet(interval=0.5, readonly=readonly)
    for uri in uris or [demo_uri()]:
        fleet.add(uri)
    return VtuiApp(fleet)


async def wait_for(predicate, pilot, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.05)


async def wait_loaded(app: VtuiApp, pilot) -> None:
    """The rows, and what hosts fill in after them (facts, the test driver's vCPUs), so
    nothing changes on screen once a test goes on (a picture taken under load used to
    catch a host panel still without its facts)."""
    await wait_for(lambda: app.fleet_screen.table.row_count >= 25, pilot)
    await wait_for(
        lambda: all(
            h.facts is not None and all(g.vcpus for g in h.guests.values())
            for h in app.fleet.hosts.values()
        ),
        pilot,
    )


def select(app: VtuiApp, name: str) -> None:
    table = app.fleet_screen.table
    table.select(next(k for k, g in table.guests.items() if g.name == name))


def shown_names(app: VtuiApp) -> list[str]:
    table = app.fleet_screen.table
    return [table.guests[key].name for key in table.order]


def notifications(app: VtuiApp) -> list[str]:
    return [n.message for n in app._notifications]


async def put_text(app: VtuiApp, pilot, text: str) -> None:
    """Replace the focused field's text at once: typing a 60-character temporary path
    key by key costs Pilot about 6 s, and typing itself is tested elsewhere."""
    field = app.focused
    field.value = text
    field.cursor_position = len(text)
    await pilot.pause()
