"""The migration pre-flight, one check at a time, against the lab's two real libvirtd
hosts: each test gives a guest the one thing a check is about, sees the check fail and
reads its fix. (Most guests stay shut off: what is checked is their definition against
what the destination offers; the state check failing beside them is not the point.)

Host "a" and "b" share the machine's files except their private /var/lib/libvirt,
/etc/libvirt, /run and /root (tests/lab/hosts.py): a file put in a's
/var/lib/libvirt exists for a only, like local storage on two servers.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import libvirt
import pytest

from tests.migrate_helpers import E, checks_of, redefine, run_libvirt, the
from vtui.core.migration import FAIL, PASS, WARN

pytestmark = pytest.mark.lab


def new_cpu(root, **attrs):
    """A <cpu> in place of the one libvirt stored (it gives TCG guests qemu64)."""
    for old in root.findall("cpu"):
        root.remove(old)
    return E(root, "cpu", **attrs)


async def define(lab, make_guest, edit) -> str:
    """A shut-off guest on host a, its definition changed by edit(root)."""
    name = make_guest("a", start=False)
    await asyncio.to_thread(redefine, lab["a"].uri, name, edit)
    return name


async def test_pinning_to_cpus_and_numa_nodes_the_destination_lacks(lab, lab_hosts, make_guest):
    def pin(root):
        E(E(root, "cputune"), "vcpupin", vcpu="0", cpuset="63")
        E(E(root, "numatune"), "memory", mode="strict", nodeset="7")

    name = await define(lab, make_guest, pin)
    checks = await checks_of(*lab_hosts, name, live=False)
    pinning = the(checks, "cpu pinning")
    assert pinning.status == FAIL and "vCPU 0 pinned to CPUs 63; lab-b has CPUs 0" in pinning.line
    assert pinning.fix == "pin to CPUs lab-b has (virsh vcpupin/emulatorpin), or unpin"
    numa = the(checks, "numa")
    assert numa.status == FAIL and "memory on node(s) 7" in numa.message
    assert numa.fix == "change the guest's numatune to nodes it has"


async def test_cpu_model_the_destination_cannot_provide(lab, lab_hosts, make_guest):
    def cpu(root):
        model = E(new_cpu(root, mode="custom", match="exact"), "model", fallback="forbid")
        model.text = "Skylake-Server"

    name = await define(lab, make_guest, cpu)
    check = the(await checks_of(*lab_hosts, name, live=False), "cpu")
    assert check.status == FAIL
    assert check.message == "lab-b cannot provide the guest's CPU (Skylake-Server)"
    assert check.fix == "give the guest a CPU model both hosts have"


async def test_memory_beyond_what_the_destination_has_shows_the_commitment(
    lab, lab_hosts, make_guest
):
    def big(root):
        for tag in ("memory", "currentMemory"):
            elem = root.find(tag)
            elem.set("unit", "GiB")
            elem.text = "512"

    name = await define(lab, make_guest, big)
    check = the(await checks_of(*lab_hosts, name, live=True), "memory")
    assert check.status == FAIL and check.message.startswith("needs 512G, lab-b has ")
    assert "memory commitment on lab-b" in check.message and "x -> " in check.message
    assert check.fix == "free memory on lab-b (stop or move guests), or pick another host"


async def test_huge_pages_the_destination_has_not_reserved(lab, lab_hosts, make_guest):
    name = await define(lab, make_guest, lambda r: E(E(r, "memoryBacking"), "hugepages"))
    check = the(await checks_of(*lab_hosts, name, live=True), "huge pages")
    assert check.status == FAIL and "needs 64 free 2.0M pages" in check.message
    assert check.fix == "reserve them on lab-b (sysctl vm.nr_hugepages, or hugeadm)"


async def test_firmware_and_nvram_only_on_the_source(lab, lab_hosts, make_guest):
    private = Path(lab["a"].dir, "var-lib-libvirt")  # a's /var/lib/libvirt
    tag = uuid.uuid4().hex[:8]
    code, nvram = f"vtui-{tag}-CODE.fd", f"vtui-{tag}-VARS.fd"
    for f in (code, nvram):
        (private / f).write_bytes(b"\0" * 4096)

    def uefi(root):
        E(E(root, "features"), "acpi")  # (UEFI needs it)
        os_ = root.find("os")
        for tag_ in ("kernel", "initrd", "cmdline"):
            os_.remove(os_.find(tag_))
        E(os_, "loader", readonly="yes", type="pflash").text = f"/var/lib/libvirt/{code}"
        E(os_, "nvram").text = f"/var/lib/libvirt/{nvram}"

    try:
        name = await define(lab, make_guest, uefi)
        checks = await checks_of(*lab_hosts, name, live=False)
    finally:
        for f in (code, nvram):
            (private / f).unlink()
    firmware = [c for c in checks if c.name == "firmware"]
    assert [c.status for c in firmware] == [FAIL, FAIL], firmware
    assert firmware[0].message == f"firmware code /var/lib/libvirt/{code} is missing on lab-b"
    assert firmware[0].fix == "install the same firmware package on lab-b"
    assert firmware[1].message.startswith(f"NVRAM /var/lib/libvirt/{nvram} (its UEFI variables)")
    assert firmware[1].fix == "copy it to lab-b first (else it starts from the template)"


async def test_passed_through_pci_device(lab, lab_hosts, make_guest):
    def hostdev(root):
        dev = E(root.find("devices"), "hostdev", mode="subsystem", type="pci", managed="yes")
        address = dict(domain="0x0000", bus="0xff", slot="0x1f", function="0x7")
        E(E(dev, "source"), "address", **address)

    name = await define(lab, make_guest, hostdev)
    live = the(await checks_of(*lab_hosts, name, live=True), "host device")
    assert live.status == FAIL
    assert live.message == "PCI device 0000:ff:1f.7 passed through: QEMU cannot migrate it live"
    assert live.fix.startswith("detach it (virsh detach-device --live)")
    offline = the(await checks_of(*lab_hosts, name, live=False), "host device")
    assert offline.status == FAIL and "lab-b has no such device" in offline.message
    assert offline.fix == "change the host device to one lab-b has"


async def test_virtiofs_share_blocks_live_migration(lab, lab_hosts, make_guest, tmp_path):
    def share(root):
        backing = E(root, "memoryBacking")
        E(backing, "source", type="memfd")
        E(backing, "access", mode="shared")
        fs = E(root.find("devices"), "filesystem", type="mount", accessmode="passthrough")
        E(fs, "driver", type="virtiofs")
        E(fs, "source", dir=str(tmp_path))
        E(fs, "target", dir="data")

    name = await define(lab, make_guest, share)
    live = the(await checks_of(*lab_hosts, name, live=True), "filesystem")
    assert live.status == FAIL
    assert live.message == f"virtiofs share {tmp_path} as 'data': libvirt cannot migrate it live"
    assert live.fix == "unmount it in the guest and detach it, or migrate offline"
    offline = the(await checks_of(*lab_hosts, name, live=False), "filesystem")
    assert offline.status == PASS  # the folder is visible to both lab_hosts, virtiofsd too


async def test_host_tpm_blocks_live_migration(lab, lab_hosts, make_guest):
    """(An emulated TPM needs swtpm on the destination; these hosts share this machine's
    programs, so one cannot have swtpm and the other not: that check cannot fail here.)"""

    def tpm(root):
        dev = E(root.find("devices"), "tpm", model="tpm-tis")
        E(E(dev, "backend", type="passthrough"), "device", path="/dev/tpm0")

    name = await define(lab, make_guest, tpm)
    check = the(await checks_of(*lab_hosts, name, live=True), "tpm")
    assert check.status == FAIL
    assert check.message == "TPM tpm-tis (passthrough): a host TPM cannot migrate"
    assert check.fix == "remove it, or use an emulated TPM"


async def test_invariant_tsc_without_a_frequency_blocks_live_migration(lab, lab_hosts, make_guest):
    def invtsc(root):
        cpu = new_cpu(root, mode="custom", match="exact")
        E(cpu, "model", fallback="allow").text = "qemu64"
        E(cpu, "feature", policy="require", name="invtsc")

    name = await define(lab, make_guest, invtsc)
    checks = await checks_of(*lab_hosts, name, live=True)
    check = the(checks, "devices", FAIL)
    assert check.message == "invariant TSC (invtsc) without a TSC frequency"
    assert check.fix == "set <timer name='tsc' frequency='...'/>, or drop invtsc"


async def test_snapshots_refused_as_libvirt_refuses_them(lab, lab_hosts, make_guest):
    images = Path(lab["a"].dir, "var-lib-libvirt/images")
    images.mkdir(exist_ok=True)
    disk = images / f"vtui-snap-{uuid.uuid4().hex[:8]}.qcow2"
    inside = f"/var/lib/libvirt/images/{disk.name}"  # the same file, as host a sees it
    await asyncio.to_thread(lab["a"].exec, "qemu-img", "create", "-q", "-f", "qcow2", inside, "16M")

    def with_qcow2(root):
        dev = E(root.find("devices"), "disk", type="file", device="disk")
        E(dev, "driver", name="qemu", type="qcow2")
        E(dev, "source", file=inside)
        E(dev, "target", dev="vda", bus="virtio")

    try:
        name = await define(lab, make_guest, with_qcow2)
        snap = "<domainsnapshot><name>before</name></domainsnapshot>"
        await asyncio.to_thread(
            run_libvirt, lab["a"].uri, lambda c: c.lookupByName(name).snapshotCreateXML(snap)
        )
        check = the(await checks_of(*lab_hosts, name, live=False), "snapshots")
        assert check.status == FAIL
        assert check.message == (
            "has 1 snapshot(s), 1 internal (inside its qcow2 images): "
            "libvirt refuses to migrate a guest with snapshots"
        )
        assert check.fix.startswith("delete them first (virsh snapshot-delete")

        # and libvirt itself does refuse, as the check says
        def migrate(conn):
            flags = libvirt.VIR_MIGRATE_OFFLINE | libvirt.VIR_MIGRATE_PERSIST_DEST
            dst = libvirt.open(lab["b"].uri)
            try:
                conn.lookupByName(name).migrate3(dst, {}, flags)
            finally:
                dst.close()

        with pytest.raises(libvirt.libvirtError, match="snapshots"):
            await asyncio.to_thread(run_libvirt, lab["a"].uri, migrate)
    finally:
        disk.unlink(missing_ok=True)


async def test_a_sata_cdrom_passes(lab, lab_hosts, make_guest, tmp_path):
    media = tmp_path / "media.iso"  # /tmp is seen by both lab_hosts, like shared storage
    media.write_bytes(b"\0" * 65536)

    def cdrom(root):
        dev = E(root.find("devices"), "disk", type="file", device="cdrom")
        E(dev, "source", file=str(media))
        E(dev, "target", dev="sda", bus="sata")
        E(dev, "readonly")

    name = await define(lab, make_guest, cdrom)
    checks = await checks_of(*lab_hosts, name, live=True)
    assert the(checks, "devices").message.startswith("SATA disks and CD-ROMs migrate")
    assert the(checks, "disk sda").status == PASS
    assert not [c for c in checks if c.status == WARN and c.name.startswith("disk")]
