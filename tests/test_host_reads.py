"""What a host reads, and when: rows first, then its facts and details; commands read
only what they print; host numbers in one call each."""

from __future__ import annotations

import libvirt
import pytest

from vtui.batch import main
from vtui.core.fleet import Fleet
from vtui.core.host import Change, Host
from vtui.core.host.nodestats import NodeStats
from vtui.core.host.sampler import HISTORY, CpuHistory
from vtui.core.uri import demo_uri


async def test_rows_are_published_before_the_hosts_facts():
    fleet = Fleet(interval=3600)
    host = fleet.add(demo_uri())
    seen: list[tuple[int, bool]] = []  # (guests published, facts known then)
    host.subscribe(lambda c: seen.append((len(c.guests), host.facts is not None)))
    try:
        assert await fleet.connect_all() == []
        first_rows = next(i for i, (guests, _facts) in enumerate(seen) if guests)
        assert seen[first_rows][1] is False  # rows on screen while the facts are unknown
        assert host.facts is not None and host.facts.hostname  # all of it once connected
        assert all(g.vcpus and g.memory_kib for g in host.guests.values())  # info filled in
    finally:
        await fleet.close()


async def test_a_command_that_needs_no_inventory_reads_none():
    host = Host(demo_uri())
    changes: list[Change] = []
    host.subscribe(changes.append)
    try:
        await host.connect(inventory=False, facts=False)
        assert host.guests == {} and host.facts is None
        guest = await host.lookup("web-01")
        assert guest is not None and guest.state == "running" and guest.vcpus == 2
        assert list(host.guests) == [guest.uuid]  # that one guest, no other
        assert await host.lookup("no-such-guest") is None
        assert await host.lookup(guest.uuid) is guest
    finally:
        await host.close()


def test_rates_cost_a_second_sample_only_when_asked(capsys):
    import json

    assert main(["list", "--demo", "--json"]) == 0
    web = next(g for g in json.loads(capsys.readouterr().out)["guests"] if g["name"] == "web-01")
    assert web["cpu_percent"] is None and web["disk_read_bytes_per_sec"] is None
    assert main(["list", "--demo", "--json", "--rates", "--wait", "0.2"]) == 0
    web = next(g for g in json.loads(capsys.readouterr().out)["guests"] if g["name"] == "web-01")
    assert web["disk_read_bytes_per_sec"] is not None
    assert main(["list", "--demo", "--no-rates", "--wait", "1"]) == 2
    assert "not with --no-rates" in capsys.readouterr().err


def test_cpu_history_keeps_the_last_points_to_half_a_percent():
    history = CpuHistory()
    for i in range(HISTORY + 10):
        history.append(i % 101 + 0.26)
    points = list(history)
    assert len(points) == len(history) == HISTORY
    assert points[0] == 10.5 and points[-1] == 69.5  # the first ten are gone
    history.append(250.0)
    history.append(-3.0)
    assert list(history)[-2:] == [100.0, 0.0]


@pytest.mark.lab
def test_node_numbers_in_one_call_match_libvirt_python(local_host):
    conn = libvirt.open(local_host.uri)
    try:
        stats = NodeStats()
        first = stats.cpu(conn), stats.memory(conn)  # learns how many values there are
        again = stats.cpu(conn), stats.memory(conn)  # now in one call each
        assert stats._counts == {"getCPUStats": 4, "getMemoryStats": 4} and not stats._slow
        for ours, theirs in zip(again, (conn.getCPUStats(-1), conn.getMemoryStats(-1))):
            assert set(ours) == set(theirs)
        assert again[0]["idle"] >= first[0]["idle"]
        assert again[1]["total"] == conn.getMemoryStats(-1)["total"]
    finally:
        conn.close()
