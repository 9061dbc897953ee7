"""vtui's core against a real private libvirtd (QEMU driver, TCG guests)."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.support import until
from vtui.core.errors import VtuiError
from vtui.core.guests.lifecycle import delete_guest, run_action
from vtui.core.host import Host, connection

pytestmark = pytest.mark.lab


@pytest.fixture
async def host(local_host):
    h = Host(local_host.uri, interval=0.5)
    await h.connect()
    h.start()
    yield h
    await h.close()


async def test_lifecycle_actions_with_events(host, make_guest, local_host):
    name = make_guest(local_host, start=False)
    events: list[str] = []
    host.subscribe(lambda c: c.event and events.append(c.event))
    await until(lambda: host.find(name) is not None)
    guest = host.find(name)
    assert guest.state == "shut off"

    await run_action(host, guest, "start")
    await until(lambda: f"{name} started" in events, timeout=5)
    await until(lambda: host.find(name).state == "running", timeout=5)
    assert host.find(name).started_at is not None

    await run_action(host, guest, "suspend")
    await until(lambda: f"{name} suspended" in events, timeout=5)
    await until(lambda: host.find(name).state == "paused", timeout=5)

    await run_action(host, guest, "resume")
    await until(lambda: f"{name} resumed" in events, timeout=5)
    await until(lambda: host.find(name).state == "running", timeout=5)

    await run_action(host, guest, "shutdown")  # the ACPI request is accepted
    await run_action(host, guest, "destroy")
    await until(lambda: f"{name} stopped" in events, timeout=5)
    await until(lambda: host.find(name).reason == "destroyed", timeout=5)
    assert host.find(name).state == "shut off"


async def test_events_from_outside_vtui_arrive_within_a_second(host, make_guest, local_host):
    name = make_guest(local_host)
    await until(lambda: host.find(name) is not None and host.find(name).state == "running")
    loop = asyncio.get_running_loop()
    began = loop.time()
    local_host.exec("virsh", "-c", "qemu:///system", "suspend", name)
    await until(lambda: host.find(name).state == "paused", timeout=5, step=0.01)
    assert loop.time() - began < 1.5  # includes virsh start-up inside the namespace


async def test_cpu_percent_busy_and_paused(host, make_guest, local_host):
    busy = make_guest(local_host, busy=True)
    paused = make_guest(local_host, paused=True)
    await until(lambda: host.find(busy) is not None and host.find(paused) is not None)
    await until(lambda: (host.find(busy).cpu_pct or 0) > 5, timeout=15)
    await until(lambda: host.find(paused).cpu_pct is not None, timeout=5)
    assert host.find(paused).cpu_pct == 0.0
    assert len(host.guest_cpu_history[host.find(busy).uuid]) >= 2


async def test_host_numbers_are_sane(host):
    await until(lambda: host.facts.cpu_pct is not None, timeout=5)
    facts = host.facts
    assert facts.hostname == "lab-a"
    assert facts.libvirt_version.startswith("9.") and facts.hypervisor_version
    assert facts.cpus >= 1 and facts.cpu_model
    assert 0 < facts.memory_used_kib <= facts.memory_total_kib
    assert 0.0 <= facts.cpu_pct <= 100.0
    assert facts.numa, "a real host reports at least one NUMA cell"
    for cell in facts.numa:
        assert cell.free_kib is not None and 0 <= cell.free_kib <= cell.total_kib
    assert facts.ksm is not None or facts.ksm_error
    assert len(host.cpu_history) >= 1


async def test_unknown_uri_gives_one_clear_line():
    host = Host("bogus:///nothing")
    with pytest.raises(VtuiError) as err:
        await host.connect()
    text = str(err.value)
    assert "bogus:///nothing" in text and "\n" not in text
    await host.close()


async def test_daemon_down_fails_fast(tmp_path):
    host = Host(f"qemu+unix:///system?socket={tmp_path}/no-daemon.sock", connect_timeout=5)
    loop = asyncio.get_running_loop()
    began = loop.time()
    with pytest.raises(VtuiError) as err:
        await host.connect()
    assert loop.time() - began < 5
    assert "cannot connect" in str(err.value) and "no-daemon.sock" in str(err.value)
    await host.close()


async def test_action_on_a_vanished_guest(host, make_guest, local_host):
    keep = make_guest(local_host)
    gone = make_guest(local_host, start=False)
    await until(lambda: host.find(gone) is not None and host.find(keep) is not None)
    stale = host.find(gone)
    local_host.exec("virsh", "-c", "qemu:///system", "undefine", gone)
    with pytest.raises(VtuiError) as err:
        await run_action(host, stale, "start")
    assert str(err.value) == f"{host.name}: guest {gone}: no longer exists on this host"
    await until(lambda: host.find(gone) is None, timeout=5)
    assert host.find(keep).state == "running"  # nothing else changed


async def test_failed_start_keeps_the_guest_defined(host, make_guest, local_host, tmp_path):
    name = make_guest(local_host, start=False)
    await until(lambda: host.find(name) is not None)
    # Point the kernel at a missing file through a raw connection: start must fail.
    xml = local_host.exec("virsh", "-c", "qemu:///system", "dumpxml", name).stdout
    broken = tmp_path / "broken.xml"
    start, end = xml.index("<kernel>") + len("<kernel>"), xml.index("</kernel>")
    broken.write_text(xml[:start] + "/nonexistent/vmlinuz" + xml[end:])
    local_host.exec("virsh", "-c", "qemu:///system", "define", str(broken))
    with pytest.raises(VtuiError) as err:
        await run_action(host, host.find(name), "start")
    assert name in str(err.value) and "cannot start" in str(err.value)
    assert "\n" not in str(err.value)
    listed = local_host.exec("virsh", "-c", "qemu:///system", "list", "--all", "--name").stdout
    assert name in listed.split()


async def test_delete_refuses_a_running_guest(host, make_guest, local_host):
    name = make_guest(local_host)
    await until(lambda: host.find(name) is not None and host.find(name).state == "running")
    with pytest.raises(VtuiError, match="running"):
        await delete_guest(host, host.find(name))
    assert host.find(name).state == "running"


async def test_bulk_stats_of_qemu_guests_are_libvirt_pythons(host, make_guest, local_host):
    """vtui's compiled reader against libvirt-python's, on real QEMU records (block,
    net, vCPU and balloon numbers): a paused guest's numbers stand still, so its
    record must be the same to the value; every guest's must have the same keys and
    value types. A stopped guest beside it has a shorter record, whose fields sit at
    other positions than the paused one's (the module reuses keys by position)."""
    import libvirt

    from vtui.core.host import sampler
    from vtui.core.host.stats import STATS_FLAGS, STATS_GROUPS

    assert sampler._domstats is not None, "vtui's compiled module (setup.py) was not built"
    paused = make_guest(local_host, paused=True)
    stopped = make_guest(local_host, start=False)
    await until(lambda: host.find(paused) is not None and host.find(stopped) is not None)
    uuid = host.find(paused).uuid

    def libvirt_pythons(conn) -> dict:
        return {d.UUIDString(): rec for d, rec in conn.getAllDomainStats(STATS_GROUPS, STATS_FLAGS)}

    def both():
        """Ours read between two of libvirt-python's that agree on the paused guest: its
        CPU time can still tick for a moment after its QEMU started (emulator threads)."""
        conn = libvirt.openReadOnly(local_host.uri)
        try:
            for _ in range(50):
                theirs = libvirt_pythons(conn)
                ours = {u: rec for u, _n, rec, _d in sampler.bulk_stats(conn, theirs)}
                if libvirt_pythons(conn)[uuid] == theirs[uuid]:
                    break
                time.sleep(0.1)
            return theirs, ours
        finally:
            conn.close()

    theirs, ours = await asyncio.to_thread(both)
    assert ours[uuid] == theirs[uuid]
    assert len(ours[host.find(stopped).uuid]) < len(ours[uuid])
    assert {"block.count", "net.count", "vcpu.current", "balloon.current"} <= set(ours[uuid])
    assert {u: {k: type(v) for k, v in r.items()} for u, r in ours.items()} == {
        u: {k: type(v) for k, v in r.items()} for u, r in theirs.items()
    }


async def test_stopped_guests_are_read_every_fifth_sample(
    host, make_guest, local_host, monkeypatch
):
    """Between the samples that read every guest only the running ones are asked for
    (a stopped guest's numbers do not move, and its events re-read it), without their
    vCPU group. A stopped guest undefined while its event is lost goes at the next
    sample that reads everyone."""
    stopped = make_guest(local_host, start=False)
    running = make_guest(local_host)
    await until(lambda: host.find(stopped) is not None and host.find(running) is not None)
    uuid = host.find(stopped).uuid
    asked: list[bool] = []
    with_vcpus: list[bool] = []  # whether the running guest's record had its vCPU group
    real = connection.bulk_stats
    running_uuid = host.find(running).uuid

    def bulk_stats(conn, known, *, active_only=False):
        records = real(conn, known, active_only=active_only)
        asked.append(active_only)
        (rec,) = [rec for uuid, _name, rec, _dom in records if uuid == running_uuid]
        with_vcpus.append("vcpu.current" in rec)
        return records

    monkeypatch.setattr(connection, "bulk_stats", bulk_stats)
    removed_by: list[bool] = []
    host.subscribe(lambda c: uuid in c.removed and removed_by.append(asked[-1]))
    await until(lambda: len(asked) >= 6, timeout=10)
    window = asked[-5:]
    assert window.count(False) == 1, asked  # one in five reads everyone
    assert host.find(stopped).state == "shut off"
    # the vCPU group (costly for libvirtd, the count rarely moves) only with everyone
    assert with_vcpus == [not active_only for active_only in asked], (asked, with_vcpus)
    assert host.find(running).vcpus == 1  # kept between the samples that read it

    monkeypatch.setattr(host, "_on_lifecycle", lambda *args: None)  # events lost
    local_host.exec("virsh", "-c", "qemu:///system", "undefine", stopped)
    await until(lambda: host.find(stopped) is None, timeout=10)
    assert removed_by == [False]  # by a sample that asked for every guest
    assert host.find(running).state == "running"
