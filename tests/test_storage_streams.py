"""Volume data through libvirt streams: upload, download and copy between the lab's
two hosts, reached through vtui's own SSH tunnels (no shell on the host is used)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.lab.pools import make_pool, remove_pool, volumes_in
from tests.support import until
from vtui.core.errors import VtuiError
from vtui.core.fleet import Fleet
from vtui.core.fleet.targets import add_target
from vtui.core.storage import (
    CANCELLED,
    COMPLETED,
    Transfers,
    get_volume,
    list_volumes,
    start_copy,
    start_download,
    start_upload,
)

pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("private_home")]
MiB = 1024 * 1024


@pytest.fixture
async def hosts(lab):
    fleet = Fleet(interval=3600)
    a = add_target(fleet, "lab-a", ssh_config=lab.ssh_config)
    b = add_target(fleet, "lab-b", ssh_config=lab.ssh_config)
    assert await fleet.connect_all() == []
    assert a.tunnel is not None and b.tunnel is not None  # through vtui's SSH tunnels
    yield a, b
    await fleet.close()


@pytest.fixture
def pools(lab):
    made = {"a": make_pool(lab["a"].uri), "b": make_pool(lab["b"].uri)}
    yield made
    for key, name in made.items():
        remove_pool(lab[key].uri, name)


def sparse_file(path: Path, size: int, data_at: list[int], chunk: int = MiB) -> Path:
    """A file of `size` bytes: random data at the given offsets, holes elsewhere."""
    with open(path, "wb") as f:
        f.truncate(size)
        for offset in data_at:
            f.seek(offset)
            f.write(os.urandom(chunk))
    return path


def allocated(path: Path) -> int:
    return os.stat(path).st_blocks * 512


def in_host(lab, key: str, path: str) -> Path:
    """A file inside a lab host's private /var/lib/libvirt, seen from here."""
    return lab[key].dir / "var-lib-libvirt" / Path(path).relative_to("/var/lib/libvirt")


async def test_upload_to_remote_host_and_download_back(lab, hosts, pools, tmp_path):
    _a, b = hosts
    original = sparse_file(tmp_path / "disk.img", 6 * MiB, [0, 3 * MiB, 4 * MiB + 4096])
    jobs = Transfers()
    seen: list[int] = []
    jobs.subscribe(lambda t: seen.append(t.progress.done))
    upload = await start_upload(b, pools["b"], str(original), jobs=jobs)
    summary = await upload.wait()
    assert upload.state == COMPLETED and upload.progress.done == 6 * MiB
    assert summary.total_bytes == 6 * MiB and summary.sparse
    assert summary.data_bytes < 4 * MiB  # the holes did not travel
    assert seen and seen[-1] == 6 * MiB

    volume = await get_volume(b, pools["b"], "disk.img")
    assert (volume.format, volume.capacity) == ("raw", 6 * MiB)
    remote = in_host(lab, "b", volume.path)
    assert remote.read_bytes() == original.read_bytes()
    assert allocated(remote) < 5 * MiB  # still sparse on the host

    copy = tmp_path / "back.img"
    download = await start_download(b, pools["b"], "disk.img", str(copy), jobs=jobs)
    assert (await download.wait()).sparse
    assert copy.read_bytes() == original.read_bytes()
    assert allocated(copy) < 5 * MiB  # and sparse here
    assert [p.name for p in tmp_path.iterdir() if "vtui-part" in p.name] == []
    with pytest.raises(VtuiError, match="exists"):
        await start_download(b, pools["b"], "disk.img", str(copy), jobs=jobs)


async def test_plain_streams_when_asked_carry_the_holes_as_zeros(lab, hosts, pools, tmp_path):
    a, _b = hosts
    original = sparse_file(tmp_path / "plain.img", 3 * MiB, [MiB])
    summary = await (await start_upload(a, pools["a"], str(original), sparse=False)).wait()
    assert not summary.sparse and summary.data_bytes == 3 * MiB
    volume = await get_volume(a, pools["a"], "plain.img")
    assert in_host(lab, "a", volume.path).read_bytes() == original.read_bytes()


async def test_qcow2_upload_keeps_format_and_virtual_size(lab, hosts, pools, tmp_path):
    a, _b = hosts
    image = tmp_path / "small.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(image), "64M"], check=True)
    await (await start_upload(a, pools["a"], str(image), name="up.qcow2")).wait()
    volume = await get_volume(a, pools["a"], "up.qcow2")
    assert (volume.format, volume.capacity) == ("qcow2", 64 * MiB)
    assert in_host(lab, "a", volume.path).read_bytes()[:4] == b"QFI\xfb"


async def test_cancelled_upload_and_download_leave_nothing(lab, hosts, pools, tmp_path):
    _a, b = hosts
    work = tmp_path / "work"
    work.mkdir()
    big = work / "big.img"
    big.write_bytes(os.urandom(16 * MiB))
    before = volumes_in(lab["b"].uri, pools["b"])
    # 4 MiB/s: the cancel lands after about a second, far from the end
    upload = await start_upload(b, pools["b"], str(big), limit_bps=4 * MiB, jobs=Transfers())
    await until(lambda: upload.progress.done >= 2 * MiB, 10, "upload under way")
    await upload.cancel()
    assert upload.state == CANCELLED and "no volume left behind" in upload.error
    assert upload.progress.done < 16 * MiB
    assert volumes_in(lab["b"].uri, pools["b"]) == before
    with pytest.raises(VtuiError, match="cancelled; no volume left behind"):
        await upload.wait()

    done = await start_upload(b, pools["b"], str(big), name="whole.img", jobs=Transfers())
    await done.wait()
    target = work / "out.img"
    download = await start_download(
        b, pools["b"], "whole.img", str(target), limit_bps=4 * MiB, jobs=Transfers()
    )
    await until(lambda: download.progress.done >= 2 * MiB, 10, "download under way")
    await download.cancel()
    assert download.state == CANCELLED and "no partial file left behind" in download.error
    assert list(work.iterdir()) == [big]


async def test_copy_between_hosts(lab, hosts, pools, tmp_path):
    a, b = hosts
    original = sparse_file(tmp_path / "src.img", 5 * MiB, [MiB, 4 * MiB])
    await (await start_upload(a, pools["a"], str(original), name="vm.img")).wait()
    jobs = Transfers()
    copy = await start_copy(a, pools["a"], "vm.img", b, pools["b"], jobs=jobs)
    assert copy.hosts == (a, b)
    summary = await copy.wait()
    assert summary.total_bytes == 5 * MiB and summary.sparse and summary.data_bytes == 2 * MiB
    copied = await get_volume(b, pools["b"], "vm.img")
    assert copied.capacity == 5 * MiB
    assert in_host(lab, "b", copied.path).read_bytes() == original.read_bytes()

    with pytest.raises(VtuiError, match="already has a volume called 'vm.img'"):
        await start_copy(a, pools["a"], "vm.img", b, pools["b"], jobs=jobs)
    # a cancelled copy leaves nothing on the destination
    slow = await start_copy(
        a, pools["a"], "vm.img", b, pools["b"], name="slow.img", limit_bps=MiB, jobs=jobs
    )
    await until(lambda: slow.progress.data_bytes > 0, 10, "copy under way")
    await slow.cancel()
    assert slow.state == CANCELLED
    assert [v.name for v in await list_volumes(b, pools["b"])] == ["vm.img"]


async def test_bad_uploads_are_refused_before_anything_changes(lab, hosts, pools, tmp_path):
    a, _b = hosts
    empty = tmp_path / "empty.img"
    empty.touch()
    image = sparse_file(tmp_path / "ok.img", MiB, [0])
    overlay = tmp_path / "overlay.qcow2"
    subprocess.run(
        ["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(image), "-F", "raw", str(overlay)],
        check=True,
    )
    before = volumes_in(lab["a"].uri, pools["a"])
    for path, name, message in [
        (empty, None, "the file is empty"),
        (tmp_path / "missing.img", None, "cannot read it: No such file or directory"),
        (image, "bad/name", "cannot contain"),
        (image, "", "cannot be empty"),
        (overlay, None, f"qcow2 overlay of {image}"),
    ]:
        with pytest.raises(VtuiError) as exc:
            await start_upload(a, pools["a"], str(path), name=name, jobs=Transfers())
        assert message in str(exc.value) and "\n" not in str(exc.value)
    assert volumes_in(lab["a"].uri, pools["a"]) == before


async def test_tunnels_prefer_aes_gcm_unless_the_config_chose(hosts):
    # asyncssh's ChaCha20 costs four cipher calls a packet; AES-GCM one (uploads ~1.5-2x)
    from asyncssh.encryption import get_default_encryption_algs

    from vtui.core.ssh.tunnel import fast_ciphers_first

    default = get_default_encryption_algs()
    assert fast_ciphers_first(default)[:2] == ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com"]
    assert sorted(fast_ciphers_first(default)) == sorted(c.decode() for c in default)
    assert fast_ciphers_first([b"aes256-ctr"]) is None  # the ssh config's Ciphers win
    a, _b = hosts
    assert a.tunnel._conn.get_extra_info("send_cipher") == "aes128-gcm@openssh.com"
