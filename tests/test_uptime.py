"""Uptime of guests that were already running when vtui connected over SSH."""

from __future__ import annotations

import time

import pytest

from tests.support import until
from vtui.core.fleet import Fleet
from vtui.core.fleet.targets import add_target

# never the machine's own ~/.ssh or agent
pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("private_home")]


async def test_uptime_of_a_guest_started_before_connecting(lab, make_guest):
    name = make_guest(lab["a"])
    started = time.time()
    time.sleep(1.5)  # it has been up for a while
    fleet = Fleet(interval=0.5)
    try:
        host = add_target(fleet, "lab-a", ssh_config=lab.ssh_config)
        assert await fleet.connect_all() == []
        await until(
            lambda: host.find(name) is not None and host.find(name).started_at is not None,
            timeout=10,
            what="start time learnt over SSH",
        )
        up = time.time() - host.find(name).started_at
        assert 1.0 <= up <= time.time() - started + 2.0  # pid file mtime, whole seconds
    finally:
        await fleet.close()
