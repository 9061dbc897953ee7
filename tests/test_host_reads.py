"""What a host reads, and when: rows first, then its facts and details; commands read
only what they print; host numbers in one call each."""

from __future__ import annotations

import time

import libvirt
import pytest

from vtui.batch import main
from vtui.core.fleet import Fleet
from vtui.core.fleet.fleet import BACKGROUND_NUMBERS_EVERY, FOCUS_ALL_UP_TO
from vtui.core.host import Change, Host
from vtui.core.host.nodestats import NodeStats
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


async def test_a_big_fleet_reads_the_numbers_of_hosts_nobody_looks_at_less_often():
    fleet = Fleet(interval=3600)
    hosts = [fleet.add(demo_uri()) for _ in range(FOCUS_ALL_UP_TO + 1)]
    reads = dict.fromkeys((h.name for h in hosts), 0)

    def counting(host: Host):
        refresh = host._probe.refresh

        def counted(*args, **kwargs):
            reads[host.name] += 1
            return refresh(*args, **kwargs)

        return counted

    try:
        assert await fleet.connect_all(start=False) == []
        # nobody said which host is looked at (a batch command): every one, every sample
        assert all(h.numbers_every == 1 for h in hosts)
        looked_at = hosts[1]
        fleet.focus(looked_at)
        assert looked_at.numbers_every == 1
        assert all(h.numbers_every == BACKGROUND_NUMBERS_EVERY for h in hosts if h is not looked_at)
        for host in hosts:
            host._probe.refresh = counting(host)
        rounds = 2 * BACKGROUND_NUMBERS_EVERY
        for _ in range(rounds):
            for host in hosts:
                await host.sample()
        assert reads[looked_at.name] == rounds
        assert all(reads[h.name] == 2 for h in hosts if h is not looked_at)
        fleet.focus(hosts[2])  # the next sample of the newly looked-at host reads them
        before = reads[hosts[2].name]
        await hosts[2].sample()
        await hosts[2].sample()
        assert reads[hosts[2].name] == before + 2
        await fleet.remove(hosts[0].name)  # a small fleet: every host at full rate again
        assert all(h.numbers_every == 1 for h in fleet.hosts.values())
    finally:
        await fleet.close()


async def test_sampled_guests_carry_libvirts_uuid_text_also_after_one_is_forgotten():
    host = Host(demo_uri())
    try:
        await host.connect(facts=False)
        conn = host.require_conn()
        expected = {d.UUIDString(): d.name() for d in conn.listAllDomains()}
        assert {u: g.name for u, g in host.guests.items()} == expected
        # a guest libvirt itself calls inactive (vtui counts a crashed guest as stopped,
        # libvirt does not: undefining that one would only make it transient)
        inactive = libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE
        inactive |= libvirt.VIR_CONNECT_LIST_DOMAINS_PERSISTENT
        undefined = host.guests[conn.listAllDomains(inactive)[0].UUIDString()]
        flags = (  # whatever the guest has (some demo guests have a managed save)
            libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
            | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
        )
        await host.call(lambda: conn.lookupByUUIDString(undefined.uuid).undefineFlags(flags))
        host._forget(undefined.uuid)
        await host.sample()
        await host.sample()
        del expected[undefined.uuid]
        assert {u: g.name for u, g in host.guests.items()} == expected
    finally:
        await host.close()


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

    # (the test driver has no counters to take rates from: the lab's tests read real
    # ones; here, whether the second sample is taken at all)
    began = time.monotonic()
    assert main(["list", "--demo", "--json"]) == 0
    one_sample = time.monotonic() - began
    guests = json.loads(capsys.readouterr().out)["guests"]
    assert all(g["cpu_percent"] is None for g in guests if g["state"] == "running")
    began = time.monotonic()
    assert main(["list", "--demo", "--json", "--rates", "--wait", "0.5"]) == 0
    assert time.monotonic() - began >= 0.5 > one_sample
    assert json.loads(capsys.readouterr().out)["guests"]
    assert main(["list", "--demo", "--no-rates", "--wait", "1"]) == 2
    assert "not with --no-rates" in capsys.readouterr().err


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


@pytest.mark.lab
def test_list_rates_of_a_busy_guest(make_guest, local_host):
    import json
    import subprocess
    import sys

    busy = make_guest(local_host, busy=True)
    command = [sys.executable, "-m", "vtui", "list", "-c", local_host.uri, "--json"]
    for _attempt in range(10):  # until its busy loop runs (the guest is booting)
        out = subprocess.run(
            [*command, "--rates", "--wait", "1"], capture_output=True, text=True, timeout=60
        )
        guest = next(g for g in json.loads(out.stdout)["guests"] if g["name"] == busy)
        if (guest["cpu_percent"] or 0) > 5:
            break
    assert guest["cpu_percent"] > 5 and guest["disk_read_bytes_per_sec"] is not None
    out = subprocess.run(command, capture_output=True, text=True, timeout=60)
    guest = next(g for g in json.loads(out.stdout)["guests"] if g["name"] == busy)
    assert guest["cpu_percent"] is None  # one sample: unknown, not zero


@pytest.mark.parametrize("reader", ["compiled", "libvirt-python"])
def test_bulk_stats_read_what_libvirt_python_reads_and_refer_only_to_new_guests(
    reader, monkeypatch
):
    import libvirtmod

    from vtui.core.host import sampler
    from vtui.core.host.stats import STATS_FLAGS, STATS_GROUPS

    assert sampler._domstats is not None, "vtui's compiled module (setup.py) was not built"
    if reader == "libvirt-python":  # the way taken where the module could not be built
        monkeypatch.setattr(sampler, "_domstats", None)
    conn = libvirt.openReadOnly(demo_uri())
    try:
        expected = {
            d.UUIDString(): (d.name(), rec)
            for d, rec in conn.getAllDomainStats(STATS_GROUPS, STATS_FLAGS)
        }
        records = sampler.bulk_stats(conn, set())
        try:
            assert {uuid: (name, rec) for uuid, name, rec, _d in records} == expected
            # each new guest comes with a reference to itself, for the calls that follow
            names = [libvirtmod.virDomainGetName(d) for _u, _n, _r, d in records]
            assert names == [name for _u, name, _r, _d in records]
        finally:
            for *_rest, dom in records:
                libvirtmod.virDomainFree(dom)
        records = sampler.bulk_stats(conn, set(expected))  # all known: no references
        assert {uuid: rec for uuid, _n, rec, _d in records} == {
            uuid: rec for uuid, (_name, rec) in expected.items()
        }
        assert all(name is None and dom is None for _u, name, _r, dom in records)
        # libvirt's refusal reaches the caller as libvirt's error, in either way
        monkeypatch.setattr(sampler, "STATS_FLAGS", 1 << 20)  # no such flag
        with pytest.raises(libvirt.libvirtError, match="flags"):
            sampler.bulk_stats(conn, set())
    finally:
        conn.close()


def test_compiled_reader_reads_uuids_from_the_domain_object_once_learnt(lab):
    """The compiled reader learns where a domain object keeps its UUID (virDomainGetUUID
    formats it for a debug line on every call) and then reads it there: the UUIDs must
    still be libvirt's, guest for guest, over a real libvirtd's RPC."""
    import uuid

    from lxml import etree

    from vtui.core.host import sampler

    assert sampler._domstats is not None, "vtui's compiled module (setup.py) was not built"
    node = etree.Element("node")
    for i in range(150):  # more than the guests it checks before trusting the object
        dom = etree.SubElement(node, "domain", type="test")
        etree.SubElement(dom, "name").text = f"learn-{i}"
        etree.SubElement(dom, "uuid").text = str(uuid.uuid4())
        etree.SubElement(dom, "memory").text = "65536"
        etree.SubElement(etree.SubElement(dom, "os"), "type").text = "hvm"
    path = lab.root / "uuid-learning.xml"
    path.write_bytes(etree.tostring(node))
    conn = libvirt.openReadOnly(f"test+unix://{path}?socket={lab['a'].socket}")
    try:
        expected = {d.UUIDString(): d.name() for d in conn.listAllDomains()}
        records = sampler.bulk_stats(conn, set())
        try:
            assert {u: name for u, name, _r, _d in records} == expected
        finally:
            for *_rest, dom in records:
                libvirt.libvirtmod.virDomainFree(dom)
        assert sampler._domstats.uuid_source() == "object"
        again = sampler.bulk_stats(conn, set(expected))
        assert sorted(u for u, *_rest in again) == sorted(expected)
    finally:
        conn.close()
