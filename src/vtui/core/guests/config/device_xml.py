"""Editing device elements of an existing guest, and the "other devices" a user can
add, with the answers each takes (`ADDABLE`, which the form is drawn from). The
elements themselves come from core/guests/devices.py, which creating guests uses too."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from lxml import etree

from vtui.core.guests.devices import (
    GUEST_AGENT,
    SPICE_AGENT,
    BadAnswer,
    channel_element,
    console_element,
    controller_element,
    filesystem_element,
    graphics_element,
    input_element,
    interface_source,
    rng_element,
    serial_element,
    sound_element,
    tpm_element,
    video_element,
    watchdog_element,
)


# -- disks -------------------------------------------------------------------------------
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
    """Point an existing interface elsewhere: a network, a bridge, or macvtap."""
    if not source:
        raise BadAnswer(f"a {kind} interface needs a source")
    new = interface_source(kind, source, mode)
    nic.set("type", "direct" if kind in ("macvtap", "direct") else kind)
    old = nic.find("source")
    if old is not None:
        old.addprevious(new)
        nic.remove(old)
    else:
        mac = nic.find("mac")
        if mac is not None:
            mac.addnext(new)
        else:
            nic.insert(0, new)


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
    return serial_element(int(a.get("port") or 0))


def _console(a: Mapping[str, str]) -> etree._Element:
    return console_element(a.get("target") or "virtio")


def _channel(a: Mapping[str, str]) -> etree._Element:
    return channel_element(SPICE_AGENT if a.get("purpose") == "spice" else GUEST_AGENT)


def _graphics(a: Mapping[str, str]) -> etree._Element:
    return graphics_element(a.get("type") or "vnc", listen=a.get("listen") or "127.0.0.1")


def _video(a: Mapping[str, str]) -> etree._Element:
    return video_element(a.get("model") or "virtio")


def _sound(a: Mapping[str, str]) -> etree._Element:
    return sound_element(a.get("model") or "ich9")


def _watchdog(a: Mapping[str, str]) -> etree._Element:
    return watchdog_element(a.get("model") or "i6300esb", a.get("action") or "reset")


def _rng(a: Mapping[str, str]) -> etree._Element:
    return rng_element(source=a.get("source") or "/dev/urandom")


def _tpm(a: Mapping[str, str]) -> etree._Element:
    return tpm_element(a.get("model") or "tpm-crb")


def _input(a: Mapping[str, str]) -> etree._Element:
    return input_element(a.get("type") or "tablet", a.get("bus") or "usb")


def _controller(a: Mapping[str, str]) -> etree._Element:
    return controller_element(a.get("type") or "scsi", model=a.get("model", ""))


def _filesystem(a: Mapping[str, str]) -> etree._Element:
    return filesystem_element(a.get("source", ""), a.get("tag", ""))


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
