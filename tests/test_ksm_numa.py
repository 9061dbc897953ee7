"""KSM, NUMA cells and capabilities through the core, checked against what virsh says
about the same lab host, and a KSM tunable changed and read back.

KSM's tunables are machine-wide (/sys/kernel/mm/ksm): every test that changes one puts
the original value back in a `finally`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import libvirt
import pytest
from lxml import etree

from vtui.core.errors import VtuiError
from vtui.core.host import Host
from vtui.core.host.caps import capabilities, firmware, numa_cells
from vtui.core.host.ksm import KsmStatus, check_tunables, ksm_status, set_ksm_tunables

KSM_SYSFS = Path("/sys/kernel/mm/ksm")


@pytest.fixture
async def host(local_host):
    h = Host(local_host.uri)
    await h.connect()
    yield h
    await h.close()


def virsh(lab_host, *args: str) -> str:
    return lab_host.exec("virsh", "-q", "-c", "qemu:///system", *args).stdout


def node_memory_tune(lab_host) -> dict[str, int]:
    """`virsh node-memory-tune`: 'shm_pages_to_scan 100' lines."""
    values = {}
    for line in virsh(lab_host, "node-memory-tune").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].startswith("shm_") and parts[1].isdigit():
            values[parts[0]] = int(parts[1])
    return values


def freecell(lab_host) -> dict[int, int]:
    """`virsh freecell --all`: cell id -> free KiB."""
    cells = {}
    for line in virsh(lab_host, "freecell", "--all").splitlines():
        label, _, rest = line.partition(":")
        if label.strip().isdigit():
            cells[int(label)] = int(rest.split()[0])
    return cells


# -- KSM -----------------------------------------------------------------------------------------
async def test_ksm_numbers_match_virsh(host, local_host):
    status = await ksm_status(host)
    ksm = status.ksm
    assert ksm is not None and status.unavailable == "" and status.can_tune
    virsh_says = node_memory_tune(local_host)
    assert ksm.pages_to_scan == virsh_says["shm_pages_to_scan"]
    assert ksm.sleep_millisecs == virsh_says["shm_sleep_millisecs"]
    assert ksm.merge_across_nodes == bool(virsh_says["shm_merge_across_nodes"])
    run = int((KSM_SYSFS / "run").read_text())
    assert ksm.running_known and ksm.running == (run == 1)
    if run == 0:  # stopped: the counters cannot move between the two reads
        assert ksm.pages_shared == virsh_says["shm_pages_shared"]
        assert ksm.pages_sharing == virsh_says["shm_pages_sharing"]
        assert ksm.pages_unshared == virsh_says["shm_pages_unshared"]
        assert ksm.pages_volatile == virsh_says["shm_pages_volatile"]
        assert ksm.full_scans == virsh_says["shm_full_scans"]
    assert status.tunables == {"pages_to_scan", "sleep_millisecs", "merge_across_nodes"}


async def test_ksm_tunable_changed_read_back_and_restored(host, local_host):
    original = (await ksm_status(host)).ksm
    assert original is not None and original.pages_to_scan is not None
    wanted = original.pages_to_scan + 7
    try:
        after = await set_ksm_tunables(host, pages_to_scan=wanted)
        assert after.ksm is not None and after.ksm.pages_to_scan == wanted
        assert node_memory_tune(local_host)["shm_pages_to_scan"] == wanted
        assert int((KSM_SYSFS / "pages_to_scan").read_text()) == wanted  # machine-wide
        assert after.ksm.sleep_millisecs == original.sleep_millisecs  # the others untouched
    finally:

        def restore() -> None:
            conn = libvirt.open(local_host.uri)
            try:
                conn.setMemoryParameters({"shm_pages_to_scan": original.pages_to_scan}, 0)
            finally:
                conn.close()

        await asyncio.to_thread(restore)
    assert int((KSM_SYSFS / "pages_to_scan").read_text()) == original.pages_to_scan


async def test_ksm_bad_values_and_readonly_are_refused_before_anything_changes(local_host):
    host = Host(local_host.uri, readonly=True)
    await host.connect()
    try:
        before = (KSM_SYSFS / "pages_to_scan").read_text()
        status = await ksm_status(host)
        assert status.ksm is not None and not status.can_tune and "read-only" in status.cannot_tune
        with pytest.raises(VtuiError, match="read-only"):
            await set_ksm_tunables(host, pages_to_scan=123)
        assert (KSM_SYSFS / "pages_to_scan").read_text() == before
    finally:
        await host.close()
    writable = KsmStatus(
        status.ksm, tunables=frozenset({"pages_to_scan", "sleep_millisecs", "merge_across_nodes"})
    )
    for values, words in (
        ({"pages_to_scan": 0}, "pages to scan must be a whole number from 1"),
        ({"sleep_millisecs": -1}, "sleep millisecs must be a whole number from 0"),
        ({"pages_to_scan": True}, "whole number"),
        ({"sleep_millisecs": 2**32}, "whole number"),
        ({"merge_across_nodes": 1}, "yes or no"),
        ({"run": 1}, "unknown KSM tunable 'run'"),
    ):
        with pytest.raises(VtuiError) as err:
            check_tunables(writable, values, host="lab-a")
        assert words in str(err.value) and str(err.value).startswith("lab-a: ")
    assert check_tunables(writable, {"sleep_millisecs": 0}) == {"shm_sleep_millisecs": 0}


async def test_ksm_not_available_on_the_test_driver():
    host = Host("test:///default")
    await host.connect()
    try:
        status = await ksm_status(host)
        assert status.ksm is None and "not available" in status.unavailable
        with pytest.raises(VtuiError, match="KSM is not available"):
            await set_ksm_tunables(host, pages_to_scan=200)
    finally:
        await host.close()


# -- NUMA and capabilities -------------------------------------------------------------------------
async def test_numa_cells_match_virsh(host, local_host):
    caps_xml = etree.fromstring(virsh(local_host, "capabilities").encode())
    cells = await numa_cells(host)
    free = freecell(local_host)
    assert [c.id for c in cells] == sorted(free)
    for cell in cells:
        xml = caps_xml.find(f"host/topology/cells/cell[@id='{cell.id}']")
        assert cell.total_kib == int(xml.findtext("memory"))
        assert list(cell.cpus) == [int(c.get("id")) for c in xml.iterfind("cpus/cpu")]
        # free memory moves while other tests run: within 5% of the cell, read apart
        assert cell.free_kib is not None
        assert abs(cell.free_kib - free[cell.id]) < cell.total_kib * 0.05
    assert host.facts is not None and [c.cpus for c in host.facts.numa] == [c.cpus for c in cells]


async def test_capabilities_match_virsh_and_are_read_once(host, local_host):
    caps = await capabilities(host)
    assert await capabilities(host) is caps  # cached for this connection
    xml = etree.fromstring(virsh(local_host, "capabilities").encode())
    assert caps.arch == xml.findtext("host/cpu/arch")
    for guest in xml.iterfind("guest"):
        arch = guest.find("arch")
        mine = caps.arch_of(arch.get("name"), guest.findtext("os_type"))
        assert mine is not None
        assert set(mine.domain_types) == {d.get("type") for d in arch.iterfind("domain")}
        assert set(mine.machine_names()) == {m.text for m in arch.iterfind("machine")}
    x86 = caps.arch_of("x86_64")
    assert x86 is not None and "qemu" in x86.domain_types and "q35" in x86.machine_names()
    assert caps.kvm == ("kvm" in x86.domain_types)

    fw = caps.firmware
    assert fw is not None and caps.firmware_error == ""
    dom_xml = etree.fromstring(
        virsh(local_host, "domcapabilities", "--virttype", fw.domain_type).encode()
    )
    assert fw.machine == dom_xml.findtext("machine") and fw.arch == "x86_64"
    expected = [v.text for v in dom_xml.iterfind("os/loader/enum[@name='type']/value")]
    assert list(fw.loader_types) == expected
    q35 = await firmware(host, machine="q35", domain_type="qemu")
    assert q35.machine.startswith("pc-q35") and q35.domain_type == "qemu"
    assert await firmware(host, machine="q35", domain_type="qemu") is q35


async def test_test_driver_numa_and_no_firmware():
    host = Host("test:///default")
    await host.connect()
    try:
        caps = await capabilities(host)
        assert caps.firmware is None and caps.firmware_error == "not reported by this host's driver"
        cells = await numa_cells(host)
        assert [(c.id, c.cpus) for c in cells] == [(0, tuple(range(8))), (1, tuple(range(8, 16)))]
        assert all(c.free_kib is not None for c in cells)
        with pytest.raises(VtuiError, match="cannot read the firmware offered for x86_64"):
            await firmware(host, arch="x86_64")
    finally:
        await host.close()
