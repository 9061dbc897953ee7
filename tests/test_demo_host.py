"""The packaged demo host (src/vtui/data/demo-host.xml) loads in libvirt's test driver.

The file is opened exactly the way vtui's demo mode does: through libvirt-python,
read-only, with a ``test:///<absolute path>`` URI.  Everything is in memory; no
hypervisor, daemon or root is needed.
"""

from __future__ import annotations

import importlib.resources
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from vtui.core.host.stats import STATS_GROUPS

MiB = 1024  # KiB
GiB = 1024 * MiB  # KiB


def demo_host_path() -> Path:
    ref = importlib.resources.files("vtui") / "data" / "demo-host.xml"
    path = Path(str(ref))
    assert path.is_absolute()
    return path


def open_demo() -> libvirt.virConnect:
    return libvirt.openReadOnly("test:///" + str(demo_host_path()))


@pytest.fixture(scope="module")
def conn() -> Iterator[libvirt.virConnect]:
    c = open_demo()
    try:
        yield c
    finally:
        c.close()


@pytest.fixture(scope="module")
def domains(conn: libvirt.virConnect) -> list[libvirt.virDomain]:
    return conn.listAllDomains(0)


def dom_xml(dom: libvirt.virDomain) -> ET.Element:
    return ET.fromstring(dom.XMLDesc(0))


def test_file_is_shipped_in_the_package() -> None:
    path = demo_host_path()
    assert path.is_file()
    assert path.read_text(encoding="utf-8").lstrip().startswith("<?xml")


def test_opens_with_the_test_driver(conn: libvirt.virConnect) -> None:
    assert conn.getType() == "TEST"
    assert conn.isAlive() == 1


def test_opening_prints_nothing_to_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    # libvirt logs parse warnings (e.g. a snapshot without an embedded <domain>)
    # straight to fd 2, which would scribble over a full-screen TUI.
    capfd.readouterr()
    c = open_demo()
    try:
        c.listAllDomains(0)
    finally:
        c.close()
    assert capfd.readouterr().err == ""


def test_node_looks_like_a_small_server(conn: libvirt.virConnect) -> None:
    model, mem_mib, cpus, mhz, nodes, sockets, cores, threads = conn.getInfo()
    assert mem_mib == 128 * 1024
    assert (nodes, sockets, cores, threads) == (2, 1, 8, 2)
    assert cpus == 32
    assert mhz > 1000
    assert model
    caps = ET.fromstring(conn.getCapabilities())
    assert caps.find("host") is not None


def test_at_least_25_guests_with_unique_identities(domains: list[libvirt.virDomain]) -> None:
    assert len(domains) >= 25
    names = [d.name() for d in domains]
    uuids = [d.UUIDString() for d in domains]
    assert len(set(names)) == len(names)
    assert len(set(uuids)) == len(uuids)
    macs = [
        m.get("address") for d in domains for m in dom_xml(d).iterfind("./devices/interface/mac")
    ]
    assert len(set(macs)) == len(macs)


def test_every_state_is_present(domains: list[libvirt.virDomain]) -> None:
    states = Counter(d.state()[0] for d in domains)
    for state in (
        libvirt.VIR_DOMAIN_RUNNING,
        libvirt.VIR_DOMAIN_PAUSED,
        libvirt.VIR_DOMAIN_SHUTOFF,
        libvirt.VIR_DOMAIN_CRASHED,
        libvirt.VIR_DOMAIN_PMSUSPENDED,
    ):
        assert states[state] >= 1, state
    assert states[libvirt.VIR_DOMAIN_RUNNING] > len(domains) // 2
    assert states[libvirt.VIR_DOMAIN_PAUSED] >= 2
    assert states[libvirt.VIR_DOMAIN_SHUTOFF] >= 3


def test_active_guests_have_ids_and_inactive_ones_do_not(
    domains: list[libvirt.virDomain],
) -> None:
    for d in domains:
        if d.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF:
            assert d.isActive() == 0 and d.ID() == -1, d.name()
        else:
            assert d.isActive() == 1 and d.ID() > 0, d.name()


def test_transient_managed_save_and_snapshots(
    conn: libvirt.virConnect, domains: list[libvirt.virDomain]
) -> None:
    transient = [d for d in domains if not d.isPersistent()]
    assert len(transient) >= 2
    assert all(d.isActive() for d in transient)

    saved = [d for d in domains if d.hasManagedSaveImage(0)]
    assert saved
    assert all(d.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF for d in saved)

    with_snaps = conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT)
    assert with_snaps
    dom = with_snaps[0]
    assert dom.snapshotNum(0) >= 2
    assert dom.hasCurrentSnapshot(0) == 1


def test_all_domain_stats_has_a_record_per_guest(
    conn: libvirt.virConnect, domains: list[libvirt.virDomain]
) -> None:
    records = conn.getAllDomainStats()
    by_name = {dom.name(): stats for dom, stats in records}
    assert sorted(by_name) == sorted(d.name() for d in domains)
    for d in domains:
        assert by_name[d.name()]["state.state"] == d.state()[0], d.name()

    # Asking for every group (as vtui does) must not fail either, even though
    # the 9.0 test driver only fills in the state group.
    assert len(conn.getAllDomainStats(STATS_GROUPS)) == len(domains)


def test_guest_shapes_are_varied_and_realistic(domains: list[libvirt.virDomain]) -> None:
    two_disks = two_nics = serial = 0
    for d in domains:
        _state, max_kib, cur_kib, vcpus, _cpu_time = d.info()
        assert 1 <= vcpus <= 16, d.name()
        assert 512 * MiB <= max_kib <= 32 * GiB, d.name()
        assert 0 < cur_kib <= max_kib, d.name()
        root = dom_xml(d)
        disks = root.findall("./devices/disk[@device='disk']")
        nics = root.findall("./devices/interface")
        assert disks, d.name()
        assert nics, d.name()
        two_disks += len(disks) >= 2
        two_nics += len(nics) >= 2
        serial += root.find("./devices/serial") is not None
    assert two_disks >= 2
    assert two_nics >= 2
    assert serial > len(domains) // 2
    assert len({d.info()[3] for d in domains}) >= 4
    assert len({d.info()[1] for d in domains}) >= 4


def test_networks(conn: libvirt.virConnect, domains: list[libvirt.virDomain]) -> None:
    nets = {n.name(): n for n in conn.listAllNetworks(0)}
    assert {"default", "lan", "storage"} <= set(nets)

    default = ET.fromstring(nets["default"].XMLDesc(0))
    assert default.find("forward").get("mode") == "nat"
    ip = default.find("ip")
    assert (ip.get("address"), ip.get("netmask")) == ("192.168.122.1", "255.255.255.0")
    assert ip.find("dhcp/range") is not None

    lan = ET.fromstring(nets["lan"].XMLDesc(0))
    assert lan.find("forward").get("mode") == "bridge"

    storage = ET.fromstring(nets["storage"].XMLDesc(0))
    assert storage.find("forward") is None  # isolated

    for d in domains:
        for src in dom_xml(d).iterfind("./devices/interface[@type='network']/source"):
            assert src.get("network") in nets, (d.name(), src.get("network"))


def test_pools_and_volumes(conn: libvirt.virConnect) -> None:
    pools = {p.name(): p for p in conn.listAllStoragePools(0)}
    assert {"default", "iso"} <= set(pools)
    for pool in pools.values():
        assert pool.isActive() == 1
        _state, capacity, allocation, available = pool.info()
        assert 0 < allocation < capacity
        assert allocation + available == capacity

    default = ET.fromstring(pools["default"].XMLDesc(0))
    assert default.findtext("target/path") == "/var/lib/libvirt/images"
    assert len(pools["default"].listAllVolumes(0)) >= 25
    assert pools["iso"].listAllVolumes(0)
    for vol in pools["default"].listAllVolumes(0):
        _type, capacity, allocation = vol.info()
        assert 0 < allocation <= capacity, vol.name()


def test_every_guest_disk_is_an_existing_volume(
    conn: libvirt.virConnect, domains: list[libvirt.virDomain]
) -> None:
    known = {vol.path() for pool in conn.listAllStoragePools(0) for vol in pool.listAllVolumes(0)}
    for d in domains:
        for disk in dom_xml(d).iterfind("./devices/disk"):
            assert disk.get("type") == "file", d.name()
            path = disk.find("source").get("file")
            assert path in known, (d.name(), path)
            assert conn.storageVolLookupByPath(path).path() == path
