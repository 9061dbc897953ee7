"""Guest configuration without a hypervisor: reading every demo guest, device
builders, what each plan refuses and why, and the per-guest history ring. The lab
tests (test_guest_config_lab.py) drive the same code against a real libvirtd."""

from __future__ import annotations

import pytest
from lxml import etree

from vtui.core.errors import VtuiError
from vtui.core.guests.config import (
    ADDABLE,
    BadInput,
    Scope,
    apply,
    parse_domain,
    parse_root,
    plan_add_device,
    plan_add_nic,
    plan_boot,
    plan_change_media,
    plan_full_xml,
    plan_memory,
    plan_metadata,
    plan_vcpus,
    read_addresses,
    read_agent_info,
    read_config,
)
from vtui.core.guests.config.parse_devices import parse_devices
from vtui.core.guests.devices import (
    disk_element,
    next_target,
    pci_hostdev_element,
    usb_hostdev_element,
)
from vtui.core.guests.macs import random_mac
from vtui.core.host import Host
from vtui.core.host.history import CpuHistoryView, GuestHistory, samples_for
from vtui.core.model import Guest
from vtui.core.uri import demo_uri


@pytest.fixture
async def demo():
    host = Host(demo_uri())
    await host.connect()
    yield host
    await host.close()


@pytest.fixture
async def readonly_demo():
    host = Host(demo_uri(), readonly=True)
    await host.connect()
    yield host
    await host.close()


async def config_named(host: Host, name: str):
    return await read_config(host, host.find(name).uuid)


# -- reading -------------------------------------------------------------------------------
async def test_every_demo_guest_reads_and_its_sections_agree_with_libvirt(demo):
    for guest in list(demo.guests.values()):
        config = await read_config(demo, guest.uuid)
        assert config.name == guest.name and config.state == guest.state
        assert config.shown.cpu.vcpus == guest.vcpus
        assert (config.live is not None) == guest.active
    config = await config_named(demo, "win2022-ad")
    view = config.shown
    assert (view.hypervisor, view.arch, view.machine) == ("test", "x86_64", "pc-q35-7.2")
    assert [(d.target, d.device, d.bus, d.format) for d in view.disks] == [
        ("sda", "disk", "sata", "qcow2"),
        ("sdc", "cdrom", "sata", "raw"),
    ]
    assert view.disks[1].readonly and view.disks[1].removable
    assert [(n.mac, n.type, n.source, n.model) for n in view.nics] == [
        ("52:54:00:1a:4a:94", "network", "lan", "e1000e")
    ]
    assert [d.summary for d in view.devices] == [
        "sata 0",
        "vnc on 127.0.0.1 (autoport)",
        "qxl, 64 MiB, 1 head(s)",
    ]
    assert view.memory.maximum_kib == 6 * 1024 * 1024 and view.memory.current_kib == 4 * 1024 * 1024
    assert config.block_sizes["sda"].capacity > 0
    assert not config.pending


async def test_addresses_never_crash_the_test_driver_and_agent_info_is_read(demo):
    # libvirt's test driver crashes the process when asked for the addresses of a guest
    # on a network without IPv4 ("lan"): vtui does not ask it.
    found = await read_addresses(demo, demo.find("win2022-ad").uuid)
    assert found.addresses == () and "cannot tell" in found.note
    found = await read_addresses(demo, demo.find("web-01").uuid)
    assert found.source == "guest agent" and found.addresses[0].mac == "52:54:00:02:30:28"
    info, why = await read_agent_info(demo, demo.find("web-01").uuid)
    assert info is not None and info.hostname and info.filesystems and why == ""


def test_unknown_shapes_are_kept_as_raw_xml_not_errors():
    root = parse_root(
        """<domain type='kvm'><name>odd</name><uuid>u</uuid><memory>abc</memory>
        <vcpu current='x'>two</vcpu><launchSecurity type='sev'/>
        <devices><disk type='nvme' device='disk'><source type='pci'><address domain='0x0000'
        bus='0x04' slot='0x00' function='0x0'/></source><target dev='vdz' bus='virtio'/></disk>
        <interface type='vdpa'><source dev='/dev/vhost-vdpa-0'/></interface>
        <interface type='mystery'><source x='1'/></interface>
        <hostdev mode='capabilities' type='storage'><source><block>/dev/sdf1</block></source></hostdev>
        <frobnicator speed='11'/><!-- a comment --></devices></domain>"""
    )
    view = parse_domain(root)
    assert view.memory.maximum_kib == 0 and view.cpu.vcpus == 0
    assert view.disks[0].source == "nvme 0000:04:00.0 namespace ?"
    assert [(n.type, n.source) for n in view.nics] == [
        ("vdpa", "/dev/vhost-vdpa-0"),
        ("mystery", "x=1"),
    ]
    assert view.hostdevs[0].kind == "storage"
    assert [(d.kind, d.summary) for d in view.devices] == [("frobnicator", "speed=11")]
    assert view.unknown == ('<launchSecurity type="sev"/>',)
    assert parse_devices(None) == ((), (), (), ())


# -- builders ------------------------------------------------------------------------------
def test_device_builders_make_what_libvirt_reads():
    disk = disk_element(
        "vdb", "virtio", pool="default", volume="data.qcow2", format="qcow2", cache="none"
    )
    assert etree.tostring(disk).decode() == (
        '<disk type="volume" device="disk">'
        '<driver name="qemu" type="qcow2" cache="none" discard="unmap"/>'
        '<source pool="default" volume="data.qcow2"/><target dev="vdb" bus="virtio"/></disk>'
    )
    block = disk_element("sda", "sata", path="/dev/sdb", shareable=True)
    assert block.get("type") == "block" and block.find("source").get("dev") == "/dev/sdb"
    assert block.find("shareable") is not None
    cd = disk_element("hdc", "ide", device="cdrom")
    assert cd.find("source") is None and cd.find("readonly") is not None
    assert next_target("virtio", {"vda", "vdb"}) == "vdc"
    assert next_target("sata", {f"sd{c}" for c in "abcdefghijklmnopqrstuvwxyz"}) == "sdaa"
    assert random_mac().startswith("52:54:00:")
    pci = pci_hostdev_element("0000:03:00.1")
    assert pci.find("source/address").attrib == {
        "domain": "0x0000",
        "bus": "0x03",
        "slot": "0x00",
        "function": "0x1",
    }
    usb = usb_hostdev_element("0x046d", "0xc52b", "001:004")
    assert usb.find("source/address").attrib == {"bus": "1", "device": "4"}
    for kind, found in ADDABLE.items():
        answers = {a.name: a.default for a in found.answers}
        if kind == "filesystem":
            answers = {"source": "/srv/share", "tag": "share"}
        assert found.build(answers).tag == kind


# -- plans ---------------------------------------------------------------------------------
async def test_plans_say_which_scopes_apply_and_why_not(demo):
    running = await config_named(demo, "win2022-ad")
    stopped = next(g for g in demo.guests.values() if not g.active)
    off = await read_config(demo, stopped.uuid)

    plan = plan_metadata(running, title="dc")
    assert plan.allowed() == [Scope.BOTH, Scope.LIVE, Scope.PERSISTENT]
    plan = plan_metadata(off, title="dc")
    assert plan.allowed() == [Scope.PERSISTENT]
    assert plan.refusals[Scope.LIVE] == f"{off.name} is not running"
    plan = plan_vcpus(running, maximum=8)
    assert plan.allowed() == [Scope.PERSISTENT] and "maximum" in plan.refusals[Scope.LIVE]
    plan = plan_memory(running, current_kib=2 << 20)
    assert plan.virsh(Scope.LIVE)[0].endswith("setmem win2022-ad 2097152KiB --live")
    plan = plan_change_media(running, "sdc", "/isos/new install.iso")
    assert plan.virsh(Scope.BOTH)[0].endswith(
        "change-media win2022-ad sdc '/isos/new install.iso' --update --live --config"
    )
    plan = plan_add_device(running, "sound", {"model": "ich9"})
    assert (
        plan.allowed() == [Scope.PERSISTENT] and "cannot plug a sound" in plan.refusals[Scope.LIVE]
    )
    plan = plan_add_nic(running, "bridge", "br0", mac="52:54:00:00:00:01")
    assert '<source bridge="br0"/>' in plan.diff(Scope.BOTH)
    assert (
        "attach-device win2022-ad nic-525400000001.xml --live --config" in plan.virsh(Scope.BOTH)[0]
    )


async def test_bad_answers_are_refused_before_libvirt(demo):
    config = await config_named(demo, "win2022-ad")
    for make, words in (
        (lambda: plan_vcpus(config, count=5, maximum=4), "more than the maximum"),
        (lambda: plan_vcpus(config, count=0), "at least 1"),
        (lambda: plan_memory(config, current_kib=0), "more than zero"),
        (lambda: plan_metadata(config, title="a\nb"), "one line"),
        (lambda: plan_boot(config, order=["hd", "sda"]), "not both"),
        (lambda: plan_boot(config, order=["vdq"]), "no disk or network interface 'vdq'"),
        (lambda: plan_change_media(config, "sda", "/x.iso"), "only CD-ROM and floppy"),
        (lambda: plan_add_nic(config, "network", "lan", mac="01:00:5e:00:00:01"), "multicast"),
        (lambda: plan_add_device(config, "frobnicator", {}), "cannot add a frobnicator"),
        (
            lambda: plan_full_xml(
                config, config.persistent_xml.replace(config.uuid, "1" * 8 + config.uuid[8:])
            ),
            "another guest",
        ),
    ):
        with pytest.raises(VtuiError, match=words):
            make()
    with pytest.raises(BadInput):
        plan_metadata(config, title=config.shown.title)  # nothing changes


async def test_per_device_boot_order_replaces_the_os_order(demo):
    config = await config_named(demo, "win2022-ad")
    plan = plan_boot(config, order=["sdc", "sda", "52:54:00:1a:4a:94"])
    after = parse_root(plan.after[Scope.PERSISTENT])
    assert after.find("os/boot") is None
    orders = [(e.getparent().tag, e.get("order")) for e in after.iter("boot")]
    assert sorted(orders) == [("disk", "1"), ("disk", "2"), ("interface", "3")]
    assert plan.virsh(Scope.PERSISTENT)[0].endswith("define --validate win2022-ad.xml")


async def test_read_only_connection_refuses_every_apply_and_asks_no_secrets(readonly_demo):
    config = await config_named(readonly_demo, "win2022-ad")
    plan = plan_metadata(config, title="x")
    with pytest.raises(VtuiError, match="read-only"):
        await apply(readonly_demo, plan, Scope.BOTH)
    assert (await config_named(readonly_demo, "win2022-ad")).shown.title != "x"


async def test_full_xml_edit_applies_and_a_changed_definition_is_not_overwritten(demo):
    config = await config_named(demo, "win2022-ad")
    edited = config.persistent_xml.replace(
        "<on_crash>destroy</on_crash>", "<on_crash>restart</on_crash>"
    )
    plan = plan_full_xml(config, edited)
    assert "-  <on_crash>destroy</on_crash>" in plan.diff(Scope.PERSISTENT)
    stale = plan_full_xml(config, edited.replace("restart", "preserve"))
    done = await apply(demo, plan, Scope.PERSISTENT)
    assert "<on_crash>restart</on_crash>" in done.config.persistent_xml
    with pytest.raises(VtuiError, match="changed since"):
        await apply(demo, stale, Scope.PERSISTENT)


# -- history -------------------------------------------------------------------------------
def test_history_ring_keeps_the_last_samples_in_order_one_byte_each():
    history = GuestHistory(60)
    for i in range(150):
        history.append(
            Guest(
                uuid="u",
                name="g",
                host="h",
                state="running",
                cpu_pct=i % 100,
                memory_kib=1 << 20,
                net_rx_bps=1000.0 * i,
            )
        )
    assert len(history) == 60
    cpu = history.series("cpu")
    assert cpu[0] == pytest.approx(90, abs=0.4) and cpu[-1] == pytest.approx(49, abs=0.4)
    rx = history.series("net_rx")
    assert rx[-1] == pytest.approx(149_000, rel=0.06) and rx == sorted(rx)
    assert history.series("memory", last=3) == [pytest.approx(1 << 20, rel=0.06)] * 3
    assert len(history._data) == 60 * 6
    assert samples_for(2.0) == 300 and samples_for(0.1) == 1200 and samples_for(60) == 60
    view = CpuHistoryView({"u": history}, 10)
    assert len(view["u"]) == 10 and list(view) == ["u"]


def test_repeating_the_last_sample_equals_appending_it_again_across_the_ring_wrap():
    def guest(i: int) -> Guest:
        return Guest(
            uuid="u",
            name="g",
            host="h",
            state="running",
            cpu_pct=(7 * i) % 100,
            memory_kib=1 << 20,
            disk_rd_bps=300.0 * i,
            net_tx_bps=50.0 * i,
        )

    for filled in (0, 1, 59, 60, 61, 119, 120, 137):
        appended, repeated = GuestHistory(60), GuestHistory(60)
        for i in range(filled):
            appended.append(guest(i))
            repeated.append(guest(i))
        last = guest(max(filled - 1, 0))
        for _ in range(3):
            appended.append(last)
            repeated.repeat_last(last)
        for name in ("cpu", "memory", "disk_read", "net_tx"):
            assert repeated.series(name) == appended.series(name), (filled, name)
        assert len(repeated) == len(appended)
