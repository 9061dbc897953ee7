"""The migration pre-flight against the lab's two lab_hosts, continued: storage (pools,
room, backing chains), networks and bridges, versions and machine types, and a guest
that passes every check and migrates."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import uuid
from pathlib import Path

import libvirt
import pytest
from lxml import etree

from tests.migrate_helpers import E, checks_of, redefine, run_libvirt, the, transient_pool
from tests.support import guest_on, until
from vtui.core.host import Host
from vtui.core.migration import FAIL, PASS, MigrationJobs, MigrationOptions

pytestmark = pytest.mark.lab


def tag() -> str:
    return uuid.uuid4().hex[:8]


def add_disk(root, path: str, fmt: str = "raw", dev: str = "vda", kind: str = "file", **src):
    disk = E(root.find("devices"), "disk", type=kind, device="disk")
    E(disk, "driver", name="qemu", type=fmt)
    E(disk, "source", **(src or {"file": path}))
    E(disk, "target", dev=dev, bus="virtio")


def images(host, name: str = "images") -> tuple[Path, str]:
    """A folder in the host's private /var/lib/libvirt: (as we see it, as it sees it)."""
    folder = Path(host.dir, "var-lib-libvirt", name)
    folder.mkdir(exist_ok=True)
    return folder, f"/var/lib/libvirt/{name}"


# -- storage ----------------------------------------------------------------------------


async def test_backing_chain_missing_on_the_destination(lab, lab_hosts, make_guest):
    here, there = images(lab["a"])
    base, top = f"vtui-base-{tag()}.qcow2", f"vtui-top-{tag()}.qcow2"
    a = lab["a"]
    await asyncio.to_thread(
        a.exec, "qemu-img", "create", "-q", "-f", "qcow2", f"{there}/{base}", "16M"
    )
    await asyncio.to_thread(
        a.exec, "qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2",
        "-b", f"{there}/{base}", f"{there}/{top}",
    )  # fmt: skip
    name = make_guest("a", start=False)
    try:
        await asyncio.to_thread(
            redefine, a.uri, name, lambda r: add_disk(r, f"{there}/{top}", "qcow2")
        )
        offline = the(await checks_of(*lab_hosts, name, live=False), "disk vda backing")
        assert offline.status == FAIL
        assert offline.message == (
            f"{there}/{top} is an overlay on 1 backing file(s); missing on lab-b: {there}/{base}"
        )
        assert offline.fix == "copy the backing files to lab-b (same paths)"
        incremental = the(
            await checks_of(*lab_hosts, name, live=True, copy_storage="incremental"),
            "disk vda backing",
        )
        assert (
            incremental.status == FAIL and incremental.fix == "use a full copy (flattens the chain)"
        )
        full = the(
            await checks_of(*lab_hosts, name, live=True, copy_storage="full"), "disk vda backing"
        )
        assert full.status == PASS and "flattens the chain into one image on lab-b" in full.message
    finally:
        for f in (base, top):
            (here / f).unlink(missing_ok=True)


async def test_volume_in_a_pool_the_destination_lacks(lab, lab_hosts, make_guest):
    here, there = images(lab["a"], f"vtui-pool-{tag()}")
    pool, vol = f"vtui-pool-{tag()}", "data.raw"
    (here / vol).write_bytes(b"\0" * 65536)
    name = make_guest("a", start=False)
    try:
        with transient_pool(lab["a"].uri, pool, there):
            await asyncio.to_thread(
                redefine, lab["a"].uri, name,
                lambda r: add_disk(r, "", kind="volume", pool=pool, volume=vol),
            )  # fmt: skip
            check = the(await checks_of(*lab_hosts, name, live=False), f"pool {pool}")
        assert check.status == FAIL
        assert check.message == f"lab-b has no storage pool {pool} (holds disk vda here)"
        assert check.fix == f"define pool {pool} on lab-b"
    finally:
        shutil.rmtree(here, ignore_errors=True)


async def test_no_room_for_the_copy_in_the_destination_pool(lab, lab_hosts, make_guest):
    here, there = images(lab["a"], f"vtui-small-{tag()}")
    on_b, _ = images(lab["b"], Path(there).name)
    (here / "big.raw").write_bytes(b"\1" * (4 * 1024 * 1024))  # 4 MiB of data to copy
    b, pool = lab["b"], f"vtui-small-{tag()}"
    # a 1 MiB filesystem under the pool on b (a tmpfs in b's own mount namespace)
    await asyncio.to_thread(b.exec, "mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", there)
    name = make_guest("a", start=False)
    try:
        with transient_pool(b.uri, pool, there):
            await asyncio.to_thread(
                redefine, lab["a"].uri, name, lambda r: add_disk(r, f"{there}/big.raw")
            )
            check = the(
                await checks_of(*lab_hosts, name, live=True, copy_storage="full"), "disk vda"
            )
        assert check.status == FAIL
        assert check.message.startswith(f"{there}/big.raw will be copied into pool {pool} on lab-b")
        assert "the copy needs 4.0M" in check.message
        assert check.fix == f"free space in pool {pool}"
    finally:
        await asyncio.to_thread(b.exec, "umount", there)
        shutil.rmtree(here, ignore_errors=True)
        shutil.rmtree(on_b, ignore_errors=True)


# -- networks -----------------------------------------------------------------------------


def network_xml(name: str) -> str:
    net = etree.Element("network")  # isolated, no addresses: no dnsmasq needed
    E(net, "name").text = name
    return etree.tostring(net, encoding="unicode")


async def test_network_missing_then_inactive_on_the_destination(lab, lab_hosts, make_guest):
    net = f"vtui-net-{tag()}"
    run_libvirt(lab["a"].uri, lambda c: c.networkCreateXML(network_xml(net)))
    name = make_guest("a", start=False)
    try:

        def nic(root):
            E(E(root.find("devices"), "interface", type="network"), "source", network=net)

        await asyncio.to_thread(redefine, lab["a"].uri, name, nic, start=True)
        checks = await checks_of(*lab_hosts, name, live=True)
        [missing] = [c for c in checks if c.name.startswith("nic")]
        assert (
            missing.status == FAIL and missing.message == f"network {net} does not exist on lab-b"
        )
        assert missing.fix == "define and start it on lab-b (same name)"

        run_libvirt(lab["b"].uri, lambda c: c.networkDefineXML(network_xml(net)))
        [inactive] = [
            c for c in await checks_of(*lab_hosts, name, live=True) if c.name.startswith("nic")
        ]
        assert (
            inactive.status == FAIL and inactive.message == f"network {net} is not active on lab-b"
        )
        assert inactive.fix == f"virsh net-start {net} on lab-b"
    finally:
        run_libvirt(lab["a"].uri, lambda c: c.lookupByName(name).destroy())
        run_libvirt(lab["a"].uri, lambda c: c.networkLookupByName(net).destroy())
        with contextlib.suppress(libvirt.libvirtError):
            run_libvirt(lab["b"].uri, lambda c: c.networkLookupByName(net).undefine())


async def test_bridge_missing_on_the_destination(lab, lab_hosts, make_guest):
    a, bridge = lab["a"], f"vtbr{tag()[:6]}"
    await asyncio.to_thread(a.exec, "ip", "link", "add", bridge, "type", "bridge")  # a's netns
    await asyncio.to_thread(a.exec, "ip", "link", "set", bridge, "up")
    name = make_guest("a", start=False)
    try:

        def nic(root):
            E(E(root.find("devices"), "interface", type="bridge"), "source", bridge=bridge)

        await asyncio.to_thread(redefine, a.uri, name, nic, start=True)
        [check] = [
            c for c in await checks_of(*lab_hosts, name, live=True) if c.name.startswith("nic")
        ]
        assert check.status == FAIL and check.message == f"bridge {bridge} does not exist on lab-b"
        assert check.fix == f"create {bridge} on lab-b, or use a network both hosts have"
    finally:
        with contextlib.suppress(libvirt.libvirtError):
            run_libvirt(a.uri, lambda c: c.lookupByName(name).destroy())
        await asyncio.to_thread(a.exec, "ip", "link", "del", bridge)


# -- the destination's QEMU: older, without the guest's machine type ----------------------


@contextlib.contextmanager
def doctored_qemu(host, edit):
    """The host's libvirtd believes its QEMU is what edit(capabilities XML) says: the
    cached QEMU capabilities are changed (and restored after), the daemon restarted."""
    cache = Path(host.dir, "var-cache-libvirt/qemu/capabilities")
    originals = {f: f.read_bytes() for f in cache.glob("*.xml")}
    host.stop_libvirtd()
    try:
        for f, data in originals.items():
            root = etree.fromstring(data)
            if root.findtext("emulator") == "/usr/bin/qemu-system-x86_64":
                edit(root)
                f.write_bytes(etree.tostring(root))
        host.start_libvirtd()
        yield
    finally:
        host.stop_libvirtd()
        for f, data in originals.items():
            f.write_bytes(data)
        host.start_libvirtd()


def older_qemu_without_62(root):
    root.find("version").text = "6001000"  # QEMU 6.1.0
    for machine in root.findall("machine"):
        if machine.get("name") == "pc-i440fx-6.2":
            root.remove(machine)


async def test_older_qemu_without_the_guests_machine_type(lab, make_guest):
    name = make_guest("a", start=False)

    def machine(root):
        root.find("os/type").set("machine", "pc-i440fx-6.2")

    await asyncio.to_thread(redefine, lab["a"].uri, name, machine)
    a, b = Host(lab["a"].uri, name="lab-a"), Host(lab["b"].uri, name="lab-b")
    try:
        await a.connect()
        with doctored_qemu(lab["b"], older_qemu_without_62):
            await b.connect()  # (a connection of its own: the daemon restarted)
            checks = await checks_of(a, b, name, live=False)
            await b.close()
    finally:
        await asyncio.gather(a.close(), b.close())
    version = the(checks, "QEMU version")
    assert version.status == FAIL
    assert version.message.startswith("lab-b has QEMU 6.1.0, older than 7.2.")
    assert version.fix == "upgrade QEMU on lab-b"
    machine_type = the(checks, "machine type")
    assert machine_type.status == FAIL and "pc-i440fx-6.2" in machine_type.message
    assert machine_type.fix == "upgrade QEMU on lab-b, or change the guest's machine type"


# -- everything at once ---------------------------------------------------------------------


async def test_a_guest_that_passes_every_check_migrates(lab, lab_hosts, make_guest, tmp_path):
    """A network NIC, a SATA CD-ROM with media both hosts see, a disk in a pool of the
    same name on both hosts (copied): every check passes, and the migration works."""
    a, b = lab_hosts
    net, pool, folder = f"vtui-net-{tag()}", f"vtui-mig-{tag()}", f"vtui-mig-{tag()}"
    here, there = images(lab["a"], folder)
    on_b, _ = images(lab["b"], folder)
    (here / "disk.raw").write_bytes(b"vtui" * 65536)
    media = tmp_path / "media.iso"
    media.write_bytes(b"\0" * 65536)
    for host in lab:
        run_libvirt(host.uri, lambda c: c.networkCreateXML(network_xml(net)))
    name = make_guest("a", start=False)

    def everything(root):
        E(E(root.find("devices"), "interface", type="network"), "source", network=net)
        add_disk(root, f"{there}/disk.raw")
        cdrom = E(root.find("devices"), "disk", type="file", device="cdrom")
        E(cdrom, "source", file=str(media))
        E(cdrom, "target", dev="sda", bus="sata")
        E(cdrom, "readonly")

    try:
        with transient_pool(lab["a"].uri, pool, there), transient_pool(lab["b"].uri, pool, there):
            await asyncio.to_thread(redefine, lab["a"].uri, name, everything, start=True)
            guest = await guest_on(a, name)
            options = MigrationOptions(copy_storage="full")
            checks = await checks_of(a, b, name, live=True, copy_storage="full")
            assert not [c for c in checks if c.status == FAIL], [c.line for c in checks]
            [nic] = [c for c in checks if c.name.startswith("nic")]
            assert nic.status == PASS and nic.message == f"network {net} active on lab-b"
            assert the(checks, "disk vda").message.startswith(
                f"{there}/disk.raw will be copied into pool {pool} on lab-b"
            )
            assert the(checks, "disk sda").message == f"{media} present on lab-b"
            assert the(checks, f"pool {pool}").status == PASS
            job = await MigrationJobs().start(a, guest, b, options)
            await job.wait()
            await until(lambda: b.find(name) is not None and b.find(name).state == "running")
        assert (on_b / "disk.raw").read_bytes() == (here / "disk.raw").read_bytes()
    finally:
        for host in lab:
            with contextlib.suppress(libvirt.libvirtError):
                run_libvirt(host.uri, lambda c: c.lookupByName(name).destroy())
            with contextlib.suppress(libvirt.libvirtError):
                run_libvirt(host.uri, lambda c: c.networkLookupByName(net).destroy())
        shutil.rmtree(here, ignore_errors=True)
        shutil.rmtree(on_b, ignore_errors=True)
