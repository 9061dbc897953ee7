"""Opt-in: a lab guest that sees disks. The default busybox guest has no block driver
(Debian's cloud kernel builds virtio_blk as a module, and its initramfs has no modules);
this variant's initramfs carries the virtio modules and loads them before the shell, so
a qcow2 volume given as a virtio disk shows up as /dev/vda (and a virtio network card as
eth0, to read its MAC address). Its filesystem is made and
mounted from the serial console with busybox's mke2fs and mount (the kernel's ext4
driver reads ext2).

Built once into the cache dir next to the default image, from the kernel package's
own modules (so they always match the kernel they are loaded into).
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import shutil
import subprocess
import tempfile
from pathlib import Path

from lxml import etree

from .images import READY_LINE, _busybox, _kernel_package, _publish, cache_dir, guest_xml

# Load order matters: each needs the ones before it.
MODULES = (
    "virtio_ring",
    "virtio",
    "virtio_pci_legacy_dev",
    "virtio_pci_modern_dev",
    "virtio_pci",
    "virtio_blk",
    "failover",
    "net_failover",
    "virtio_net",
)
DISK_INIT = f"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in {" ".join(MODULES)}; do insmod /lib/modules/$m.ko; done
mkdir -p /mnt
exec </dev/console >/dev/console 2>&1
echo {READY_LINE}
exec setsid cttyhack sh
"""


def _build(final: Path) -> None:
    pkg = _kernel_package()
    tmp = Path(tempfile.mkdtemp(prefix=".disk-guest-", dir=final.parent))
    try:
        r = subprocess.run(["apt-get", "download", pkg], cwd=tmp, capture_output=True, text=True)
        if r.returncode != 0:
            subprocess.run(["apt-get", "update"], capture_output=True, check=False)
            r = subprocess.run(
                ["apt-get", "download", pkg], cwd=tmp, capture_output=True, text=True
            )
        if r.returncode != 0:
            raise RuntimeError(f"apt-get download {pkg} failed:\n{r.stderr}")
        (deb,) = tmp.glob("*.deb")
        subprocess.run(["dpkg", "-x", str(deb), str(tmp / "x")], check=True)
        (vmlinuz,) = (tmp / "x/boot").glob("vmlinuz-*")
        shutil.move(str(vmlinuz), tmp / "vmlinuz")
        root = tmp / "root"
        for d in ("bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "tmp", "root"):
            (root / d).mkdir(parents=True)
        (root / "lib/modules").mkdir(parents=True)
        for module in MODULES:
            (found,) = (tmp / "x/lib/modules").rglob(f"{module}.ko")
            shutil.copy(found, root / "lib/modules" / f"{module}.ko")
        shutil.copy(_busybox(), root / "bin/busybox")
        (root / "bin/busybox").chmod(0o755)
        (root / "init").write_text(DISK_INIT)
        (root / "init").chmod(0o755)
        files = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
        cpio = subprocess.run(
            ["cpio", "-o", "-H", "newc", "--quiet", "-R", "0:0"],
            cwd=root,
            input=("\n".join(files) + "\n").encode(),
            capture_output=True,
            check=True,
        )
        (tmp / "initrd.gz").write_bytes(gzip.compress(cpio.stdout, 6))
        for leftover in (deb, tmp / "x", root):
            if leftover.is_dir():
                shutil.rmtree(leftover)
            else:
                leftover.unlink()
        _publish(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ensure_disk_guest_image() -> tuple[str, str]:
    """(kernel, initrd) of the guest that sees virtio disks, built on first use."""
    key = hashlib.sha256(DISK_INIT.encode()).hexdigest()[:12]
    final = cache_dir() / f"disk-guest-{key}"
    if not (final / "initrd.gz").exists():
        _build(final)
    return str(final / "vmlinuz"), str(final / "initrd.gz")


def disk_guest_xml(
    name: str,
    kernel: str,
    initrd: str,
    disks: list[tuple[str, str]],
    *,
    interface: bool = False,
) -> str:
    """The lab guest with virtio disks vda, vdb... given as (file path, format), and
    optionally a user-mode network card (no host network is touched)."""
    root = etree.fromstring(guest_xml(name, kernel, initrd).encode())
    devices = root.find("devices")
    for i, (path, fmt) in enumerate(disks):
        disk = etree.SubElement(devices, "disk", type="file", device="disk")
        etree.SubElement(disk, "driver", name="qemu", type=fmt)
        etree.SubElement(disk, "source", file=path)
        etree.SubElement(disk, "target", dev=f"vd{'abcdefgh'[i]}", bus="virtio")
    if interface:
        nic = etree.SubElement(devices, "interface", type="user")
        etree.SubElement(nic, "model", type="virtio")
    return etree.tostring(root, pretty_print=True, encoding="unicode")


_commands = itertools.count(1)


def shell(console, command: str, timeout: float = 30) -> str:
    """Run a shell line on the guest's serial console and wait until it has ended; the
    text since it was typed (the echo of the line first: its last line is the command's
    own last line of output). The end is a token the typed line does not contain (the
    quotes split it), so neither the echo nor an earlier prompt is taken for it."""
    token = f"vtui-done-{next(_commands)}"
    split = f'"{token[:5]}""{token[5:]}"'
    mark = len(console.buf)
    console.send(f"{command}; echo {split} $?\n")
    out = console.expect(f"{token} ", timeout, start=mark)[mark:].decode(errors="replace")
    return out.split(f"{token} ")[0].strip()


def last_line(text: str) -> str:
    lines = text.splitlines()
    return lines[-1].strip() if lines else ""
