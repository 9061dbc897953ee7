"""The app and the async tests run on uvloop (vtui.core.eventloop)."""

from __future__ import annotations

import asyncio

import uvloop

from vtui.core import eventloop


def test_run_gives_the_coroutines_value_from_a_uvloop_loop():
    async def which_loop():
        await asyncio.sleep(0)
        return type(asyncio.get_running_loop())

    assert eventloop.run(which_loop()) is uvloop.Loop


async def test_async_tests_run_on_the_apps_loop():
    assert isinstance(asyncio.get_running_loop(), uvloop.Loop)
