"""Actions over many guests at once (vtui.core.guests.bulk): large selections on
libvirt's test driver, migrations between the lab's two real hosts, and the patterns
that pick guests."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid as uuidlib

import libvirt
import pytest
from lxml import etree

from tests.support import guest_on, until
from vtui.core.guests import (
    BadPattern,
    BulkTarget,
    SnapshotRequest,
    check_bulk,
    delete_action,
    guest_matcher,
    lifecycle_action,
    list_snapshots,
    plan_bulk,
    plan_snapshot,
    run_bulk,
    snapshot_action,
)
from vtui.core.guests.bulk import PER_HOST
from vtui.core.host import Host
from vtui.core.migration import MigrationJobs, migrate_action
from vtui.core.model import Guest
from vtui.core.uri import demo_uri

TEST_NS = "http://libvirt.org/schemas/domain/test/1.0"


def fleet_file(path, states: dict[str, int]) -> str:
    """A test-driver host whose guests have the given virDomainState numbers (5 shut
    off, 1 running, 3 paused); returns its URI. Each connection gets its own copy."""
    node = etree.Element("node", nsmap={"test": TEST_NS})
    cpu = etree.SubElement(node, "cpu")
    for tag, value in (("mhz", 2000), ("nodes", 1), ("sockets", 1), ("cores", 8), ("threads", 1)):
        etree.SubElement(cpu, tag).text = str(value)
    etree.SubElement(node, "memory").text = str(64 * 1024 * 1024)
    for name, state in states.items():
        dom = etree.SubElement(node, "domain", type="test")
        etree.SubElement(dom, "name").text = name
        etree.SubElement(dom, "uuid").text = str(uuidlib.uuid5(uuidlib.NAMESPACE_DNS, name))
        etree.SubElement(dom, "memory", unit="MiB").text = "256"
        etree.SubElement(dom, "vcpu").text = "1"
        os_ = etree.SubElement(dom, "os")
        etree.SubElement(os_, "type").text = "hvm"
        etree.SubElement(dom, f"{{{TEST_NS}}}runstate").text = str(state)
    path.write_bytes(etree.tostring(node, xml_declaration=True, encoding="UTF-8"))
    return f"test://{path}"


@pytest.fixture
async def fifty(tmp_path):
    """47 shut-off guests, 2 running and 1 paused: 3 that cannot be started."""
    states = {f"node-{i:02d}": 5 for i in range(47)}
    states |= {"busy-1": 1, "busy-2": 1, "napping": 3}
    host = Host(fleet_file(tmp_path / "fifty.xml", states), name="big")
    await host.connect()
    yield host
    await host.close()


def targets_of(*hosts: Host) -> list[BulkTarget]:
    return [BulkTarget(h, g) for h in hosts for g in h.guests.values()]


async def test_bulk_start_of_fifty_with_three_that_cannot(fifty):
    host = fifty
    targets = targets_of(host)
    assert len(targets) == 50
    action = lifecycle_action("start")
    plan = plan_bulk(action, targets)
    assert len(plan.ready) == 47
    assert sorted(r.guest for r in plan.skipped) == ["busy-1", "busy-2", "napping"]

    running_now, most = 0, 0
    inner = action.run

    async def counted(h: Host, g: Guest) -> str:
        nonlocal running_now, most
        running_now += 1
        most = max(most, running_now)
        try:
            await asyncio.sleep(0.01)  # long enough for the others to pile up
            return await inner(h, g)
        finally:
            running_now -= 1

    reported = []
    results = await run_bulk(
        dataclasses.replace(action, run=counted), targets, on_result=reported.append
    )
    assert len(results) == len(reported) == 50
    assert [r.guest for r in results] == [t.guest.name for t in targets]  # in the order given
    ok = [r for r in results if r.ok]
    refused = {r.guest: r.message for r in results if not r.ok}
    assert len(ok) == 47 and all(r.message == "started" for r in ok)
    assert refused == {
        "busy-1": "cannot start busy-1: it is running (shut it down first)",
        "busy-2": "cannot start busy-2: it is running (shut it down first)",
        "napping": "cannot start napping: it is paused (resume it, or force it off first)",
    }
    assert all(r.skipped for r in results if not r.ok)
    assert 1 < most <= PER_HOST  # a few at a time per host, never more

    def active() -> set[str]:
        conn = host.require_conn()
        return {d.name() for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)}

    names = await host.call(active)
    assert len(names) == 50 and {f"node-{i:02d}" for i in range(47)} <= names


async def test_one_failure_never_stops_the_others(fifty):
    host = fifty
    targets = [t for t in targets_of(host) if t.guest.name.startswith("node-")][:10]
    gone = targets[3].guest

    def undefine_behind_our_back() -> None:
        host.require_conn().lookupByUUIDString(gone.uuid).undefine()

    await host.call(undefine_behind_our_back)  # vtui has not seen it go yet
    results = await run_bulk(lifecycle_action("start"), targets)
    failed = [r for r in results if not r.ok]
    assert [(r.guest, r.skipped) for r in failed] == [(gone.name, False)]
    assert failed[0].message == "no longer exists on this host"
    assert sum(r.ok for r in results) == 9


async def test_bulk_snapshot_delete_and_autostart_on_the_demo_host():
    host = Host(demo_uri(), name="demo")
    await host.connect()
    try:
        by_name = {g.name: g for g in host.guests.values()}
        chosen = ["web-01", "gpu-lab", "legacy-app-centos7", "win2022-ad"]
        targets = [BulkTarget(host, by_name[n]) for n in chosen]
        action = snapshot_action(SnapshotRequest(name="pre-upgrade"))
        plan = await check_bulk(plan_bulk(action, targets))
        assert {r.guest: r.message for r in plan.skipped} == {
            "legacy-app-centos7": "cannot snapshot legacy-app-centos7: it is crashed "
            "(start it or force it off first)"
        }
        results = {r.guest: r for r in await run_bulk(action, targets)}
        kinds = {
            "web-01": "internal, with memory",
            "gpu-lab": "internal",
            "win2022-ad": "internal, with memory",  # its raw CD-ROM is left out
        }
        for name, kind in kinds.items():
            assert results[name].ok and results[name].message.startswith(
                "snapshot pre-upgrade taken"
            )
            assert "pre-upgrade" in [s.name for s in await list_snapshots(host, by_name[name])]
            planned = await plan_snapshot(host, by_name[name], SnapshotRequest(name="next"))
            assert planned.kind == kind
        assert results["legacy-app-centos7"].skipped

        deleting = [BulkTarget(host, by_name[n]) for n in ("web-01", "gpu-lab")]
        results = {r.guest: r for r in await run_bulk(delete_action(), deleting)}
        assert results["web-01"].skipped and "shut it down first" in results["web-01"].message
        assert results["gpu-lab"].ok and results["gpu-lab"].message == "deleted"
        # gone once the sample or the undefine event's own refresh has seen it go
        await until(lambda: host.find("gpu-lab") is None, timeout=5)

        off = [BulkTarget(host, g) for g in host.guests.values() if g.autostart is False][:5]
        results = await run_bulk(lifecycle_action("autostart_on"), off)
        assert all(r.ok or "transient" in r.message for r in results)
    finally:
        await host.close()


# -- migration between the lab's hosts ---------------------------------------------------------
def where(uri: str, uuid: str) -> int | None:
    conn = libvirt.open(uri)
    try:
        return conn.lookupByUUIDString(uuid).state()[0]
    except libvirt.libvirtError:
        return None
    finally:
        conn.close()


async def test_bulk_migrate_three_guests_at_most_two_at_a_time(lab, lab_hosts, make_guest):
    from tests.test_migrate import console_answers

    a, b = lab_hosts
    names = [make_guest("a") for _ in range(3)]
    already_there = make_guest("b")
    guests = [await guest_on(a, n) for n in names]
    for guest in guests:  # booted: a TCG guest moved in its first second may hang
        await console_answers(a, guest.uuid)
    jobs = MigrationJobs()
    most = 0

    def on_job(_job) -> None:
        nonlocal most
        most = max(most, len(jobs.running()))

    jobs.subscribe(on_job)
    targets = [BulkTarget(a, g) for g in guests] + [BulkTarget(b, await guest_on(b, already_there))]
    results = await run_bulk(migrate_action(b, at_most=2, jobs=jobs), targets)
    by_name = {r.guest: r for r in results}
    assert by_name[already_there].skipped
    assert (
        by_name[already_there].message == f"cannot migrate {already_there}: it is already on lab-b"
    )
    for guest in guests:
        result = by_name[guest.name]
        assert result.ok and result.message.startswith("migrated to lab-b: "), result
        assert await asyncio.to_thread(where, lab["a"].uri, guest.uuid) is None
        assert (
            await asyncio.to_thread(where, lab["b"].uri, guest.uuid) == libvirt.VIR_DOMAIN_RUNNING
        )
    assert most == 2  # three asked, never more than two at once
    assert len(jobs.jobs) == 3


# -- patterns -------------------------------------------------------------------------------------
def g(name: str, host: str = "lab-a", state: str = "running") -> Guest:
    return Guest(uuid=name, name=name, host=host, state=state)


def test_guest_patterns():
    guests = [
        g("web-01"),
        g("web-02", state="shut off"),
        g("db1", host="lab-b"),
        g("k8s-node-03", host="lab-b", state="paused"),
    ]

    def picked(pattern: str) -> list[str]:
        match = guest_matcher(pattern)
        return [x.name for x in guests if match(x)]

    assert picked("web-*") == ["web-01", "web-02"]
    assert picked("WEB-0?") == ["web-01", "web-02"]  # globs ignore case
    assert picked("lab-b") == ["db1", "k8s-node-03"]  # a bare word: name, host or state
    assert picked("running") == ["web-01", "db1"]
    assert picked("web-* state=running") == ["web-01"]  # every word must match
    assert picked("'state=shut off'") == ["web-02"]
    assert picked("/node-0[1-3]$/") == ["k8s-node-03"]
    assert picked("re:^(db|web-02)") == ["web-02", "db1"]
    assert picked("host=lab-a name=re:1$") == ["web-01"]
    for bad, words in (
        ("/[/", "not a regular expression"),
        ("colour=red", "unknown field 'colour'"),
        ("   ", "empty"),
        ("'open", "cannot read"),
    ):
        with pytest.raises(BadPattern, match=words):
            guest_matcher(bad)
