"""Storage pools and volumes through vtui's core, against the lab's real libvirtd
(dir pools under the host's private /var/lib/libvirt, qcow2 made by qemu-img)."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from dataclasses import replace

import libvirt
import pytest
from lxml import etree

from tests.lab.images import guest_xml
from tests.lab.pools import make_pool, pool_names, pool_path, remove_pool, unique_name, volumes_in
from vtui.core.errors import VtuiError
from vtui.core.host import Host
from vtui.core.storage import (
    clone_volume,
    create_pool,
    create_volume,
    delete_pool,
    delete_volume,
    get_pool,
    get_volume,
    list_pools,
    list_volumes,
    pool_types,
    refresh_pool,
    resize_volume,
    set_pool_autostart,
    start_pool,
    stop_pool,
    volume_names,
    wipe_volume,
)

pytestmark = pytest.mark.lab
MiB = 1024 * 1024


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text and "Traceback" not in text
    return text


@contextlib.contextmanager
def guest_with_disks(uri: str, guest_image, disks: list[dict[str, str]]):
    """An inactive guest whose disks name the given sources (file=... or pool/volume=...)."""
    kernel, initrd = guest_image
    name = unique_name("vtui-disks")
    root = etree.fromstring(guest_xml(name, kernel, initrd).encode())
    devices = root.find("devices")
    for i, source in enumerate(disks):
        kind = "volume" if "pool" in source else "file"
        disk = etree.SubElement(devices, "disk", type=kind, device="disk")
        etree.SubElement(disk, "driver", name="qemu", type=source.pop("format", "qcow2"))
        etree.SubElement(disk, "source", **source)
        etree.SubElement(disk, "target", dev=f"vd{'abcdef'[i]}", bus="virtio")
    conn = libvirt.open(uri)
    try:
        conn.defineXML(etree.tostring(root, encoding="unicode"))
        yield name
    finally:
        conn.lookupByName(name).undefine()
        conn.close()


# -- pools -------------------------------------------------------------------------------------
async def test_pool_types_follow_the_hosts_capabilities(host):
    types = {t.type: t for t in await pool_types(host)}
    assert {"dir", "fs", "netfs", "logical"} <= set(types)
    target = types["dir"].field("target_path")
    assert target is not None and target.required and target.hint
    assert types["dir"].can_build and not types["dir"].build_destroys
    assert "qcow2" in types["dir"].volume_formats and "raw" in types["dir"].volume_formats
    netfs = types["netfs"]
    assert {f.name for f in netfs.fields} >= {"name", "source_host", "source_dir", "target_path"}
    assert "nfs" in netfs.field("source_format").choices
    assert types["fs"].field("source_device").required and types["fs"].build_destroys
    assert "ext4" in types["fs"].field("source_format").choices
    assert types["logical"].volume_formats == ()


async def test_dir_pool_create_start_stop_autostart_delete(host, local_host):
    name = unique_name()
    on_disk = local_host.dir / "var-lib-libvirt" / name
    try:
        pool = await create_pool(
            host,
            "dir",
            {"name": name, "target_path": pool_path(name)},
            build=True,
            autostart=True,
        )
        assert (pool.name, pool.type, pool.state) == (name, "dir", "active")
        assert pool.autostart and pool.persistent and pool.target_path == pool_path(name)
        assert pool.capacity and pool.available and pool.volumes == 0
        assert on_disk.is_dir()
        listed = {p.name: p for p in await list_pools(host)}
        # (the sizes are of a disk other processes use too: they move between reads)
        assert replace(listed[name], allocation=0, available=0) == replace(
            pool, allocation=0, available=0
        )

        stopped = await stop_pool(host, name)
        assert stopped.state == "inactive" and stopped.capacity is None and stopped.volumes is None
        assert (await start_pool(host, name)).active
        assert not (await set_pool_autostart(host, name, False)).autostart
        assert (await refresh_pool(host, name)).active

        await create_volume(host, name, "inside.qcow2", MiB)  # goes with the storage
        await delete_pool(host, name, storage=True)
        assert name not in pool_names(local_host.uri)
        assert not on_disk.exists()
    finally:
        remove_pool(local_host.uri, name)


async def test_fs_pool_mounts_its_filesystem_and_holds_volumes(host, local_host):
    """An fs pool: libvirt mounts the source (here an ext4 image on a loop device)
    on the target; its sizes are the filesystem's, and stopping it unmounts it."""
    name = unique_name()
    lab_root = local_host.dir / "var-lib-libvirt"  # the lab host's /var/lib/libvirt
    image, mount_dir = lab_root / f"{name}.ext4", lab_root / name
    subprocess.run(["truncate", "-s", "64M", str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True)
    mount_dir.mkdir()
    # a block device, as an fs pool's source is (a mounted image file keeps its
    # automatic loop device a moment after the unmount: mounting again fails)
    device = subprocess.run(
        ["losetup", "--find", "--show", str(image)], check=True, capture_output=True, text=True
    ).stdout.strip()
    values = {
        "name": name,
        "source_device": device,
        "source_format": "ext4",
        "target_path": pool_path(name),
    }
    try:
        pool = await create_pool(host, "fs", values)
        assert (pool.type, pool.state, pool.target_path) == ("fs", "active", pool_path(name))
        assert pool.capacity is not None and 40 * MiB < pool.capacity <= 64 * MiB
        await create_volume(host, name, "inside.raw", MiB, format="raw")
        assert "inside.raw" in volumes_in(local_host.uri, name)  # (beside ext4's lost+found)
        stopped = await stop_pool(host, name)
        assert stopped.state == "inactive"
        assert (await start_pool(host, name)).active  # mounted again, the volume in it
        assert "inside.raw" in volumes_in(local_host.uri, name)
        await delete_volume(host, name, "inside.raw")
        await delete_pool(host, name, storage=False)
        assert name not in pool_names(local_host.uri)
        assert image.exists()  # definition only: the filesystem is the user's
    finally:
        remove_pool(local_host.uri, name)
        subprocess.run(["losetup", "--detach", device], check=False)
        image.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            mount_dir.rmdir()


async def test_missing_dir_is_refused_and_the_definition_undone(host, local_host):
    name = unique_name()
    before = pool_names(local_host.uri)
    with pytest.raises(VtuiError) as exc:
        await create_pool(host, "dir", {"name": name, "target_path": pool_path(name)})
    assert f"target path {pool_path(name)} does not exist" in one_line(exc)
    assert pool_names(local_host.uri) == before


async def test_bad_pool_answers_are_refused(host, local_host, pool):
    before = pool_names(local_host.uri)
    bad = [
        ({"name": "a/b", "target_path": "/x"}, "cannot contain"),
        ({"name": "", "target_path": "/x"}, "cannot be empty"),
        ({"name": "ok"}, "needs target path"),
        ({"name": "ok", "target_path": "relative"}, "not absolute"),
        ({"name": pool, "target_path": "/x"}, "already is a pool"),
        ({"name": "ok", "target_path": "/x", "colour": "red"}, "no field 'colour'"),
    ]
    for values, message in bad:
        with pytest.raises(VtuiError) as exc:
            await create_pool(host, "dir", values, build=True)
        assert message in one_line(exc), values
    with pytest.raises(VtuiError) as exc:
        await create_pool(host, "zfs-on-the-moon", {"name": "x"})
    assert "does not support 'zfs-on-the-moon' pools (it has: dir, fs" in one_line(exc)
    assert pool_names(local_host.uri) == before


async def test_definition_only_delete_keeps_the_files(host, local_host):
    name = make_pool(local_host.uri)
    try:
        await create_volume(host, name, "keep.qcow2", MiB)
        await delete_pool(host, name)
        assert name not in pool_names(local_host.uri)
        assert (local_host.dir / "var-lib-libvirt" / name / "keep.qcow2").is_file()
    finally:
        (local_host.dir / "var-lib-libvirt" / name / "keep.qcow2").unlink(missing_ok=True)
        (local_host.dir / "var-lib-libvirt" / name).rmdir()
        remove_pool(local_host.uri, name)


# -- volumes ------------------------------------------------------------------------------------
async def test_volume_create_resize_clone_overlay_delete(host, local_host, pool):
    base = await create_volume(host, pool, "base.qcow2", 8 * MiB)
    assert (base.format, base.capacity, base.pool) == ("qcow2", 8 * MiB, pool)
    assert base.path == f"{pool_path(pool)}/base.qcow2" and base.users == ()

    grown = await resize_volume(host, pool, "base.qcow2", 16 * MiB)
    assert grown.capacity == 16 * MiB
    with pytest.raises(VtuiError) as exc:
        await resize_volume(host, pool, "base.qcow2", 4 * MiB)
    assert "shrinking loses the data" in one_line(exc)
    assert (await get_volume(host, pool, "base.qcow2")).capacity == 16 * MiB

    clone = await clone_volume(host, pool, "base.qcow2", "copy.qcow2")
    assert (clone.format, clone.capacity) == ("qcow2", 16 * MiB)
    overlay = await create_volume(host, pool, "top.qcow2", None, backing="base.qcow2")
    assert overlay.backing_path == base.path and overlay.capacity == 16 * MiB
    raw = await create_volume(host, pool, "disk.raw", 2 * MiB, format="raw")
    assert raw.format == "raw" and raw.allocation >= 2 * MiB  # raw is allocated in full

    listed = {v.name: v for v in await list_volumes(host, pool)}
    assert sorted(listed) == ["base.qcow2", "copy.qcow2", "disk.raw", "top.qcow2"]
    assert listed["base.qcow2"].backing_of == ("top.qcow2",)
    with pytest.raises(VtuiError) as exc:
        await delete_volume(host, pool, "base.qcow2")
    assert "it is the backing file of top.qcow2" in one_line(exc)

    await wipe_volume(host, pool, "disk.raw")
    for name in ("top.qcow2", "copy.qcow2", "base.qcow2", "disk.raw"):
        await delete_volume(host, pool, name)
    assert volumes_in(local_host.uri, pool) == []
    assert (await get_pool(host, pool)).volumes == 0


async def test_bad_volume_inputs_are_refused_before_anything_changes(host, local_host, pool):
    await create_volume(host, pool, "taken.qcow2", MiB)
    available = (await get_pool(host, pool)).available
    too_big = available + 2**40  # a TiB over: what is free on a shared disk moves a little
    before = volumes_in(local_host.uri, pool)
    attempts = [
        (create_volume(host, pool, "a/b", MiB), "cannot contain any of / < & ' \""),
        (create_volume(host, pool, "a<b", MiB), "contains <"),
        (create_volume(host, pool, "a&b", MiB), "contains &"),
        (create_volume(host, pool, "it's", MiB), "contains '"),
        (create_volume(host, pool, 'say"hi', MiB), 'contains "'),
        (create_volume(host, pool, "", MiB), "cannot be empty"),
        (create_volume(host, pool, "zero", 0), "size of 0 bytes"),
        (
            create_volume(host, pool, "taken.qcow2", MiB),
            "already has a volume called 'taken.qcow2'",
        ),
        (
            create_volume(host, pool, "huge.raw", too_big, format="raw"),
            f"needs {too_big} bytes",
        ),
        (create_volume(host, pool, "ov", MiB, format="raw", backing="taken.qcow2"), "backing"),
        (clone_volume(host, pool, "taken.qcow2", "x/y"), "cannot contain"),
        (clone_volume(host, pool, "taken.qcow2", "taken.qcow2"), "already has a volume"),
        (resize_volume(host, pool, "taken.qcow2", 0), "new size of 0 bytes"),
        (create_volume(host, "no-such-pool", "v", MiB), "no storage pool called 'no-such-pool'"),
        (delete_volume(host, pool, "ghost"), "there is no such volume"),
    ]
    for attempt, message in attempts:
        with pytest.raises(VtuiError) as exc:
            await attempt
        line = one_line(exc)
        assert message in line, line
        assert line.startswith("lab-a: "), line
    # the numbers, both exact (the disk is shared: what is free moves between reads)
    with pytest.raises(VtuiError, match=r"has only \d+ bytes \([\d.]+[KMGT]\) available$"):
        await create_volume(host, pool, "huge.raw", too_big, format="raw")
    # a sparse qcow2 of that size takes no space now: allowed
    await create_volume(host, pool, "sparse.qcow2", too_big)
    assert volumes_in(local_host.uri, pool) == sorted([*before, "sparse.qcow2"])


async def test_read_only_connections_refuse_changes(local_host, pool):
    ro = Host(local_host.uri, name="ro", readonly=True)
    await ro.connect()
    try:
        assert [v.name for v in await list_volumes(ro, pool)] == []
        for attempt in (
            create_volume(ro, pool, "v", MiB),
            stop_pool(ro, pool),
            delete_pool(ro, pool),
        ):
            with pytest.raises(VtuiError, match="the connection to ro is read-only"):
                await attempt
    finally:
        await ro.close()


async def test_volumes_in_use_are_not_deleted(host, local_host, pool, guest_image):
    await create_volume(host, pool, "by-path.qcow2", MiB)
    await create_volume(host, pool, "by-name.qcow2", MiB)
    await create_volume(host, pool, "free.qcow2", MiB)
    disks = [
        {"file": f"{pool_path(pool)}/by-path.qcow2"},
        {"pool": pool, "volume": "by-name.qcow2"},
    ]
    with guest_with_disks(local_host.uri, guest_image, disks) as guest:
        listed = {v.name: v for v in await list_volumes(host, pool)}
        assert listed["by-path.qcow2"].used_by == (guest,)
        assert listed["by-name.qcow2"].used_by == (guest,)
        assert listed["by-path.qcow2"].users[0].target == "vda"
        assert listed["free.qcow2"].used_by == ()
        for name in ("by-path.qcow2", "by-name.qcow2"):
            with pytest.raises(VtuiError) as exc:
                await delete_volume(host, pool, name)
            assert (
                f"cannot delete volume {name} of pool {pool}: it is in use by {guest}"
                in one_line(exc)
            )
        with pytest.raises(VtuiError, match=f"in use by {guest}"):
            await delete_volume(host, pool, "by-path.qcow2", force=["someone-else"])
        with pytest.raises(VtuiError, match=f"in use by {guest}"):
            await wipe_volume(host, pool, "by-name.qcow2")
        with pytest.raises(VtuiError) as exc:
            await delete_pool(host, pool, storage=True)
        assert f"its volumes are used by {guest}" in one_line(exc)
        assert volumes_in(local_host.uri, pool) == [
            "by-name.qcow2",
            "by-path.qcow2",
            "free.qcow2",
        ]
        await delete_volume(host, pool, "free.qcow2")
        # the user confirmed naming the guest: deleted anyway
        await delete_volume(host, pool, "by-path.qcow2", force=[guest])
        assert volumes_in(local_host.uri, pool) == ["by-name.qcow2"]


async def test_listing_many_volumes_reads_them_concurrently(host, local_host, pool):
    names = [f"v{i:03d}.raw" for i in range(40)]
    await asyncio.gather(
        *(create_volume(host, pool, n, 4096, format="raw", allocation=0) for n in names)
    )
    assert await volume_names(host, pool) == names  # one call: what a view shows first
    listed = await list_volumes(host, pool)
    assert [v.name for v in listed] == names
    assert all(v.capacity == 4096 and v.format == "raw" for v in listed)
