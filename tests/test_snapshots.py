"""Snapshots through vtui's core against the lab's real libvirtd (QEMU, TCG guests).

The guest is the lab's busybox guest with a qcow2 data disk in a dir pool (the
opt-in image of tests/lab/disks.py, whose initramfs loads virtio_blk). A marker file
is written from the serial console on an ext2 filesystem made with busybox mke2fs,
before and after the snapshot; after a revert the file says what it said when the
snapshot was taken.
"""

from __future__ import annotations

import asyncio
import contextlib

import libvirt
import pytest

from tests.lab.console import SerialConsole
from tests.lab.disks import disk_guest_xml, ensure_disk_guest_image, last_line, shell
from tests.lab.images import READY_LINE
from tests.lab.pools import make_pool, remove_pool
from tests.support import guest_on, until
from vtui.core.errors import VtuiError
from vtui.core.guests import (
    EXTERNAL,
    INTERNAL,
    SnapshotRequest,
    create_snapshot,
    delete_outcome_of,
    delete_snapshot,
    list_snapshots,
    plan_snapshot,
    revert_outcome,
    revert_snapshot,
)
from vtui.core.host import Host
from vtui.core.host.events import ensure_event_loop

pytestmark = pytest.mark.lab
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def disk_image():
    return ensure_disk_guest_image()


class LabGuest:
    """A lab guest with disks, driven straight through libvirt (not vtui): boot it,
    type on its serial console, power it off."""

    def __init__(self, uri: str, name: str):
        ensure_event_loop()  # libvirt drives console streams of connections opened after
        self.conn = libvirt.open(uri)
        self.name = name
        self.console: SerialConsole | None = None

    @property
    def dom(self) -> libvirt.virDomain:
        return self.conn.lookupByName(self.name)

    def boot(self) -> None:
        dom = self.dom
        if not dom.isActive():
            dom.create()
        self.attach()
        self.console.expect(READY_LINE, 90)  # type: ignore[union-attr]
        shell(self.console, "true")  # the prompt is up

    def attach(self) -> None:
        self.detach()
        self.console = SerialConsole(self.conn, self.dom)

    def detach(self) -> None:
        if self.console is not None:
            self.console.close()
            self.console = None

    def sh(self, command: str) -> str:
        assert self.console is not None
        return last_line(shell(self.console, command))

    def power_off(self) -> None:
        """Unmount first so the filesystem is clean, then pull the plug."""
        self.sh("umount /mnt; sync")
        self.detach()
        self.dom.destroy()

    def close(self) -> None:
        self.detach()
        self.conn.close()


def define_disk_guest(uri: str, image, disks: list[tuple[str, str]], name: str) -> None:
    conn = libvirt.open(uri)
    try:
        conn.defineXML(disk_guest_xml(name, *image, disks, interface=True))
    finally:
        conn.close()


def remove_guest(uri: str, name: str) -> None:
    conn = libvirt.open(uri)
    try:
        with contextlib.suppress(libvirt.libvirtError):
            dom = conn.lookupByName(name)
            if dom.isActive():
                dom.destroy()
            dom.undefineFlags(
                libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                | libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
            )
    finally:
        conn.close()


def new_volume(uri: str, pool: str, name: str, fmt: str, capacity: int = 16 * MiB) -> str:
    conn = libvirt.open(uri)
    try:
        xml = (
            f"<volume><name>{name}</name><capacity>{capacity}</capacity>"
            f"<target><format type='{fmt}'/></target></volume>"
        )
        return conn.storagePoolLookupByName(pool).createXML(xml, 0).path()
    finally:
        conn.close()


@pytest.fixture
def disk_guest(local_host, disk_image, request):
    """A shut-off guest with one qcow2 disk (vda), and a LabGuest to drive it; the
    guest, its snapshots and the pool go afterwards."""
    uri = local_host.uri
    pool = make_pool(uri)
    fmt = getattr(request, "param", "qcow2")
    path = new_volume(uri, pool, f"data.{fmt}", fmt)
    name = f"vtui-snap-{pool[-8:]}"
    define_disk_guest(uri, disk_image, [(path, fmt)], name)
    lab_guest = LabGuest(uri, name)
    yield lab_guest
    lab_guest.close()
    remove_guest(uri, name)
    remove_pool(uri, pool)


async def run(fn, *args):
    return await asyncio.to_thread(fn, *args)


async def fresh(host: Host, name: str):
    await host.sample()
    return await guest_on(host, name)


async def test_shut_off_guest_snapshot_revert_delete(host, disk_guest):
    lab = disk_guest
    await run(lab.boot)
    await run(lab.sh, "mke2fs -q /dev/vda && mount /dev/vda /mnt && echo one > /mnt/marker")
    await run(lab.power_off)
    guest = await fresh(host, lab.name)
    assert guest.state == "shut off"

    plan = await plan_snapshot(host, guest, SnapshotRequest())
    assert plan.refusal is None and plan.location == INTERNAL and not plan.memory
    snap = await create_snapshot(
        host, guest, SnapshotRequest(name="before", description="marker says one")
    )
    assert (snap.name, snap.state, snap.kind) == ("before", "shut off", "internal")
    tree = await list_snapshots(host, guest)
    assert [(s.name, s.current, s.description) for s in tree] == [
        ("before", True, "marker says one")
    ]
    assert tree[0].created_at and tree[0].size is None  # libvirt does not tell internal sizes

    await run(lab.boot)
    await run(lab.sh, "mount /dev/vda /mnt && echo two > /mnt/marker")
    assert await run(lab.sh, "cat /mnt/marker") == "two"
    await run(lab.power_off)
    guest = await fresh(host, lab.name)

    outcome = await revert_outcome(host, guest, "before")
    assert outcome.refusal is None and outcome.state_after == "shut off"
    assert any("written to its disks since" in line for line in outcome.lost)
    await revert_snapshot(host, guest, "before")
    await run(lab.boot)
    assert await run(lab.sh, "mount /dev/vda /mnt && cat /mnt/marker") == "one"
    await run(lab.power_off)

    gone = await delete_snapshot(host, guest, "before")
    assert gone.removed == ("before",)
    assert await list_snapshots(host, guest) == []
    assert await run(lambda: lab.dom.snapshotNum(0)) == 0  # libvirt agrees


async def test_running_guest_snapshot_with_memory_revert_and_delete_with_children(host, disk_guest):
    lab = disk_guest
    await run(lab.boot)
    await run(lab.sh, "mke2fs -q /dev/vda && mount /dev/vda /mnt && echo one > /mnt/marker")
    await run(lab.sh, "sync")
    guest = await fresh(host, lab.name)
    assert guest.state == "running"

    snap = await create_snapshot(host, guest, SnapshotRequest(name="before"))
    assert snap.kind == "internal, with memory" and snap.state == "running"
    await run(lab.sh, "echo two > /mnt/marker && sync")

    outcome = await revert_outcome(host, guest, None)  # None: the current snapshot
    assert outcome.snapshot.name == "before" and outcome.state_after == "running"
    assert any("in memory now" in line for line in outcome.lost)
    await revert_snapshot(host, guest, "before")
    await until(lambda: host.guests[guest.uuid].state == "running", 10, "running after revert")
    await run(lab.attach)  # the console of the restored machine
    assert await run(lab.sh, "cat /mnt/marker") == "one"  # the disk (and its cache) of then

    child = await create_snapshot(host, guest, SnapshotRequest(name="after"))
    assert child.name == "after"
    tree = await list_snapshots(host, guest)
    assert [(s.name, s.depth, s.current) for s in tree] == [
        ("before", 0, False),
        ("after", 1, True),
    ]
    assert tree[0].children == ("after",)

    outcome = await delete_outcome_of(host, guest, "before", children=True)
    assert outcome.removed == ("before", "after") and outcome.refusal is None
    await delete_snapshot(host, guest, "before", children=True)
    assert await list_snapshots(host, guest) == []
    assert (await fresh(host, lab.name)).state == "running"  # deleting changes no guest


async def test_what_the_host_cannot_do_is_refused_before_trying(host, disk_guest):
    lab = disk_guest
    guest = await fresh(host, lab.name)
    # shut off: no memory to save; no agent to quiesce through
    plan = await plan_snapshot(host, guest, SnapshotRequest(memory=True))
    assert "only a running guest has memory" in plan.refusal
    with pytest.raises(VtuiError, match="only a running guest"):
        await create_snapshot(host, guest, SnapshotRequest(memory=True))
    plan = await plan_snapshot(host, guest, SnapshotRequest(name="a/b"))
    assert "contains /" in plan.refusal

    await run(lab.boot)
    guest = await fresh(host, lab.name)
    plan = await plan_snapshot(host, guest, SnapshotRequest(memory=False, quiesce=True))
    assert "guest agent does not answer" in plan.refusal
    plan = await plan_snapshot(host, guest, SnapshotRequest(memory=False, location=INTERNAL))
    assert "only with its memory" in plan.refusal

    # an external disk-only snapshot of the running guest: libvirt 9.0 takes and deletes
    # it, but cannot revert to it; vtui says so before asking
    ext = await create_snapshot(host, guest, SnapshotRequest(name="ext", memory=False))
    assert ext.location == EXTERNAL and ext.kind == "external disk-only"
    assert ext.state == "disk-snapshot" and ext.disks[0].file.endswith(".ext")
    (listed,) = await list_snapshots(host, guest)
    assert listed.size is not None and listed.size > 0  # its overlay, measured
    version = await host.call(lambda: host.require_conn().getLibVersion())
    outcome = await revert_outcome(host, guest, "ext")
    if version < 9_007_000:
        assert "cannot revert to external snapshots" in outcome.refusal
        with pytest.raises(VtuiError, match="cannot revert to external"):
            await revert_snapshot(host, guest, "ext")
    await delete_snapshot(host, guest, "ext")
    assert await list_snapshots(host, guest) == []

    readonly = Host(host.uri, name="lab-a-ro", readonly=True)
    await readonly.connect()
    try:
        plan = await plan_snapshot(readonly, await guest_on(readonly, lab.name), SnapshotRequest())
        assert "read-only" in plan.refusal
    finally:
        await readonly.close()


@pytest.mark.parametrize("disk_guest", ["raw"], indirect=True)
async def test_raw_disk_internal_refused_external_offered(host, disk_guest):
    guest = await fresh(host, disk_guest.name)
    plan = await plan_snapshot(host, guest, SnapshotRequest(location=INTERNAL))
    assert "is raw: internal snapshots need qcow2 disks" in plan.refusal
    plan = await plan_snapshot(host, guest, SnapshotRequest())
    assert plan.refusal is None and plan.location == EXTERNAL  # what it can do instead
    snap = await create_snapshot(host, guest, SnapshotRequest(name="offline"))
    assert snap.kind == "external disk-only" and snap.state == "shut off"
    await delete_snapshot(host, guest, "offline")
    assert await list_snapshots(host, guest) == []
