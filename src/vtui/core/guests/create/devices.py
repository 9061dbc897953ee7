"""Building one device element of a domain from plain answers: disks, CD-ROMs,
network interfaces, graphics, video, serial console, channels, RNG, controllers,
input, balloon. Each function returns an lxml element (built from elements, never
from strings: names and paths come from users) for the caller to append to
<devices>; none knows about creating guests, so configuring an existing guest
(attach a disk, add an interface) uses the same ones.

    devices = etree.SubElement(domain, "devices")
    devices.append(disk_element("/var/lib/libvirt/images/web.qcow2", target="vda"))
    devices.append(interface_element("network", "default", mac="52:54:00:12:34:56"))
"""

from __future__ import annotations

import string
from collections.abc import Iterable

from lxml import etree

# Device name prefix per disk bus, as libvirt and guests name them.
TARGET_PREFIX = {"virtio": "vd", "scsi": "sd", "sata": "sd", "usb": "sd", "ide": "hd", "fdc": "fd"}
GUEST_AGENT = "org.qemu.guest_agent.0"
RNG_SOURCE = "/dev/urandom"
LOCALHOST = "127.0.0.1"


def target_name(bus: str, index: int) -> str:
    """The index-th device name on a bus: ("virtio", 0) -> vda, ("sata", 27) -> sdab."""
    prefix = TARGET_PREFIX.get(bus, "sd")
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = string.ascii_lowercase[rest] + letters
    return prefix + letters


def next_target(bus: str, used: Iterable[str]) -> str:
    """The first device name of `bus` not in `used` (the guest's other disks)."""
    taken = set(used)
    index = 0
    while target_name(bus, index) in taken:
        index += 1
    return target_name(bus, index)


def disk_element(
    source: str | None,
    *,
    target: str,
    bus: str = "virtio",
    format: str = "qcow2",
    device: str = "disk",
    source_type: str = "file",
    readonly: bool = False,
    boot_order: int | None = None,
) -> etree._Element:
    """A disk (device="disk"), CD-ROM ("cdrom") or floppy. source: a file path, or a
    block device with source_type="block"; None makes an empty CD-ROM drive."""
    disk = etree.Element("disk", type=source_type, device=device)
    driver = etree.SubElement(disk, "driver", name="qemu", type=format or "raw")
    if device == "disk" and bus in ("virtio", "scsi", "sata"):
        driver.set("discard", "unmap")  # trimmed blocks go back to a thin image
    if source is not None:
        etree.SubElement(disk, "source", {"dev" if source_type == "block" else "file": source})
    etree.SubElement(disk, "target", dev=target, bus=bus)
    if readonly or device == "cdrom":
        etree.SubElement(disk, "readonly")
    if boot_order is not None:
        etree.SubElement(disk, "boot", order=str(boot_order))
    return disk


def cdrom_element(
    source: str | None, *, target: str, bus: str = "sata", boot_order: int | None = None
) -> etree._Element:
    """A read-only CD-ROM drive with an ISO image in it (or none)."""
    return disk_element(
        source, target=target, bus=bus, format="raw", device="cdrom", boot_order=boot_order
    )


# interface kinds: a libvirt virtual network, a host bridge, macvtap on a host interface
INTERFACE_TYPES = {"network": "network", "bridge": "bridge", "macvtap": "direct"}


def interface_element(
    kind: str,
    source: str,
    *,
    model: str = "virtio",
    mac: str = "",
    macvtap_mode: str = "bridge",
    boot_order: int | None = None,
) -> etree._Element:
    """A network interface: kind "network" (source: the network's name), "bridge"
    (the host bridge) or "macvtap" (the host interface; guest and host then cannot
    talk to each other, a macvtap limitation)."""
    if kind not in INTERFACE_TYPES:
        raise ValueError(f"unknown interface kind {kind!r}")
    interface = etree.Element("interface", type=INTERFACE_TYPES[kind])
    if mac:
        etree.SubElement(interface, "mac", address=mac)
    if kind == "network":
        etree.SubElement(interface, "source", network=source)
    elif kind == "bridge":
        etree.SubElement(interface, "source", bridge=source)
    else:
        etree.SubElement(interface, "source", dev=source, mode=macvtap_mode)
    if model:
        etree.SubElement(interface, "model", type=model)
    if boot_order is not None:
        etree.SubElement(interface, "boot", order=str(boot_order))
    return interface


def graphics_element(kind: str, *, listen: str = LOCALHOST) -> etree._Element:
    """A VNC or SPICE display on an automatic port, listening on the host's loopback
    only by default (reach it through an SSH tunnel, not the open network)."""
    graphics = etree.Element("graphics", type=kind, autoport="yes")
    graphics.set("listen", listen)
    etree.SubElement(graphics, "listen", type="address", address=listen)
    if kind == "spice":
        etree.SubElement(graphics, "image", compression="off")
    return graphics


def video_element(model: str = "virtio") -> etree._Element:
    video = etree.Element("video")
    etree.SubElement(video, "model", type=model)
    return video


def serial_console_elements(port: int = 0) -> list[etree._Element]:
    """A serial port on a pty and the console that shows it (virsh console, vtui's
    console screen, and the kernel's console=ttyS0)."""
    serial = etree.Element("serial", type="pty")
    etree.SubElement(serial, "target", port=str(port))
    console = etree.Element("console", type="pty")
    etree.SubElement(console, "target", type="serial", port=str(port))
    return [serial, console]


def channel_element(name: str = GUEST_AGENT) -> etree._Element:
    """A virtio-serial channel on a unix socket libvirt manages; by default the one
    the QEMU guest agent talks through (shutdown, IP addresses, fs freeze)."""
    channel = etree.Element("channel", type="unix")
    etree.SubElement(channel, "source", mode="bind")
    etree.SubElement(channel, "target", type="virtio", name=name)
    return channel


def rng_element(model: str = "virtio", source: str = RNG_SOURCE) -> etree._Element:
    """A random number generator fed from the host's entropy (boots with sshd need it)."""
    rng = etree.Element("rng", model=model)
    etree.SubElement(rng, "backend", model="random").text = source
    return rng


def controller_element(kind: str, *, model: str = "", index: int | None = None) -> etree._Element:
    """e.g. controller_element("scsi", model="virtio-scsi"), ("usb", model="qemu-xhci")."""
    controller = etree.Element("controller", type=kind)
    if index is not None:
        controller.set("index", str(index))
    if model:
        controller.set("model", model)
    return controller


def input_element(kind: str = "tablet", bus: str = "usb") -> etree._Element:
    """A tablet keeps the pointer where the viewer has it (VNC/SPICE)."""
    return etree.Element("input", type=kind, bus=bus)


def memballoon_element(model: str = "virtio") -> etree._Element:
    return etree.Element("memballoon", model=model)
