"""Virtual networks through the core: answers checked before anything changes, then
create/start/stop/delete against the lab's real libvirtd (its network driver runs
dnsmasq and iptables inside the lab host's namespaces), the test driver for the
read-only refusals, and lifecycle events from changes made by virsh.

Subnets are inside 10.78.0.0/16: private to the lab host's network namespace.
"""

from __future__ import annotations

import asyncio
import time

import libvirt
import pytest
from lxml import etree

from tests.lab.images import guest_xml
from tests.support import until
from vtui.core.errors import VtuiError
from vtui.core.host import Host, HostStatus
from vtui.core.networks import (
    InvalidAnswer,
    NetworkAnswers,
    VirtualNetwork,
    create_network,
    delete_network,
    get_network,
    list_network_names,
    list_networks,
    network_leases,
    network_users,
    plan_network,
    set_network_autostart,
    start_network,
    stop_network,
)
from vtui.core.networks.model import NetworkAddress
from vtui.core.networks.xml import parse_network


def other(name: str, *cidrs: str, bridge: str = "") -> VirtualNetwork:
    """An existing network of the host, as the listing returns it."""
    addresses = []
    for cidr in cidrs:
        address, prefix = cidr.split("/")
        family = "ipv6" if ":" in address else "ipv4"
        addresses.append(NetworkAddress(family, address, int(prefix)))
    return VirtualNetwork(name, "", True, True, False, bridge, "nat", addresses=addresses)


# -- checking the answers (no libvirt) --------------------------------------------------------
def test_isolated_plan_takes_first_address_and_upper_half_for_dhcp():
    plan = plan_network(NetworkAnswers("lab-iso", mode="isolated", ipv4="10.78.10.0/24"), [])
    (ipv4,) = plan.addresses
    assert (ipv4.address, ipv4.prefix) == ("10.78.10.1", 24)
    assert [(r.start, r.end) for r in ipv4.dhcp_ranges] == [("10.78.10.128", "10.78.10.254")]
    root = etree.fromstring(plan.xml.encode())
    assert root.find("forward") is None and root.find("bridge") is None  # libvirt picks one
    parsed = parse_network(root)
    assert parsed["forward_mode"] == "isolated" and parsed["addresses"] == [ipv4]


def test_nat_plan_with_own_gateway_range_ipv6_bridge_and_device():
    answers = NetworkAnswers(
        "wan é", mode="nat", ipv4="10.78.10.200/24", ipv6="fd00:78:10::/64",
        bridge="vtbr-wan", forward_dev="eth0",
    )  # fmt: skip
    plan = plan_network(answers, [other("x", "10.78.11.0/24", "fd00:78:11::1/64")])
    ipv4, ipv6 = plan.addresses
    assert ipv4.address == "10.78.10.200"
    # the host's address is in the upper half: the lower half is handed out
    assert [(r.start, r.end) for r in ipv4.dhcp_ranges] == [("10.78.10.1", "10.78.10.127")]
    assert (ipv6.family, ipv6.address, ipv6.prefix) == ("ipv6", "fd00:78:10::1", 64)
    parsed = parse_network(etree.fromstring(plan.xml.encode()))
    assert parsed["name"] == "wan é" and parsed["bridge"] == "vtbr-wan"
    assert (parsed["forward_mode"], parsed["forward_dev"]) == ("nat", "eth0")


def test_explicit_dhcp_range_and_no_dhcp():
    plan = plan_network(
        NetworkAnswers(
            "r", "route", "10.78.10.0/28", dhcp_start="10.78.10.5", dhcp_end="10.78.10.9"
        ),
        [],
    )
    assert [(r.start, r.end) for r in plan.addresses[0].dhcp_ranges] == [
        ("10.78.10.5", "10.78.10.9")
    ]
    plan = plan_network(NetworkAnswers("o", "open", "10.78.10.0/30", dhcp=False), [])
    assert plan.addresses[0].dhcp_ranges == () and plan.addresses[0].address == "10.78.10.1"


EXISTING = [other("lab-net", "10.78.12.0/24", "fd00:78:12::1/64", bridge="virbr7")]


@pytest.mark.parametrize(
    "answers, field, words",
    [
        (NetworkAnswers("", ipv4="10.78.1.0/24"), "name", "needs a name"),
        (NetworkAnswers("a/b", ipv4="10.78.1.0/24"), "name", "'/'"),
        (NetworkAnswers("a<b&'\"", ipv4="10.78.1.0/24"), "name", "'<'"),
        (NetworkAnswers(" pad", ipv4="10.78.1.0/24"), "name", "space"),
        (NetworkAnswers("lab-net", ipv4="10.78.1.0/24"), "name", "already has a network"),
        (NetworkAnswers("n", mode="bridgey", ipv4="10.78.1.0/24"), "mode", "unknown network mode"),
        (NetworkAnswers("n", ipv4="10.78.1.0"), "ipv4", "prefix length"),
        (NetworkAnswers("n", ipv4="10.78.300.0/24"), "ipv4", "not an IPv4 subnet"),
        (NetworkAnswers("n", ipv4="fd00::/64"), "ipv4", "not an IPv4 subnet"),
        (NetworkAnswers("n", ipv4="10.78.1.0/31"), "ipv4", "too small"),
        (NetworkAnswers("n", ipv4="127.0.0.0/24"), "ipv4", "reserved"),
        (NetworkAnswers("n", ipv4="10.78.1.255/24"), "ipv4", "broadcast"),
        (NetworkAnswers("n", ipv4="10.78.12.128/25"), "ipv4", "overlaps 10.78.12.0/24 of network 'lab-net'"),
        (NetworkAnswers("n", ipv4="10.78.0.0/16"), "ipv4", "overlaps"),
        (NetworkAnswers("n", mode="nat"), "ipv4", "NAT network needs an IPv4 subnet"),
        (NetworkAnswers("n", mode="route", ipv6=""), "ipv4", "routed network needs"),
        (NetworkAnswers("n", ipv4="10.78.1.0/24", dhcp_start="10.78.2.5", dhcp_end="10.78.2.9"), "dhcp_start", "outside"),
        (NetworkAnswers("n", ipv4="10.78.1.0/24", dhcp_start="10.78.1.5", dhcp_end="10.78.1.255"), "dhcp_end", "outside"),
        (NetworkAnswers("n", ipv4="10.78.1.0/24", dhcp_start="10.78.1.9", dhcp_end="10.78.1.5"), "dhcp_end", "before it starts"),
        (NetworkAnswers("n", ipv4="10.78.1.0/24", dhcp_start="10.78.1.1", dhcp_end="10.78.1.5"), "dhcp_start", "host's own address"),
        (NetworkAnswers("n", ipv4="10.78.1.0/24", dhcp_start="10.78.1.9"), "dhcp_end", "both"),
        (NetworkAnswers("n", ipv4="10.78.1.0/24", dhcp_start="x", dhcp_end="10.78.1.9"), "dhcp_start", "not an IPv4 address"),
        (NetworkAnswers("n", mode="isolated", dhcp_start="10.78.1.2", dhcp_end="10.78.1.3"), "ipv4", "needs an IPv4 subnet"),
        (NetworkAnswers("n", ipv4="10.78.1.0/24", ipv6="fd00:78:12:0:1::/80"), "ipv6", "overlaps"),
        (NetworkAnswers("n", ipv4="10.78.1.0/24", ipv6="fd00::zz/64"), "ipv6", "not an IPv6 subnet"),
        (NetworkAnswers("n", ipv4="10.78.1.0/24", bridge="virbr7"), "bridge", "already used by network 'lab-net'"),
        (NetworkAnswers("n", ipv4="10.78.1.0/24", bridge="a-very-long-bridge"), "bridge", "longer than 15"),
        (NetworkAnswers("n", ipv4="10.78.1.0/24", bridge="br 0"), "bridge", "not a valid bridge"),
        (NetworkAnswers("n", "isolated", "10.78.1.0/24", forward_dev="eth0"), "forward_dev", "only applies"),
    ],
)  # fmt: skip
def test_bad_answers_are_refused_with_one_line(answers, field, words):
    with pytest.raises(InvalidAnswer) as err:
        plan_network(answers, EXISTING)
    assert err.value.field == field
    assert words in str(err.value) and "\n" not in str(err.value)


# -- the test driver: read-only refusals, listing ----------------------------------------------
async def test_readonly_refuses_every_change_and_nothing_changes():
    host = Host("test:///default", readonly=True)
    await host.connect()
    try:
        before = await list_networks(host)
        attempts = [
            create_network(host, NetworkAnswers("ro-net", "isolated", "10.78.30.0/24")),
            start_network(host, "default"),
            stop_network(host, "default"),
            set_network_autostart(host, "default", True),
            delete_network(host, "default", attached_ok=True),
        ]
        for attempt in attempts:
            with pytest.raises(VtuiError) as err:
                await attempt
            text = str(err.value)
            assert "read-only" in text and "network" in text and "\n" not in text
        assert await list_networks(host) == before
    finally:
        await host.close()


async def test_test_driver_listing_and_unknown_name():
    host = Host("test:///default")
    await host.connect()
    try:
        (default,) = [n for n in await list_networks(host, leases=True) if n.name == "default"]
        assert default.active and default.forward_mode == "nat" and default.bridge == "virbr0"
        assert default.ipv4[0].cidr == "192.168.122.1/24"  # from netmask='255.255.255.0'
        assert [g.name for g in default.guests or []] == ["test"]
        with pytest.raises(VtuiError, match="no network called 'nope'"):
            await start_network(host, "nope")
    finally:
        await host.close()


# -- the lab's real libvirtd ----------------------------------------------------------------------
@pytest.fixture
async def host(local_host):
    h = Host(local_host.uri)
    await h.connect()
    yield h
    await h.close()


def virsh(lab_host, *args: str, check: bool = True) -> str:
    return lab_host.exec("virsh", "-q", "-c", "qemu:///system", *args, check=check).stdout


def all_network_names(lab_host) -> list[str]:
    return virsh(lab_host, "net-list", "--all", "--name").split()


def link_exists(lab_host, name: str) -> bool:
    return lab_host.exec("ip", "link", "show", name, check=False).returncode == 0


async def test_isolated_network_create_stop_start_delete(host, local_host, lab_networks):
    lab_networks.append("vt-iso")
    made = await create_network(host, NetworkAnswers("vt-iso", "isolated", "10.78.11.0/24"))
    assert made.active and made.persistent and made.autostart
    assert made.forward_mode == "isolated" and made.bridge.startswith("virbr")
    assert made.ipv4[0].cidr == "10.78.11.1/24"
    info = virsh(local_host, "net-info", "vt-iso")
    assert "Active:         yes" in info and "Autostart:      yes" in info
    address = local_host.exec("ip", "-4", "addr", "show", made.bridge).stdout
    assert "10.78.11.1/24" in address  # the bridge really is up with our address
    dnsmasq_conf = local_host.exec("cat", "/var/lib/libvirt/dnsmasq/vt-iso.conf").stdout
    assert "dhcp-range=10.78.11.128,10.78.11.254" in dnsmasq_conf

    await stop_network(host, "vt-iso")
    assert not (await get_network(host, "vt-iso")).active
    assert not link_exists(local_host, made.bridge)
    await set_network_autostart(host, "vt-iso", False)
    await start_network(host, "vt-iso")
    again = await get_network(host, "vt-iso")
    assert again.active and not again.autostart and again.leases == []

    await delete_network(host, "vt-iso")
    assert "vt-iso" not in all_network_names(local_host)
    assert not link_exists(local_host, made.bridge)


async def test_open_network_with_ipv6_and_own_bridge(host, local_host, lab_networks):
    lab_networks.append("vt-open")
    answers = NetworkAnswers(
        "vt-open", "open", "10.78.19.0/24", dhcp=False, ipv6="fd00:78:19::/64",
        bridge="vtbr-open", autostart=False,
    )  # fmt: skip
    made = await create_network(host, answers)
    assert (made.forward_mode, made.bridge, made.autostart) == ("open", "vtbr-open", False)
    assert [a.cidr for a in made.addresses] == ["10.78.19.1/24", "fd00:78:19::1/64"]
    xml = etree.fromstring(virsh(local_host, "net-dumpxml", "vt-open").encode())
    assert xml.find("forward").get("mode") == "open" and xml.find("ip/dhcp") is None
    assert "fd00:78:19::1/64" in local_host.exec("ip", "-6", "addr", "show", "vtbr-open").stdout
    await delete_network(host, "vt-open")
    assert not link_exists(local_host, "vtbr-open")


async def test_overlapping_subnet_is_refused_and_nothing_changes(host, local_host, lab_networks):
    lab_networks += ["vt-first", "vt-second"]
    await create_network(host, NetworkAnswers("vt-first", "isolated", "10.78.12.0/24"))
    before = all_network_names(local_host)
    with pytest.raises(InvalidAnswer) as err:
        await create_network(host, NetworkAnswers("vt-second", "nat", "10.78.12.128/25"))
    assert str(err.value) == (
        f"{host.name}: cannot create network vt-second: subnet 10.78.12.128/25 overlaps "
        "10.78.12.0/24 of network 'vt-first'"
    )
    assert all_network_names(local_host) == before


async def test_failed_start_undoes_the_definition(host, local_host, lab_networks):
    lab_networks.append("vt-clash")
    before = all_network_names(local_host)
    answers = NetworkAnswers("vt-clash", "isolated", "10.78.14.0/24", bridge="eth0")
    with pytest.raises(VtuiError) as err:
        await create_network(host, answers)  # eth0 exists: libvirt cannot make the bridge
    text = str(err.value)
    assert text.startswith(f"{host.name}: cannot create network vt-clash: ") and "eth0" in text
    assert "\n" not in text and "undoing" not in text
    assert all_network_names(local_host) == before  # the definition was removed again
    assert "10.78.14" not in local_host.exec("ip", "addr").stdout


@pytest.fixture
def attached_guest(local_host, guest_image):
    """define(name, network) -> starts a tiny guest with one interface on the network."""
    kernel, initrd = guest_image
    made: list[str] = []

    def define(name: str, network: str) -> None:
        root = etree.fromstring(guest_xml(name, kernel, initrd).encode())
        iface = etree.SubElement(root.find("devices"), "interface", type="network")
        etree.SubElement(iface, "source", network=network)
        etree.SubElement(iface, "model", type="virtio")
        conn = libvirt.open(local_host.uri)
        try:
            dom = conn.defineXML(etree.tostring(root, encoding="unicode"))
            made.append(name)
            dom.create()
        finally:
            conn.close()

    yield define
    conn = libvirt.open(local_host.uri)
    try:
        for name in made:
            try:
                dom = conn.lookupByName(name)
                if dom.isActive():
                    dom.destroy()
                dom.undefine()
            except libvirt.libvirtError:
                pass
    finally:
        conn.close()


async def test_nat_network_with_a_guest_attached(host, local_host, lab_networks, attached_guest):
    lab_networks.append("vt-nat")
    made = await create_network(host, NetworkAnswers("vt-nat", "nat", "10.78.13.0/24"))
    assert made.active and made.forward_mode == "nat"
    nat_rules = local_host.exec("iptables", "-t", "nat", "-S").stdout
    assert "10.78.13.0/24" in nat_rules and "MASQUERADE" in nat_rules
    await asyncio.to_thread(attached_guest, "vt-nat-guest", "vt-nat")

    (net,) = [n for n in await list_networks(host) if n.name == "vt-nat"]
    assert [(g.name, g.active) for g in net.guests or []] == [("vt-nat-guest", True)]
    assert net.guests and len(net.guests[0].macs) == 1
    assert [g.name for g in await network_users(host, "vt-nat")] == ["vt-nat-guest"]

    with pytest.raises(VtuiError) as err:
        await delete_network(host, "vt-nat")
    assert "vt-nat-guest (running)" in str(err.value) and "\n" not in str(err.value)
    assert "vt-nat" in all_network_names(local_host)  # refused: nothing deleted
    await delete_network(host, "vt-nat", attached_ok=True)
    assert "vt-nat" not in all_network_names(local_host)


LEASE_NETWORK = """\
<network xmlns:dnsmasq='http://libvirt.org/schemas/network/dnsmasq/1.0'>
  <name>vt-lease</name>
  <bridge name='vtlease0' stp='off'/>
  <ip address='10.78.15.1' prefix='24'>
    <dhcp><range start='10.78.15.100' end='10.78.15.150'/></dhcp>
  </ip>
  <dnsmasq:options><dnsmasq:option value='no-ping'/></dnsmasq:options>
</network>
"""


async def test_dhcp_leases_of_a_real_client(host, local_host, lab_networks):
    """busybox's udhcpc asks the network's dnsmasq for a lease through a veth in the
    lab host's namespace: no guest network driver needed, nothing leaves the netns."""
    lab_networks.append("vt-lease")
    conn = libvirt.open(local_host.uri)
    try:
        conn.networkDefineXML(LEASE_NETWORK).create()
    finally:
        conn.close()
    mac = "52:54:00:78:15:01"
    local_host.exec(
        "ip", "link", "add", "vtdhcp0", "address", mac, "type", "veth", "peer", "name", "vtdhcp0p"
    )  # fmt: skip
    try:
        local_host.exec("ip", "link", "set", "vtdhcp0p", "master", "vtlease0", "up")
        local_host.exec("ip", "link", "set", "vtdhcp0", "up")
        local_host.exec(
            "busybox", "udhcpc", "-i", "vtdhcp0", "-n", "-q", "-t", "10", "-T", "1",
            "-x", "hostname:vt-client", "-s", "/bin/true",
        )  # fmt: skip
        leases: list = []

        async def leased() -> bool:
            leases[:] = await network_leases(host, "vt-lease") or []
            return bool(leases)

        for _ in range(40):  # libvirt's leases helper writes the file just after the ack
            if await leased():
                break
            await asyncio.sleep(0.05)
        (lease,) = leases
        assert lease.mac == mac and lease.hostname == "vt-client" and lease.family == "ipv4"
        assert lease.ip.startswith("10.78.15.") and 100 <= int(lease.ip.rsplit(".", 1)[1]) <= 150
        assert lease.prefix == 24 and lease.expires_at and lease.expires_at > time.time()
        (net,) = [n for n in await list_networks(host, leases=True) if n.name == "vt-lease"]
        assert net.leases == leases
    finally:
        local_host.exec("ip", "link", "del", "vtdhcp0", check=False)


async def test_events_of_networks_changed_by_virsh(host, local_host, lab_networks, tmp_path):
    lab_networks.append("vt-events")
    assert {"network", "pool", "nodedev"} <= host.resource_events.kinds
    seen: list[tuple[float, str]] = []
    host.subscribe(
        lambda c: (
            ("network", "vt-events") in c.resources and seen.append((time.monotonic(), c.event))
        )
    )
    xml = tmp_path / "vt-events.xml"
    xml.write_text(
        "<network><name>vt-events</name><ip address='10.78.16.1' prefix='24'/></network>"
    )
    for command, event in (
        (("net-define", str(xml)), "network vt-events defined"),
        (("net-start", "vt-events"), "network vt-events started"),
        (("net-destroy", "vt-events"), "network vt-events stopped"),
        (("net-undefine", "vt-events"), "network vt-events undefined"),
    ):
        began = time.monotonic()
        await asyncio.to_thread(virsh, local_host, *command)
        await until(lambda e=event: any(what == e for _, what in seen), 2, event)
        arrived = next(at for at, what in seen if what == event)
        assert arrived - began < 2.0  # includes virsh's own start-up in the namespace


async def test_over_the_ssh_tunnel(lab, local_host, lab_networks, private_home):
    """The same core through vtui's own SSH tunnel: listing, a lifecycle event, and
    KSM's run switch read over the SSH session."""
    from vtui.core.fleet import Fleet
    from vtui.core.fleet.targets import add_target
    from vtui.core.host.ksm import ksm_status

    lab_networks.append("vt-ssh")
    fleet = Fleet()
    host = add_target(fleet, "lab-a", ssh_config=lab.ssh_config)
    try:
        assert await fleet.connect_all() == []
        seen: list[str] = []
        host.subscribe(lambda c: ("network", "vt-ssh") in c.resources and seen.append(c.event))
        made = await create_network(host, NetworkAnswers("vt-ssh", "route", "10.78.18.0/24"))
        assert made.active and made.forward_mode == "route"
        await until(lambda: "network vt-ssh started" in seen, 2, "event over the tunnel")
        full = await list_networks(host)
        assert "vt-ssh" in [n.name for n in full]
        # the first paint's listing: the same rows, states and flags, no XML read yet
        names = await list_network_names(host)
        assert [(n.name, n.uuid, n.active, n.persistent, n.autostart) for n in names] == [
            (n.name, n.uuid, n.active, n.persistent, n.autostart) for n in full
        ]
        assert not any(n.described for n in names) and all(n.described for n in full)
        status = await ksm_status(host)
        assert status.ksm is not None and status.ksm.running_known
    finally:
        await fleet.close()


async def test_events_registered_again_after_a_reconnect(local_host, lab_networks, tmp_path):
    lab_networks.append("vt-relink")
    host = Host(local_host.uri)
    await host.connect()
    try:
        assert host.resource_events.registered == 4  # networks, pools (2), node devices
        await asyncio.to_thread(local_host.stop_libvirtd)
        try:
            await until(lambda: host.status is HostStatus.DISCONNECTED, 30, "disconnected")
        finally:
            await asyncio.to_thread(local_host.start_libvirtd)
        await until(lambda: host.status is HostStatus.CONNECTED, 30, "reconnected")
        # the dead connection's callbacks are dropped with it, the new one has its own
        await until(lambda: host.resource_events.registered == 4, 5, "old callbacks dropped")
        seen: list[str] = []
        host.subscribe(lambda c: ("network", "vt-relink") in c.resources and seen.append(c.event))
        xml = tmp_path / "vt-relink.xml"
        xml.write_text("<network><name>vt-relink</name></network>")
        await asyncio.to_thread(virsh, local_host, "net-define", str(xml))
        await until(lambda: "network vt-relink defined" in seen, 2, "event after reconnect")
    finally:
        await host.close()
    assert host.resource_events.registered == 0
