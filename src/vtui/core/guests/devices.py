"""One device element of a domain, built from plain answers: disks and CD-ROMs,
network interfaces, graphics, video, serial console, channels, RNG, controllers,
input, balloon, sound, watchdog, TPM, filesystem shares, host devices.

Creating a guest (create/) and configuring one (config/: attach a disk, add a NIC or
any other device) use the same functions. Each returns an lxml element, built from
elements (names and paths come from users, never from string formatting), for the
caller to append to <devices> or to hand to attach-device.

    devices = etree.SubElement(domain, "devices")
    devices.append(disk_element("vda", "virtio", path="/var/lib/libvirt/images/web.qcow2"))
    devices.append(interface_element("network", "default", mac="52:54:00:12:34:56"))
"""

from __future__ import annotations

import string
from collections.abc import Iterable

from lxml import etree

from vtui.core.errors import VtuiError

E = etree.SubElement
# Device name prefix per disk bus, as libvirt and guests name them.
TARGET_PREFIX = {"virtio": "vd", "scsi": "sd", "sata": "sd", "usb": "sd", "ide": "hd", "fdc": "fd"}
DISK_BUSES = tuple(TARGET_PREFIX)
CACHE_MODES = ("default", "none", "writethrough", "writeback", "directsync", "unsafe")
NIC_MODELS = ("virtio", "e1000e", "e1000", "rtl8139")
# interface kinds as users say them -> libvirt's interface type
INTERFACE_TYPES = {
    "network": "network",
    "bridge": "bridge",
    "macvtap": "direct",
    "direct": "direct",
}
MACVTAP_MODES = ("bridge", "vepa", "private", "passthrough")
NIC_KINDS = ("network", "bridge", "direct")  # libvirt's own names, as a form offers them
GUEST_AGENT = "org.qemu.guest_agent.0"
SPICE_AGENT = "com.redhat.spice.0"
RNG_SOURCE = "/dev/urandom"
LOCALHOST = "127.0.0.1"
_DISCARDING_BUSES = ("virtio", "scsi", "sata")


class BadAnswer(VtuiError):
    """An answer a device cannot be built from."""


# -- disks -------------------------------------------------------------------------------
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
    target: str,
    bus: str = "virtio",
    *,
    device: str = "disk",
    path: str = "",
    pool: str = "",
    volume: str = "",
    source_type: str = "",
    format: str = "",
    cache: str = "",
    readonly: bool = False,
    shareable: bool = False,
    boot_order: int | None = None,
) -> etree._Element:
    """A disk (device="disk"), CD-ROM ("cdrom") or floppy, from a path (a file, or a
    block device under /dev or with source_type="block"), a pool volume, or nothing
    (an empty CD-ROM drive). A disk on a bus that can trim hands freed blocks back to
    a thin image (discard=unmap)."""
    if volume:
        kind = "volume"
    else:
        kind = source_type or ("block" if path.startswith("/dev/") else "file")
    disk = etree.Element("disk", type=kind, device=device)
    driver = E(disk, "driver", name="qemu")
    if format or device == "cdrom":
        driver.set("type", format or "raw")
    if cache and cache != "default":
        driver.set("cache", cache)
    if device == "disk" and bus in _DISCARDING_BUSES:
        driver.set("discard", "unmap")
    if volume:
        E(disk, "source", pool=pool, volume=volume)
    elif path:
        E(disk, "source", {"dev" if kind == "block" else "file": path})
    E(disk, "target", dev=target, bus=bus)
    if readonly or device == "cdrom":
        E(disk, "readonly")
    if shareable:
        E(disk, "shareable")
    if boot_order is not None:
        E(disk, "boot", order=str(boot_order))
    return disk


def cdrom_element(
    target: str, bus: str = "sata", *, path: str = "", boot_order: int | None = None
) -> etree._Element:
    """A read-only CD-ROM drive with an ISO image in it (or none)."""
    return disk_element(target, bus, device="cdrom", path=path, boot_order=boot_order)


# -- network interfaces ------------------------------------------------------------------
def interface_element(
    kind: str,
    source: str,
    *,
    model: str = "virtio",
    mac: str = "",
    mode: str = "bridge",
    link_up: bool = True,
    boot_order: int | None = None,
) -> etree._Element:
    """A network interface: kind "network" (source: the network's name), "bridge" (the
    host bridge) or "macvtap"/"direct" (the host interface; guest and host then cannot
    talk to each other, a macvtap limitation). Without `mac`, libvirt picks one."""
    if kind not in INTERFACE_TYPES:
        raise BadAnswer(f"unknown interface type {kind!r} (network, bridge or macvtap)")
    if not source:
        raise BadAnswer(f"a {kind} interface needs a source")
    interface = etree.Element("interface", type=INTERFACE_TYPES[kind])
    if mac:
        E(interface, "mac", address=mac)
    interface.append(interface_source(kind, source, mode))
    if model:
        E(interface, "model", type=model)
    if not link_up:
        E(interface, "link", state="down")
    if boot_order is not None:
        E(interface, "boot", order=str(boot_order))
    return interface


def interface_source(kind: str, source: str, mode: str = "bridge") -> etree._Element:
    """The <source> of an interface of that kind."""
    if INTERFACE_TYPES.get(kind) == "direct":
        if mode not in MACVTAP_MODES:
            raise BadAnswer(f"macvtap mode {mode!r} is not one of {', '.join(MACVTAP_MODES)}")
        return etree.Element("source", dev=source, mode=mode)
    return etree.Element("source", {INTERFACE_TYPES[kind]: source})


# -- displays and consoles ---------------------------------------------------------------
def graphics_element(kind: str, *, listen: str = LOCALHOST) -> etree._Element:
    """A VNC or SPICE display on an automatic port, listening on the host's loopback
    only by default (reach it through an SSH tunnel, not the open network)."""
    graphics = etree.Element("graphics", type=kind, autoport="yes")
    graphics.set("listen", listen)
    E(graphics, "listen", type="address", address=listen)
    if kind == "spice":
        E(graphics, "image", compression="off")
    return graphics


def video_element(model: str = "virtio") -> etree._Element:
    video = etree.Element("video")
    E(video, "model", type=model)
    return video


def serial_element(port: int = 0) -> etree._Element:
    serial = etree.Element("serial", type="pty")
    E(serial, "target", port=str(port))
    return serial


def console_element(target: str = "serial", port: int = 0) -> etree._Element:
    """A console on a pty: target "serial" shows serial port `port`, "virtio" is a
    virtio console of its own."""
    console = etree.Element("console", type="pty")
    if target == "serial":
        E(console, "target", type="serial", port=str(port))
    else:
        E(console, "target", type=target)
    return console


def serial_console_elements(port: int = 0) -> list[etree._Element]:
    """A serial port on a pty and the console that shows it (virsh console, vtui's
    console screen, and the kernel's console=ttyS0)."""
    return [serial_element(port), console_element("serial", port)]


def channel_element(name: str = GUEST_AGENT) -> etree._Element:
    """A virtio-serial channel: by default on a unix socket libvirt manages, the one the
    QEMU guest agent talks through (shutdown, IP addresses, fs freeze); SPICE's agent
    channel (clipboard, resolution) for name=SPICE_AGENT."""
    if name == SPICE_AGENT:
        channel = etree.Element("channel", type="spicevmc")
    else:
        channel = etree.Element("channel", type="unix")
        E(channel, "source", mode="bind")
    E(channel, "target", type="virtio", name=name)
    return channel


# -- other devices -----------------------------------------------------------------------
def rng_element(model: str = "virtio", source: str = RNG_SOURCE) -> etree._Element:
    """A random number generator fed from the host's entropy (boots with sshd need it)."""
    rng = etree.Element("rng", model=model)
    E(rng, "backend", model="random").text = source
    return rng


def controller_element(kind: str, *, model: str = "", index: int | None = None) -> etree._Element:
    """e.g. controller_element("scsi", model="virtio-scsi"), ("usb", model="qemu-xhci")."""
    controller = etree.Element("controller", type=kind)
    if index is not None:
        controller.set("index", str(index))
    if model and model != "default":
        controller.set("model", model)
    return controller


def input_element(kind: str = "tablet", bus: str = "usb") -> etree._Element:
    """A tablet keeps the pointer where the viewer has it (VNC/SPICE)."""
    return etree.Element("input", type=kind, bus=bus)


def memballoon_element(model: str = "virtio") -> etree._Element:
    return etree.Element("memballoon", model=model)


def sound_element(model: str = "ich9") -> etree._Element:
    return etree.Element("sound", model=model)


def watchdog_element(model: str = "i6300esb", action: str = "reset") -> etree._Element:
    return etree.Element("watchdog", model=model, action=action)


def tpm_element(model: str = "tpm-crb") -> etree._Element:
    """An emulated TPM 2.0 (swtpm on the host keeps its state)."""
    tpm = etree.Element("tpm", model=model)
    E(tpm, "backend", type="emulator", version="2.0")
    return tpm


def filesystem_element(source: str, tag: str) -> etree._Element:
    """A host directory shared with virtiofs; the guest mounts it by `tag`."""
    if not source.startswith("/"):
        raise BadAnswer("a filesystem share needs the host directory (an absolute path)")
    if not tag:
        raise BadAnswer("a filesystem share needs a mount tag (what the guest mounts)")
    share = etree.Element("filesystem", type="mount", accessmode="passthrough")
    E(share, "driver", type="virtiofs")
    E(share, "source", dir=source)
    E(share, "target", dir=tag)
    return share


# -- host devices ------------------------------------------------------------------------
def pci_hostdev_element(address: str) -> etree._Element:
    """<hostdev> for the PCI device at 0000:03:00.0 (libvirt detaches it from its host
    driver when the guest starts and gives it back after: managed)."""
    try:
        domain, bus, rest = address.split(":")
        slot, function = rest.split(".")
        numbers = [int(x, 16) for x in (domain, bus, slot, function)]
    except ValueError:
        raise BadAnswer(f"{address!r} is not a PCI address (like 0000:03:00.0)") from None
    dev = etree.Element("hostdev", mode="subsystem", type="pci", managed="yes")
    E(
        E(dev, "source"),
        "address",
        domain=f"0x{numbers[0]:04x}",
        bus=f"0x{numbers[1]:02x}",
        slot=f"0x{numbers[2]:02x}",
        function=f"0x{numbers[3]:x}",
    )
    return dev


def usb_hostdev_element(vendor_id: str, product_id: str, address: str = "") -> etree._Element:
    """<hostdev> for a USB device by its ids, and its bus/device address when known
    (two identical devices are told apart only by it)."""
    if not vendor_id or not product_id:
        raise BadAnswer("a USB device needs its vendor and product ids")
    dev = etree.Element("hostdev", mode="subsystem", type="usb", managed="yes")
    source = E(dev, "source")
    E(source, "vendor", id=vendor_id)
    E(source, "product", id=product_id)
    if address:
        bus, _, number = address.partition(":")
        E(source, "address", bus=str(int(bus)), device=str(int(number)))
    return dev
