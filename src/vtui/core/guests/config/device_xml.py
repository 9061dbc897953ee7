"""Device elements built from answers: plain functions, each returning an lxml element
libvirt accepts in <devices> (attach-device). Values from users go into attributes and
text through lxml, never into markup by hand. `ADDABLE` says which answers each kind of
"other device" takes, so a form can be drawn from it."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from lxml import etree

from vtui.core.errors import VtuiError

E = etree.SubElement
BUS_PREFIX = {"virtio": "vd", "scsi": "sd", "sata": "sd", "usb": "sd", "ide": "hd", "fdc": "fd"}
DISK_BUSES = ("virtio", "scsi", "sata", "usb", "ide", "fdc")
CACHE_MODES = ("default", "none", "writethrough", "writeback", "directsync", "unsafe")
NIC_MODELS = ("virtio", "e1000e", "e1000", "rtl8139")
NIC_KINDS = ("network", "bridge", "direct")
MACVTAP_MODES = ("bridge", "vepa", "private", "passthrough")


class BadAnswer(VtuiError):
    """An answer a device cannot be built from."""


def random_mac() -> str:
    """A MAC in QEMU's locally administered range, chosen once so the live and the
    persistent definition get the same one."""
    return "52:54:00:" + ":".join(f"{random.randint(0, 255):02x}" for _ in range(3))


def next_target(bus: str, taken: set[str]) -> str:
    """The first free disk name for a bus: vda, vdb... or sda, hdc."""
    prefix = BUS_PREFIX.get(bus, "sd")
    for i in range(26 * 27):
        first, second = divmod(i, 26)
        name = prefix + ("" if i < 26 else chr(ord("a") + first - 1)) + chr(ord("a") + second)
        if name not in taken:
            return name
    raise BadAnswer(f"no free {bus} disk name left")


# -- disks -------------------------------------------------------------------------------
def disk_element(
    target: str,
    bus: str,
    *,
    device: str = "disk",
    path: str = "",
    pool: str = "",
    volume: str = "",
    format: str = "",
    cache: str = "",
    readonly: bool = False,
    shareable: bool = False,
) -> etree._Element:
    """A disk from a path (file or /dev block device), a pool volume, or nothing (an
    empty CD-ROM drive)."""
    if volume:
        kind = "volume"
    elif path.startswith("/dev/"):
        kind = "block"
    else:
        kind = "file"
    disk = etree.Element("disk", type=kind, device=device)
    driver = E(disk, "driver", name="qemu")
    if format:
        driver.set("type", format)
    if cache and cache != "default":
        driver.set("cache", cache)
    if volume:
        E(disk, "source", pool=pool, volume=volume)
    elif path:
        E(disk, "source", {"dev" if kind == "block" else "file": path})
    E(disk, "target", dev=target, bus=bus)
    if readonly or device == "cdrom":
        E(disk, "readonly")
    if shareable:
        E(disk, "shareable")
    return disk


def set_media(disk: etree._Element, path: str) -> None:
    """Put `path` into a CD-ROM or floppy element, or empty it ("": eject)."""
    source = disk.find("source")
    if source is not None:
        disk.remove(source)
    if not path:
        return
    kind = "block" if path.startswith("/dev/") else "file"
    disk.set("type", kind)
    source = etree.Element("source", {"dev" if kind == "block" else "file": path})
    anchor = disk.find("driver")
    if anchor is not None:
        anchor.addnext(source)
    else:
        disk.insert(0, source)


# -- network interfaces ------------------------------------------------------------------
def set_nic_source(nic: etree._Element, kind: str, source: str, mode: str = "bridge") -> None:
    if kind not in NIC_KINDS:
        raise BadAnswer(f"unknown interface type {kind!r} (one of {', '.join(NIC_KINDS)})")
    if not source:
        raise BadAnswer(f"a {kind} interface needs a source")
    nic.set("type", kind)
    old = nic.find("source")
    attrs = {"network": {"network": source}, "bridge": {"bridge": source}}
    attrs["direct"] = {"dev": source, "mode": mode}
    new = etree.Element("source", attrs[kind])
    if old is not None:
        old.addprevious(new)
        nic.remove(old)
    else:
        mac = nic.find("mac")
        if mac is not None:
            mac.addnext(new)
        else:
            nic.insert(0, new)


def nic_element(
    kind: str,
    source: str,
    *,
    model: str = "virtio",
    mac: str = "",
    mode: str = "bridge",
    link_up: bool = True,
) -> etree._Element:
    nic = etree.Element("interface", type=kind)
    E(nic, "mac", address=mac or random_mac())
    set_nic_source(nic, kind, source, mode)
    if model:
        E(nic, "model", type=model)
    if not link_up:
        E(nic, "link", state="down")
    return nic


# -- other devices -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Answer:
    name: str
    label: str
    default: str = ""
    choices: tuple[str, ...] = ()  # empty: free text


@dataclass(frozen=True, slots=True)
class DeviceKind:
    kind: str  # the element's tag
    label: str
    answers: tuple[Answer, ...]
    build: Callable[[Mapping[str, str]], etree._Element]


def _serial(a: Mapping[str, str]) -> etree._Element:
    dev = etree.Element("serial", type="pty")
    E(dev, "target", port=a.get("port", "0") or "0")
    return dev


def _console(a: Mapping[str, str]) -> etree._Element:
    dev = etree.Element("console", type="pty")
    E(dev, "target", type=a.get("target", "virtio") or "virtio")
    return dev


def _channel(a: Mapping[str, str]) -> etree._Element:
    if a.get("purpose", "guest agent") == "spice":
        dev = etree.Element("channel", type="spicevmc")
        E(dev, "target", type="virtio", name="com.redhat.spice.0")
        return dev
    dev = etree.Element("channel", type="unix")
    E(dev, "target", type="virtio", name="org.qemu.guest_agent.0")
    return dev


def _graphics(a: Mapping[str, str]) -> etree._Element:
    dev = etree.Element("graphics", type=a.get("type", "vnc") or "vnc", autoport="yes")
    listen = a.get("listen", "127.0.0.1") or "127.0.0.1"
    E(dev, "listen", type="address", address=listen)
    return dev


def _video(a: Mapping[str, str]) -> etree._Element:
    dev = etree.Element("video")
    E(dev, "model", type=a.get("model", "virtio") or "virtio", heads="1", primary="yes")
    return dev


def _sound(a: Mapping[str, str]) -> etree._Element:
    return etree.Element("sound", model=a.get("model", "ich9") or "ich9")


def _watchdog(a: Mapping[str, str]) -> etree._Element:
    model = a.get("model", "i6300esb") or "i6300esb"
    return etree.Element("watchdog", model=model, action=a.get("action", "reset") or "reset")


def _rng(a: Mapping[str, str]) -> etree._Element:
    dev = etree.Element("rng", model="virtio")
    E(dev, "backend", model="random").text = a.get("source", "/dev/urandom") or "/dev/urandom"
    return dev


def _tpm(a: Mapping[str, str]) -> etree._Element:
    dev = etree.Element("tpm", model=a.get("model", "tpm-crb") or "tpm-crb")
    E(dev, "backend", type="emulator", version="2.0")
    return dev


def _input(a: Mapping[str, str]) -> etree._Element:
    return etree.Element(
        "input", type=a.get("type", "tablet") or "tablet", bus=a.get("bus", "usb") or "usb"
    )


def _controller(a: Mapping[str, str]) -> etree._Element:
    kind = a.get("type", "scsi") or "scsi"
    dev = etree.Element("controller", type=kind)
    model = a.get("model", "")
    if model and model != "default":
        dev.set("model", model)
    return dev


def _filesystem(a: Mapping[str, str]) -> etree._Element:
    source, tag = a.get("source", ""), a.get("tag", "")
    if not source.startswith("/"):
        raise BadAnswer("a filesystem share needs the host directory (an absolute path)")
    if not tag:
        raise BadAnswer("a filesystem share needs a mount tag (what the guest mounts)")
    dev = etree.Element("filesystem", type="mount", accessmode="passthrough")
    E(dev, "driver", type="virtiofs")
    E(dev, "source", dir=source)
    E(dev, "target", dir=tag)
    return dev


ADDABLE: dict[str, DeviceKind] = {
    k.kind: k
    for k in (
        DeviceKind("serial", "serial port (pty)", (Answer("port", "port", "0"),), _serial),
        DeviceKind(
            "console",
            "console (pty)",
            (Answer("target", "target", "virtio", ("virtio", "serial")),),
            _console,
        ),
        DeviceKind(
            "channel",
            "channel",
            (Answer("purpose", "for", "guest agent", ("guest agent", "spice")),),
            _channel,
        ),
        DeviceKind(
            "graphics",
            "graphics (VNC / SPICE)",
            (
                Answer("type", "type", "vnc", ("vnc", "spice")),
                Answer("listen", "listen on", "127.0.0.1"),
            ),
            _graphics,
        ),
        DeviceKind(
            "video",
            "video card",
            (
                Answer(
                    "model", "model", "virtio", ("virtio", "qxl", "vga", "bochs", "ramfb", "none")
                ),
            ),
            _video,
        ),
        DeviceKind(
            "sound",
            "sound card",
            (Answer("model", "model", "ich9", ("ich9", "ich6", "ac97", "usb")),),
            _sound,
        ),
        DeviceKind(
            "watchdog",
            "watchdog",
            (
                Answer("model", "model", "i6300esb", ("i6300esb", "itco", "ib700")),
                Answer(
                    "action",
                    "on fire",
                    "reset",
                    ("reset", "poweroff", "pause", "shutdown", "dump", "none"),
                ),
            ),
            _watchdog,
        ),
        DeviceKind(
            "rng",
            "random number generator",
            (Answer("source", "host source", "/dev/urandom"),),
            _rng,
        ),
        DeviceKind(
            "tpm",
            "TPM (emulated, 2.0)",
            (Answer("model", "model", "tpm-crb", ("tpm-crb", "tpm-tis")),),
            _tpm,
        ),
        DeviceKind(
            "input",
            "input device",
            (
                Answer("type", "type", "tablet", ("tablet", "mouse", "keyboard")),
                Answer("bus", "bus", "usb", ("usb", "virtio", "ps2")),
            ),
            _input,
        ),
        DeviceKind(
            "controller",
            "controller",
            (
                Answer("type", "type", "scsi", ("scsi", "usb", "virtio-serial", "sata", "pci")),
                Answer("model", "model", "default"),
            ),
            _controller,
        ),
        DeviceKind(
            "filesystem",
            "filesystem share (virtiofs)",
            (Answer("source", "host directory"), Answer("tag", "mount tag")),
            _filesystem,
        ),
    )
}


def device_element(kind: str, answers: Mapping[str, str]) -> etree._Element:
    found = ADDABLE.get(kind)
    if found is None:
        raise BadAnswer(f"vtui cannot add a {kind} device (it can add: {', '.join(ADDABLE)})")
    for answer in found.answers:
        if answer.choices and answers.get(answer.name, answer.default) not in answer.choices:
            wanted = answers.get(answer.name)
            raise BadAnswer(f"{answer.label}: {wanted!r} is not one of {', '.join(answer.choices)}")
    return found.build({a.name: answers.get(a.name, a.default) for a in found.answers})


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
    source = E(dev, "source")
    E(
        source,
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
