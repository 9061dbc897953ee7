"""Guest configuration through the core against the lab's real libvirtd (QEMU, TCG):
hot-plug seen from inside the guest, CD media, refusals that change nothing, live
versus persistent, and guests of unusual shapes."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor

import libvirt
import pytest
from lxml import etree

from tests.lab.console import SerialConsole
from tests.lab.events import ensure_event_loop
from tests.lab.images import READY_LINE
from tests.lab.pools import volumes_in
from tests.lab.virtio import ensure_virtio_image, virtio_guest_xml
from vtui.core.errors import VtuiError
from vtui.core.guests.config import (
    NewDisk,
    Scope,
    apply,
    plan_add_device,
    plan_add_disk,
    plan_add_nic,
    plan_attach_hostdev,
    plan_boot,
    plan_change_media,
    plan_detach_hostdev,
    plan_disk_properties,
    plan_full_xml,
    plan_link,
    plan_memory,
    plan_metadata,
    plan_nic_properties,
    plan_remove_device,
    plan_remove_disk,
    plan_remove_nic,
    plan_resize_disk,
    plan_vcpus,
    read_addresses,
    read_config,
)
from vtui.core.host import Host, HostDevice

pytestmark = pytest.mark.lab
MiB = 1024 * 1024
NET_SUBNET = "10.78.201"  # inside the lab host's own network namespace


def _in_thread(fn, *args):
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


@pytest.fixture
def network(local_host):
    """An isolated virtual network with DHCP, inside the lab host."""
    name = f"vtui-cfg-{uuid.uuid4().hex[:6]}"
    root = etree.Element("network")
    etree.SubElement(root, "name").text = name
    etree.SubElement(root, "bridge", name=f"vtc{uuid.uuid4().hex[:8]}")
    ip = etree.SubElement(root, "ip", address=f"{NET_SUBNET}.1", netmask="255.255.255.0")
    etree.SubElement(
        etree.SubElement(ip, "dhcp"), "range", start=f"{NET_SUBNET}.10", end=f"{NET_SUBNET}.50"
    )

    def make():
        conn = libvirt.open(local_host.uri)
        try:
            conn.networkCreateXML(etree.tostring(root, encoding="unicode"))
        finally:
            conn.close()

    def remove():
        conn = libvirt.open(local_host.uri)
        try:
            conn.networkLookupByName(name).destroy()
        except libvirt.libvirtError:
            pass
        finally:
            conn.close()

    _in_thread(make)
    yield name
    _in_thread(remove)


@pytest.fixture
def virtio_guest(local_host):
    """make(start=True, extra=[device elements]) -> name: the virtio lab guest."""
    kernel, initrd = ensure_virtio_image()
    made: list[str] = []

    def define(name: str, start: bool, extra: list[etree._Element]):
        root = etree.fromstring(virtio_guest_xml(name, kernel, initrd).encode())
        for elem in extra:
            root.find("devices").append(elem)
        conn = libvirt.open(local_host.uri)
        try:
            dom = conn.defineXML(etree.tostring(root, encoding="unicode"))
            made.append(name)
            if start:
                dom.create()
        finally:
            conn.close()

    def make(start: bool = True, extra: list[etree._Element] | None = None) -> str:
        name = f"vtui-cfg-{uuid.uuid4().hex[:8]}"
        _in_thread(define, name, start, extra or [])
        return name

    yield make

    def cleanup():
        conn = libvirt.open(local_host.uri)
        try:
            for name in made:
                try:
                    dom = conn.lookupByName(name)
                    if dom.isActive():
                        dom.destroy()
                    dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
                except libvirt.libvirtError:
                    pass
        finally:
            conn.close()

    _in_thread(cleanup)


class GuestShell:
    """The guest's serial console, for asking it what it sees."""

    def __init__(self, uri: str, name: str):
        ensure_event_loop()  # before the connection that carries the stream
        self.conn = libvirt.open(uri)
        self.con = SerialConsole(self.conn, self.conn.lookupByName(name))

    def wait_ready(self) -> None:
        self.con.expect(READY_LINE, 90)
        self.con.expect("/ # ", 30)

    def run(self, line: str, timeout: float = 20) -> str:
        return self.con.run(line, timeout=timeout).decode(errors="replace")

    def close(self) -> None:
        self.con.close()
        self.conn.close()


async def shell(uri: str, name: str) -> GuestShell:
    sh = await asyncio.to_thread(GuestShell, uri, name)
    await asyncio.to_thread(sh.wait_ready)
    return sh


async def guest_sees(sh: GuestShell, command: str, wanted: str, present: bool = True) -> str:
    """Ask the guest until `wanted` is (or is no longer) in the answer (hot-plug takes
    the guest a moment)."""
    answer = ""
    for _ in range(40):
        answer = await asyncio.to_thread(sh.run, command)
        if (wanted in answer) is present:
            return answer
        await asyncio.sleep(0.5)
    raise AssertionError(f"{command!r}: {wanted!r} {'not ' if present else ''}seen; got {answer!r}")


def dumpxml(uri: str, name: str, *extra: str) -> bytes:
    return subprocess.run(
        ["virsh", "-c", uri, "dumpxml", name, *extra], capture_output=True, check=True
    ).stdout


async def config_of(host: Host, name: str):
    conn = host.require_conn()
    uuid_ = await host.call(lambda: conn.lookupByName(name).UUIDString())
    return await read_config(host, uuid_)


# -- hot-plug ----------------------------------------------------------------------------
async def test_hotplug_nic_and_new_disk_seen_by_guest_then_unplugged(
    host, local_host, virtio_guest, network, pool
):
    name = virtio_guest()
    sh = await shell(local_host.uri, name)
    try:
        assert "eth0" not in await asyncio.to_thread(sh.run, "ls /sys/class/net")
        config = await config_of(host, name)
        plan = plan_add_nic(config, "network", network, mac="52:54:00:7a:01:02")
        assert plan.default_scope is Scope.BOTH
        assert (
            "attach-device" in plan.virsh(Scope.BOTH)[0]
            and "--live --config" in plan.virsh(Scope.BOTH)[0]
        )
        assert f'<source network="{network}"/>' in plan.diff(Scope.BOTH)
        done = await apply(host, plan, Scope.BOTH)
        assert done.config.live.nic("52:54:00:7a:01:02").source == network
        assert done.config.persistent_view.nic("52:54:00:7a:01:02") is not None
        assert not done.pending
        await guest_sees(sh, "ls /sys/class/net", "eth0")

        spec = NewDisk(bus="virtio", pool=pool, volume="hot.qcow2", create_bytes=16 * MiB)
        plan = await plan_add_disk(host, done.config, spec)
        assert plan.title.startswith("add disk vda")
        assert any(
            line.startswith("virsh -c") and "vol-create-as" in line
            for line in plan.virsh(Scope.BOTH)
        )
        done = await apply(host, plan, Scope.BOTH)
        disk = done.config.live.disk("vda")
        assert (disk.pool, disk.volume, disk.format) == (pool, "hot.qcow2", "qcow2")
        assert volumes_in(local_host.uri, pool) == ["hot.qcow2"]
        await guest_sees(sh, "ls /sys/block", "vda")
        assert (await asyncio.to_thread(sh.run, "cat /sys/block/vda/size")).count(
            str(16 * MiB // 512)
        )

        plan = await plan_remove_disk(host, done.config, "vda", delete_volume=True)
        assert plan.allowed() == [Scope.BOTH]  # the volume goes only with both definitions
        assert "hot.qcow2" in plan.loses
        done = await apply(host, plan, Scope.BOTH)
        assert (
            done.config.live.disk("vda") is None and done.config.persistent_view.disk("vda") is None
        )
        assert volumes_in(local_host.uri, pool) == []
        await guest_sees(sh, "ls /sys/block", "vda", present=False)

        plan = plan_remove_nic(done.config, "52:54:00:7a:01:02")
        done = await apply(host, plan, Scope.BOTH)
        assert done.config.live.nic("52:54:00:7a:01:02") is None
        await guest_sees(sh, "ls /sys/class/net", "eth0", present=False)
    finally:
        await asyncio.to_thread(sh.close)


async def test_link_down_live_and_addresses_from_dhcp_leases(
    host, local_host, virtio_guest, network
):
    name = virtio_guest()
    sh = await shell(local_host.uri, name)
    try:
        config = await config_of(host, name)
        done = await apply(host, plan_add_nic(config, "network", network), Scope.LIVE)
        mac = done.config.live.nics[0].mac
        assert done.config.persistent_view.nic(mac) is None  # live only
        assert any("added" in p.text or "removed" in p.text for p in done.config.pending)
        await guest_sees(sh, "ls /sys/class/net", "eth0")
        dhcp = await asyncio.to_thread(sh.run, "ip link set eth0 up; udhcpc -i eth0 -n -q -t 5", 40)
        assert "obtained" in dhcp, dhcp
        for _ in range(50):  # dnsmasq tells libvirt of the lease a moment after the guest
            found = await read_addresses(host, config.uuid)
            if found.addresses:
                break
            await asyncio.sleep(0.2)
        assert found.source == "DHCP leases", found.note
        assert found.addresses[0].address.startswith(f"{NET_SUBNET}.")
        assert found.addresses[0].mac == mac

        plan = plan_link(done.config, mac, up=False)
        assert plan.virsh(Scope.LIVE)[0].endswith(f"domif-setlink {name} {mac} down")
        assert Scope.BOTH not in plan.allowed()  # the NIC is not in the persistent one
        done = await apply(host, plan, Scope.LIVE)
        assert done.config.live.nic(mac).link == "down"
        await guest_sees(sh, "cat /sys/class/net/eth0/carrier", "0")
        done = await apply(host, plan_link(done.config, mac, up=True), Scope.LIVE)
        await guest_sees(sh, "cat /sys/class/net/eth0/carrier", "1")
    finally:
        await asyncio.to_thread(sh.close)


# -- CD media ----------------------------------------------------------------------------
def _cdrom() -> etree._Element:
    disk = etree.Element("disk", type="file", device="cdrom")
    etree.SubElement(disk, "driver", name="qemu", type="raw")
    etree.SubElement(disk, "target", dev="hdc", bus="ide")
    etree.SubElement(disk, "readonly")
    return disk


def _make_image(uri: str, pool: str, name: str) -> str:
    def make():
        conn = libvirt.open(uri)
        try:
            xml = f"<volume><name>{name}</name><capacity>1048576</capacity></volume>"
            return conn.storagePoolLookupByName(pool).createXML(xml, 0).path()
        finally:
            conn.close()

    return _in_thread(make)


async def test_change_cd_media_of_running_guest_then_eject(host, local_host, virtio_guest, pool):
    first = _make_image(local_host.uri, pool, "one.iso")
    second = _make_image(local_host.uri, pool, "two.iso")
    name = virtio_guest(extra=[_cdrom()])
    # A booting kernel probes its CD drive and closes the tray on QEMU's changes
    # ("Tray of the device is not open", the guest left unchanged): a user swaps
    # discs in a guest that is up, so the test waits for its shell first.
    (await shell(local_host.uri, name)).close()
    config = await config_of(host, name)
    assert config.live.disk("hdc").source == ""

    plan = plan_change_media(config, "hdc", first)
    assert plan.virsh(Scope.BOTH)[0].endswith(
        f"change-media {name} hdc {first} --update --live --config"
    )
    done = await apply(host, plan, Scope.BOTH)
    assert done.config.live.disk("hdc").source == first
    assert done.config.persistent_view.disk("hdc").source == first

    done = await apply(host, plan_change_media(done.config, "hdc", second), Scope.LIVE)
    assert done.config.live.disk("hdc").source == second
    assert [p.section for p in done.config.pending] == ["disks"]  # persistent still has one

    plan = plan_change_media(done.config, "hdc", "")
    assert "--eject" in plan.virsh(Scope.BOTH)[0]
    done = await apply(host, plan, Scope.BOTH)
    assert done.config.live.disk("hdc").source == ""
    assert done.config.persistent_view.disk("hdc").source == ""
    assert not done.config.pending


# -- refusals change nothing -------------------------------------------------------------
async def test_invalid_edits_are_refused_and_dumpxml_stays_byte_identical(
    host, local_host, virtio_guest
):
    name = virtio_guest()
    config = await config_of(host, name)
    before = dumpxml(local_host.uri, name), dumpxml(local_host.uri, name, "--inactive")
    broken = config.persistent_xml.replace("</devices>", "<devices>", 1)
    with pytest.raises(VtuiError) as malformed:
        await apply(host, plan_full_xml(config, broken), Scope.PERSISTENT)
    spec = NewDisk(bus="bogus", path="/var/lib/libvirt/nothing.img", format="raw")
    with pytest.raises(VtuiError) as bad_bus:
        await apply(host, await plan_add_disk(host, config, spec), Scope.BOTH)
    too_much = config.persistent_view.memory.maximum_kib * 2
    with pytest.raises(VtuiError) as above_max:
        await apply(host, plan_memory(config, current_kib=too_much), Scope.BOTH)
    edited = config.persistent_xml.replace(
        "<on_crash>destroy</on_crash>", "<on_crash>explode</on_crash>"
    )
    with pytest.raises(VtuiError) as invalid:
        await apply(host, plan_full_xml(config, edited), Scope.PERSISTENT)
    for refused, words in (
        (malformed, "cannot define the edited XML"),
        (bad_bus, "bogus"),
        (above_max, "cannot set memory higher than max memory"),
        (invalid, "validate"),
    ):
        text = str(refused.value)
        assert words in text and "\n" not in text, text
    assert (dumpxml(local_host.uri, name), dumpxml(local_host.uri, name, "--inactive")) == before


async def test_a_failed_second_step_undoes_the_first(host, local_host, virtio_guest):
    """Live then persistent: when the persistent call fails, the live change is undone."""
    name = virtio_guest()
    config = await config_of(host, name)
    before = dumpxml(local_host.uri, name), dumpxml(local_host.uri, name, "--inactive")
    plan = plan_metadata(config, title="for a moment")
    failing = plan.build

    def build(scope):
        steps, lines = failing(scope)
        steps[-1].run = lambda ctx: ctx.dom.setMetadata(99, "x", None, None, 0)  # no such kind
        return steps, lines

    plan.build = build
    with pytest.raises(VtuiError):
        await apply(host, plan, Scope.BOTH)
    assert (dumpxml(local_host.uri, name), dumpxml(local_host.uri, name, "--inactive")) == before


# -- live versus persistent --------------------------------------------------------------
async def restart(host: Host, name: str) -> None:
    conn = host.require_conn()

    def work():
        dom = conn.lookupByName(name)
        dom.destroy()
        dom.create()

    await host.call(work)


async def test_live_only_is_gone_after_restart_persistent_only_appears(host, virtio_guest):
    name = virtio_guest()
    config = await config_of(host, name)
    done = await apply(host, plan_metadata(config, title="live only"), Scope.LIVE)
    assert done.config.live.title == "live only" and done.config.persistent_view.title == ""
    assert [p.text for p in done.config.pending] == [
        "title: live only now, none from the next start"
    ]
    done = await apply(host, plan_vcpus(done.config, count=2, maximum=2), Scope.PERSISTENT)
    memory = config.persistent_view.memory.maximum_kib - 32 * 1024
    done = await apply(host, plan_memory(done.config, current_kib=memory), Scope.PERSISTENT)
    assert done.config.persistent_view.memory.current_kib == memory
    assert done.config.live.cpu.vcpus == 1 and done.config.vcpus_live == 1
    assert {p.section for p in done.config.pending} == {"overview", "cpu"}

    await restart(host, name)
    after = await config_of(host, name)
    assert after.live.title == ""
    assert after.vcpus_live == 2
    for _ in range(100):  # the guest's balloon driver takes a moment to give memory back
        if abs(after.live.memory.current_kib - memory) <= 4096:
            break
        await asyncio.sleep(0.2)
        after = await config_of(host, name)
    assert abs(after.live.memory.current_kib - memory) <= 4096
    assert not after.pending


# -- unusual shapes ----------------------------------------------------------------------
UNUSUAL = """
<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <perf><event name='cpu_cycles' enabled='no'/></perf>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='network' device='disk'>
      <driver name='qemu' type='raw'/>
      <source protocol='nbd' name='export1'><host name='127.0.0.1' port='10809'/></source>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='vhostuser'>
      <mac address='52:54:00:3b:83:1a'/>
      <source type='unix' path='/run/vtui-test-vhost.sock' mode='client'/>
      <model type='virtio'/>
    </interface>
    <interface type='hostdev' managed='yes'>
      <mac address='52:54:00:3b:83:1b'/>
      <source><address type='pci' domain='0x0000' bus='0x7f' slot='0x1f' function='0x7'/></source>
    </interface>
    <controller type='virtio-serial' index='0' ports='16' vectors='4'/>
    <controller type='ccid' index='0'/>
    <redirdev bus='usb' type='tcp'><source mode='connect' host='127.0.0.1' service='4000'/></redirdev>
    <panic model='isa'/>
    <vsock model='virtio'><cid auto='yes'/></vsock>
    <shmem name='vtui-shm'><model type='ivshmem-plain'/><size unit='M'>4</size></shmem>
  </devices>
</domain>
"""


async def test_guest_of_unusual_shape_opens(host, local_host):
    name = f"vtui-cfg-odd-{uuid.uuid4().hex[:6]}"

    def define():
        conn = libvirt.open(local_host.uri)
        try:
            conn.defineXML(UNUSUAL.format(name=name))
        finally:
            conn.close()

    def undefine():
        conn = libvirt.open(local_host.uri)
        try:
            conn.lookupByName(name).undefine()
        finally:
            conn.close()

    _in_thread(define)
    try:
        config = await config_of(host, name)
        view = config.shown
        assert (
            view.disks[0].type == "network"
            and view.disks[0].source == "nbd://127.0.0.1:10809/export1"
        )
        assert [(n.type, n.source) for n in view.nics] == [
            ("vhostuser", "/run/vtui-test-vhost.sock (client)"),
            ("hostdev", "0000:7f:1f.7"),
        ]
        kinds = [d.kind for d in view.devices]
        for kind in ("controller", "redirdev", "panic", "vsock", "shmem"):
            assert kind in kinds
        assert any("<perf>" in raw for raw in view.unknown)
        assert all(d.raw.startswith(f"<{d.kind}") for d in view.devices)
    finally:
        _in_thread(undefine)


# -- a stopped guest: every kind of edit, then it still starts ---------------------------
async def persistent(host, plan):
    assert Scope.LIVE not in plan.allowed()  # a stopped guest: persistent only
    return (await apply(host, plan, Scope.PERSISTENT)).config


async def test_every_kind_of_edit_gives_its_xml_and_the_guest_still_starts(
    host, local_host, virtio_guest, network, pool
):
    name = virtio_guest(start=False)
    c = await config_of(host, name)
    assert c.persistent_view is not None and c.live is None

    c = await persistent(host, plan_metadata(c, title="edited", description="two\nlines"))
    assert (c.shown.title, c.shown.description) == ("edited", "two\nlines")

    c = await persistent(host, plan_vcpus(c, count=1, maximum=2))
    assert (c.shown.cpu.vcpus, c.shown.cpu.vcpus_max) == (1, 2)
    assert '<vcpu placement="static" current="1">2</vcpu>' in c.persistent_xml.replace("'", '"')

    c = await persistent(host, plan_memory(c, current_kib=160 * 1024, maximum_kib=256 * 1024))
    assert (c.shown.memory.current_kib, c.shown.memory.maximum_kib) == (160 * 1024, 256 * 1024)

    cmdline = c.shown.boot.cmdline + " vtui.edited"
    c = await persistent(
        host,
        plan_boot(c, order=["hd", "network"], menu=True, menu_timeout_ms=1000, cmdline=cmdline),
    )
    assert c.shown.boot.order == ("hd", "network")
    assert (c.shown.boot.menu, c.shown.boot.menu_timeout_ms, c.shown.boot.cmdline) == (
        True,
        1000,
        cmdline,
    )

    image = _make_image(local_host.uri, pool, "data.raw")
    c = await persistent(host, await plan_add_disk(host, c, NewDisk(bus="virtio", path=image)))
    assert (c.shown.disk("vda").path, c.shown.disk("vda").format) == (image, "raw")
    c = await persistent(
        host, plan_disk_properties(c, "vda", cache="none", readonly=True, shareable=True)
    )
    disk = c.shown.disk("vda")
    assert (disk.cache, disk.readonly, disk.shareable) == ("none", True, True)
    c = await persistent(host, plan_disk_properties(c, "vda", readonly=False, shareable=False))
    c = await persistent(host, plan_disk_properties(c, "vda", bus="sata"))
    assert c.shown.disk("vda") is None and c.shown.disk("sda").bus == "sata"
    c = await persistent(host, await plan_resize_disk(host, c, "sda", 2 * MiB))
    assert c.block_sizes["sda"].capacity == 2 * MiB

    c = await persistent(
        host, plan_add_nic(c, "network", network, model="e1000e", mac="52:54:00:7a:02:01")
    )
    c = await persistent(host, plan_nic_properties(c, "52:54:00:7a:02:01", model="virtio"))
    c = await persistent(
        host, plan_nic_properties(c, "52:54:00:7a:02:01", new_mac="52:54:00:7a:02:02")
    )
    c = await persistent(host, plan_link(c, "52:54:00:7a:02:02", up=False))
    nic = c.shown.nic("52:54:00:7a:02:02")
    assert (nic.source, nic.model, nic.link) == (network, "virtio", "down")

    added = {
        "serial": {"port": "1"},
        "channel": {"purpose": "guest agent"},
        "rng": {"source": "/dev/urandom"},
        "watchdog": {"model": "i6300esb", "action": "reset"},
        "input": {"type": "tablet", "bus": "virtio"},
        "controller": {"type": "scsi", "model": "virtio-scsi"},
        "video": {"model": "vga"},  # the primary card: before graphics would add one
        "graphics": {"type": "vnc", "listen": "127.0.0.1"},
        "sound": {"model": "ich9"},
    }
    if shutil.which("swtpm"):
        added["tpm"] = {"model": "tpm-crb"}
    for kind, answers in added.items():
        c = await persistent(host, plan_add_device(c, kind, answers))
    summaries = {d.kind: d.summary for d in c.shown.devices}
    assert summaries["rng"] == "virtio from /dev/urandom"
    assert summaries["watchdog"].startswith("i6300esb")
    assert summaries["input"] == "tablet (virtio)"
    assert "-> org.qemu.guest_agent.0" in summaries["channel"]
    assert [d.summary for d in c.shown.devices if d.kind == "serial"] == [
        "pty port 0 (isa-serial)",
        "pty port 1 (isa-serial)",
    ]

    # A virtiofs share needs shared guest memory, which this guest does not have; a
    # host PCI device goes in and out again (a made-up address: never a real device).
    share = plan_add_device(c, "filesystem", {"source": "/srv", "tag": "share"})
    assert '<driver type="virtiofs"/>' in share.diff(Scope.PERSISTENT)
    with pytest.raises(VtuiError, match="virtiofs' requires shared memory"):
        await apply(host, share, Scope.PERSISTENT)  # libvirt's own reason, nothing changed
    fake = HostDevice(
        name="pci_0000_7f_1f_7", kind="pci", parent="", address="0000:7f:1f.7", iommu_group=99
    )
    c = await persistent(host, plan_attach_hostdev(c, fake))
    assert [(h.kind, h.address, h.managed) for h in c.shown.hostdevs] == [
        ("pci", "0000:7f:1f.7", True)
    ]
    c = await persistent(host, plan_detach_hostdev(c, c.shown.hostdevs[0].key))
    assert c.shown.hostdevs == ()
    c = await persistent(
        host, plan_remove_device(c, next(d.key for d in c.shown.devices if d.kind == "watchdog"))
    )
    assert "watchdog" not in {d.kind for d in c.shown.devices}

    await _start(host, name)
    sh = await shell(local_host.uri, name)  # it boots to its shell
    await asyncio.to_thread(sh.close)
    running = await config_of(host, name)
    assert running.active and running.live.title == "edited" and not running.pending

    # a stopped guest's disk is removed with its volume once asked
    await _stop(host, name)
    c = await config_of(host, name)
    c = await persistent(host, await plan_remove_disk(host, c, "sda", delete_volume=True))
    assert c.shown.disk("sda") is None and volumes_in(local_host.uri, pool) == []


async def _start(host, name: str) -> None:
    conn = host.require_conn()
    await host.call(lambda: conn.lookupByName(name).create())


async def _stop(host, name: str) -> None:
    conn = host.require_conn()
    await host.call(lambda: conn.lookupByName(name).destroy())
