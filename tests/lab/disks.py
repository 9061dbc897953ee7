"""Opt-in: a lab guest with disks. The default busybox guest has no block driver
(Debian's cloud kernel builds virtio_blk as a module); the virtio image (virtio.py)
loads the virtio modules, so a qcow2 volume given as a virtio disk shows up as /dev/vda
(and a virtio network card as eth0, to read its MAC address). Its filesystem is made
and mounted from the serial console with busybox's mke2fs and mount (the kernel's ext4
driver reads ext2).
"""

from __future__ import annotations

import itertools

from lxml import etree

from .images import guest_xml
from .virtio import ensure_virtio_image


def ensure_disk_guest_image() -> tuple[str, str]:
    """(kernel, initrd) of the guest that sees virtio disks: the virtio image."""
    return ensure_virtio_image()


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
