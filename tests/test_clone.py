"""Clone and rename through vtui's core against the lab's real libvirtd: the clone boots
with its own MAC and UUID and its own copy of the data, the original is not changed,
and a clone that fails halfway leaves nothing behind."""

from __future__ import annotations

import asyncio

import libvirt
import pytest

from tests.lab.pools import volumes_in
from tests.support import guest_on
from tests.test_snapshots import (
    LabGuest,
    define_disk_guest,
    fresh,
    new_volume,
    remove_guest,
    run,
)
from vtui.core.errors import VtuiError
from vtui.core.guests import (
    SnapshotRequest,
    clone_guest,
    create_snapshot,
    list_snapshots,
    plan_clone,
    rename_guest,
    rename_refusal,
)
from vtui.core.guests.layout import parse_layout

pytestmark = pytest.mark.lab
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def disk_image():
    from tests.lab.disks import ensure_disk_guest_image

    return ensure_disk_guest_image()


@pytest.fixture
def guests(local_host):
    """Names of guests to remove afterwards (originals and clones)."""
    names: list[str] = []
    yield names
    for name in names:
        remove_guest(local_host.uri, name)


def inactive_xml(uri: str, name: str) -> str:
    conn = libvirt.open(uri)
    try:
        return conn.lookupByName(name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    finally:
        conn.close()


def volume_backing(uri: str, pool: str, name: str) -> str | None:
    from lxml import etree

    conn = libvirt.open(uri)
    try:
        xml = conn.storagePoolLookupByName(pool).storageVolLookupByName(name).XMLDesc(0)
        return etree.fromstring(xml.encode()).findtext("backingStore/path")
    finally:
        conn.close()


async def guest_with_marker(host, uri, disk_image, pool, guests, marker: str) -> LabGuest:
    """A shut-off guest whose qcow2 disk holds /marker containing `marker`."""
    path = new_volume(uri, pool, "data.qcow2", "qcow2")
    name = f"vtui-orig-{pool[-8:]}"
    define_disk_guest(uri, disk_image, [(path, "qcow2")], name)
    guests.append(name)
    lab = LabGuest(uri, name)
    await run(lab.boot)
    await run(lab.sh, f"mke2fs -q /dev/vda && mount /dev/vda /mnt && echo {marker} > /mnt/marker")
    await run(lab.power_off)
    return lab


@pytest.mark.parametrize("overlay", [False, True], ids=["full-copy", "overlay"])
async def test_clone_boots_with_its_own_identity_and_data(
    host, local_host, disk_image, pool, guests, overlay
):
    uri = local_host.uri
    original = await guest_with_marker(host, uri, disk_image, pool, guests, "original")
    try:
        before = inactive_xml(uri, original.name)
        guest = await fresh(host, original.name)
        clone_name = f"{original.name}-copy"
        guests.append(clone_name)
        plan = await plan_clone(host, guest, clone_name, overlay=overlay)
        assert plan.refusal is None
        assert [(c.target, c.volume, c.pool) for c in plan.copies] == [
            ("vda", f"{clone_name}-vda.qcow2", pool)
        ]
        seen: list[tuple[str, float | None]] = []
        result = await clone_guest(
            host,
            guest,
            clone_name,
            overlay=overlay,
            on_progress=lambda copies: seen.append((copies[0].state, copies[0].fraction)),
        )
        await asyncio.sleep(0.1)  # the last progress report is handed over by the loop
        assert seen and seen[-1] == ("done", 1.0)
        assert "copying" in [state for state, _ in seen]

        assert result.name == clone_name and result.uuid != guest.uuid
        original_macs = parse_layout(before).macs
        assert original_macs and result.macs and not set(result.macs) & set(original_macs)
        assert inactive_xml(uri, original.name) == before  # the original is not changed
        assert f"{clone_name}-vda.qcow2" in volumes_in(uri, pool)
        backing = volume_backing(uri, pool, f"{clone_name}-vda.qcow2")
        assert (backing is not None) == overlay
        clone = await guest_on(host, clone_name)
        assert clone.state == "shut off"

        copy = LabGuest(uri, clone_name)
        try:
            await run(copy.boot)
            assert await run(copy.sh, "mount /dev/vda /mnt && cat /mnt/marker") == "original"
            await run(copy.sh, "echo clone > /mnt/marker")
            mac = await run(copy.sh, "cat /sys/class/net/eth0/address")
            assert mac in result.macs  # the guest sees the new card
            await run(copy.power_off)
        finally:
            copy.close()
        if not overlay:  # an overlay's original must stay shut off; a full copy is its own
            await run(original.boot)
            assert await run(original.sh, "mount /dev/vda /mnt && cat /mnt/marker") == "original"
            await run(original.power_off)
    finally:
        original.close()


async def test_failed_clone_removes_what_it_made(host, local_host, disk_image, pool, guests):
    uri = local_host.uri
    # vdb is an overlay whose backing volume is gone: copying vda works, vdb fails
    first = new_volume(uri, pool, "first.qcow2", "qcow2")
    conn = libvirt.open(uri)
    try:
        found = conn.storagePoolLookupByName(pool)
        base = found.createXML(
            "<volume><name>base.qcow2</name><capacity>8388608</capacity>"
            "<target><format type='qcow2'/></target></volume>",
            0,
        )
        found.createXML(
            "<volume><name>second.qcow2</name><capacity>8388608</capacity>"
            "<target><format type='qcow2'/></target>"
            f"<backingStore><path>{base.path()}</path><format type='qcow2'/></backingStore>"
            "</volume>",
            0,
        )
        second = found.storageVolLookupByName("second.qcow2").path()
        base.delete(0)
    finally:
        conn.close()
    name = f"vtui-broken-{pool[-8:]}"
    define_disk_guest(uri, disk_image, [(first, "qcow2"), (second, "qcow2")], name)
    guests.append(name)
    before_volumes = volumes_in(uri, pool)
    before_xml = inactive_xml(uri, name)
    guest = await fresh(host, name)
    clone_name = f"{name}-copy"
    guests.append(clone_name)

    with pytest.raises(VtuiError) as failed:
        await clone_guest(host, guest, clone_name)
    message = str(failed.value)
    assert "\n" not in message and f"cannot clone {name} as {clone_name} (disk vdb)" in message
    assert volumes_in(uri, pool) == before_volumes  # vda's copy was deleted again
    assert host.find(clone_name) is None
    conn = libvirt.open(uri)
    try:
        with pytest.raises(libvirt.libvirtError):
            conn.lookupByName(clone_name)
    finally:
        conn.close()
    assert inactive_xml(uri, name) == before_xml


async def test_clone_refusals(host, local_host, make_guest, disk_image, pool, guests):
    uri = local_host.uri
    running = make_guest(local_host)
    guest = await guest_on(host, running)
    plan = await plan_clone(host, guest, "x")
    assert plan.refusal == f"cannot clone {running}: it is running (shut it down first)"

    outside = f"/var/lib/libvirt/outside-{pool[-8:]}.img"
    local_host.exec("truncate", "-s", "1M", outside)
    try:
        name = f"vtui-outside-{pool[-8:]}"
        define_disk_guest(uri, disk_image, [(outside, "raw")], name)
        guests.append(name)
        guest = await fresh(host, name)
        plan = await plan_clone(host, guest, f"{name}-2")
        assert "is not a volume of a storage pool" in plan.refusal
        plan = await plan_clone(host, guest, running)
        assert f"already has a guest called '{running}'" in plan.refusal
        plan = await plan_clone(host, guest, "bad/name")
        assert "cannot contain" in plan.refusal
        with pytest.raises(VtuiError, match="not a volume of a storage pool"):
            await clone_guest(host, guest, f"{name}-2")
    finally:
        local_host.exec("rm", "-f", outside)


async def test_rename_keeps_snapshots_and_refuses_what_libvirt_cannot(
    host, local_host, disk_image, pool, guests
):
    uri = local_host.uri
    path = new_volume(uri, pool, "disk.qcow2", "qcow2")
    name = f"vtui-ren-{pool[-8:]}"
    define_disk_guest(uri, disk_image, [(path, "qcow2")], name)
    guests.extend([name, f"{name}-new"])
    guest = await fresh(host, name)
    await create_snapshot(host, guest, SnapshotRequest(name="keep"))

    assert "that is already its name" in rename_refusal(host, guest, name)
    assert "cannot be empty" in rename_refusal(host, guest, " ")
    result = await rename_guest(host, guest, f"{name}-new")
    assert (result.old_name, result.new_name, result.snapshots) == (name, f"{name}-new", 1)
    renamed = host.guests[guest.uuid]
    assert renamed.name == f"{name}-new"
    assert [s.name for s in await list_snapshots(host, renamed)] == ["keep"]

    # a managed save image: libvirt cannot rename it; vtui says so first
    lab = LabGuest(uri, f"{name}-new")
    try:
        await run(lab.boot)
        await run(lambda: lab.dom.managedSave(0))
    finally:
        lab.close()
    renamed = await fresh(host, f"{name}-new")
    assert renamed.has_managed_save
    why = rename_refusal(host, renamed, name)
    assert "saved memory image" in why
    with pytest.raises(VtuiError, match="saved memory image"):
        await rename_guest(host, renamed, name)
    await run(lambda: _discard_save(uri, f"{name}-new"))


def _discard_save(uri: str, name: str) -> None:
    conn = libvirt.open(uri)
    try:
        conn.lookupByName(name).managedSaveRemove(0)
    finally:
        conn.close()
