"""Host devices through the core: listing on the lab's real libvirtd (which sees this
machine's real PCI devices, checked against sysfs), and everything about assignment
on libvirt's test driver with a host file of made-up devices.

NEVER detach or reattach a device of this machine: detach/reattach run only against
the test driver here (which refuses them as unsupported, after vtui's own checks).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from lxml import etree

from vtui.core.errors import VtuiError
from vtui.core.host import Host
from vtui.core.host.devices import (
    detach_device,
    detach_refusal,
    get_device,
    list_devices,
    parse_device,
    reattach_device,
    reattach_refusal,
)

DEVICES_HOST = Path(__file__).parent / "data" / "devices-host.xml"
TEST_URI = f"test://{DEVICES_HOST}"
PCI_SYSFS = Path("/sys/bus/pci/devices")


@pytest.fixture
async def test_host():
    host = Host(TEST_URI)
    await host.connect()
    yield host
    await host.close()


# -- the test driver's made-up devices ---------------------------------------------------------
async def test_pci_usb_net_with_sriov_iommu_and_users(test_host):
    devices = {d.name: d for d in await list_devices(test_host)}
    assert [d.kind for d in devices.values()] == ["pci", "pci", "pci", "usb", "net"]
    pf = devices["pci_0000_03_00_0"]
    assert (pf.vendor, pf.product) == ("Intel Corporation", "82576 Gigabit Network Connection")
    assert pf.description == "Intel Corporation 82576 Gigabit Network Connection"
    assert (pf.address, pf.iommu_group, pf.iommu_peers) == ("0000:03:00.0", 12, ("0000:03:00.1",))
    assert pf.virtual_functions == ("0000:04:10.1",) and pf.max_virtual_functions == 7
    assert pf.host_uses == ("interface enp3s0",) and "host itself uses it" in pf.not_assignable

    vf = devices["pci_0000_04_10_1"]
    assert vf.physical_function == "0000:03:00.0"
    assert vf.used_by == vf.used_by_running == ("passthru",)
    assert vf.not_assignable == "running guest passthru has it"

    sata = devices["pci_0000_00_1f_2"]
    assert sata.description == "storage controller"  # no names: the class says what it is
    assert sata.host_uses == ("disk sda",) and not sata.assignable

    usb = devices["usb_1_4"]
    assert (usb.address, usb.vendor_id, usb.product_id) == ("001:004", "0x046d", "0xc52b")
    assert usb.used_by == ("passthru",)  # matched by vendor/product id

    nic = devices["net_enp3s0_52_54_00_aa_bb_cc"]
    assert (nic.address, nic.mac, nic.link_state, nic.link_speed_mbps) == (
        "enp3s0",
        "52:54:00:aa:bb:cc",
        "up",
        1000,
    )
    assert [d.name for d in await list_devices(test_host, ["usb"])] == ["usb_1_4"]
    with pytest.raises(VtuiError, match="unknown device kind 'gpu'"):
        await list_devices(test_host, ["gpu"])


async def test_detach_and_reattach_checks_then_the_driver(test_host):
    """vtui's checks come first; what passes them reaches libvirt, whose test driver
    cannot detach: its refusal is one clear line."""
    refused = {
        ("detach", "pci_0000_00_1f_2"): "the host itself uses it (disk sda)",
        ("detach", "pci_0000_04_10_1"): "running guest passthru has it",
        ("detach", "usb_1_4"): "only PCI devices are detached",
        ("reattach", "pci_0000_04_10_1"): "running guest passthru has it",
        ("reattach", "net_enp3s0_52_54_00_aa_bb_cc"): "only PCI devices are reattached",
        ("detach", "pci_9999_00_00_0"): "no PCI, USB or network device called",
    }
    for (verb, name), reason in refused.items():
        action = detach_device if verb == "detach" else reattach_device
        with pytest.raises(VtuiError) as err:
            await action(test_host, name)
        assert reason in str(err.value) and "\n" not in str(err.value), (verb, name)

    # force: the user confirmed taking the card away from the host
    with pytest.raises(VtuiError) as err:
        await detach_device(test_host, "pci_0000_03_00_0", force=True)
    assert str(err.value) == (
        "test: cannot detach pci_0000_03_00_0 from the host: "
        "this host's libvirt driver does not support it"
    )
    with pytest.raises(VtuiError, match="reattach pci_0000_00_1f_2 .* does not support it"):
        await reattach_device(test_host, "pci_0000_00_1f_2")


async def test_readonly_refuses_detach_and_reattach():
    host = Host(TEST_URI, readonly=True)
    await host.connect()
    try:
        for action in (detach_device, reattach_device):
            with pytest.raises(VtuiError, match="read-only"):
                await action(host, "pci_0000_03_00_0")
        assert (await get_device(host, "pci_0000_03_00_0")).driver == ""
    finally:
        await host.close()


def test_a_device_held_by_vfio_is_detached():
    root = etree.fromstring(
        b"<device><name>pci_0000_05_00_0</name><parent>computer</parent>"
        b"<driver><name>vfio-pci</name></driver><capability type='pci'>"
        b"<class>0x030000</class><domain>0</domain><bus>5</bus><slot>0</slot>"
        b"<function>0</function><product id='0x1b80'/><vendor id='0x10de'/>"
        b"<iommuGroup number='3'><address domain='0x0000' bus='0x05' slot='0x00' "
        b"function='0x0'/></iommuGroup></capability></device>"
    )
    gpu = parse_device("pci_0000_05_00_0", root)
    assert gpu is not None and gpu.detached and gpu.description == "display controller"
    assert detach_refusal(gpu) == "it is already detached (held by vfio-pci)"
    assert reattach_refusal(gpu) == ""
    gpu.driver = "nvidia"
    assert reattach_refusal(gpu) == "it is not detached (the host's nvidia driver has it)"
    assert detach_refusal(gpu) == ""


# -- the lab's libvirtd sees this machine's real devices: list them, never detach ------------
async def test_real_devices_listed_match_sysfs(local_host):
    host = Host(local_host.uri)
    await host.connect()
    try:
        devices = await list_devices(host)
    finally:
        await host.close()
    pci = {d.address: d for d in devices if d.kind == "pci"}
    present = sorted(p.name for p in PCI_SYSFS.iterdir()) if PCI_SYSFS.is_dir() else []
    assert sorted(pci) == present
    for address, device in pci.items():
        sysfs = PCI_SYSFS / address
        assert int(device.vendor_id, 16) == int((sysfs / "vendor").read_text(), 16)
        assert int(device.product_id, 16) == int((sysfs / "device").read_text(), 16)
        assert device.pci_class == int((sysfs / "class").read_text(), 16)
        driver = sysfs / "driver"
        assert device.driver == (os.path.basename(os.readlink(driver)) if driver.exists() else "")
        group = sysfs / "iommu_group"
        expected = int(os.path.basename(os.readlink(group))) if group.exists() else None
        assert device.iommu_group == expected
        assert device.description  # a name, or at least the kind of device
        if expected is None:
            assert not device.assignable  # no IOMMU: nothing can be given to a guest
    # a disk of this machine hangs off a PCI device: that device is marked as the host's
    for block in Path("/sys/block").iterdir():
        path = os.path.realpath(block / "device")
        owners = [a for a in pci if f"/{a}/" in path + "/"]
        if owners and not block.name.startswith(("loop", "ram")):
            assert f"disk {block.name}" in pci[owners[-1]].host_uses
            assert "host itself uses it" in (detach_refusal(pci[owners[-1]]) or "")
    nets = [d for d in devices if d.kind == "net"]
    listed = local_host.exec("virsh", "-q", "-c", "qemu:///system", "nodedev-list", "--cap", "net")
    assert sorted(d.name for d in nets) == sorted(listed.stdout.split())


def test_a_pci_bridge_is_never_detached_nor_reattached():
    from vtui.core.host import HostDevice

    bridge = HostDevice("pci_0000_00_00_0", "pci", "computer", "0000:00:00.0", pci_class=0x060000)
    assert detach_refusal(bridge) == "it is a PCI bridge"
    assert reattach_refusal(bridge) == "it is a PCI bridge (never detached)"
