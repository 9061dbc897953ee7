"""What a clone will be, decided before anything is made: the new definition (new name,
no UUID and no MAC addresses, so libvirt gives fresh ones; each copied disk pointing at
its copy) and the name of each disk's copy in its pool. Pure functions; clone.py reads
the host and does the work."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from lxml import etree

from vtui.core.guests.layout import GuestDisk

WAITING, COPYING, DONE, FAILED, SHARED = "waiting", "copying", "done", "failed", "shared"


@dataclass(slots=True)
class DiskCopy:
    """One disk of the clone: where it comes from, where its copy goes, how far it is."""

    target: str  # the device name in the guest (vda)
    source_path: str  # the original's file or device
    pool: str  # the pool both live in
    source_volume: str
    volume: str  # the copy's volume name
    format: str  # the original's format (the copy keeps it; an overlay is qcow2)
    overlay: bool  # a qcow2 overlay on the original instead of a full copy
    total: int  # bytes to copy (what the original takes on the host)
    capacity: int
    done: int = 0
    state: str = WAITING
    path: str = ""  # the copy's path, once made
    error: str = ""

    @property
    def fraction(self) -> float | None:
        if self.state == DONE:
            return 1.0
        return min(self.done / self.total, 1.0) if self.total else None


@dataclass(slots=True)
class ClonePlan:
    name: str
    copies: list[DiskCopy] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # disks the clone shares (CD-ROMs...)
    notes: list[str] = field(default_factory=list)  # what the user should know
    refusal: str | None = None


def copy_name(
    volume: str, old_guest: str, new_guest: str, target: str, taken: set[str], overlay: bool
) -> str:
    """The copy's volume name: the original's with the guest's name replaced
    ('web-01.qcow2' -> 'web-02.qcow2'), else the new name and the device ('web-02-vdb.img');
    made unique in the pool."""
    stem, ext = os.path.splitext(volume)
    if overlay:
        ext = ".qcow2"
    if old_guest and old_guest in stem:
        base = stem.replace(old_guest, new_guest, 1)
    else:
        base = f"{new_guest}-{target}"
    name, n = f"{base}{ext}", 2
    while name in taken:
        name, n = f"{base}-{n}{ext}", n + 1
    return name


def clone_xml(
    xml: str, new_name: str, copies: list[DiskCopy], disks: tuple[GuestDisk, ...]
) -> tuple[str, list[str]]:
    """The clone's definition from the original's (inactive, secure) XML, and notes on
    what does not come along."""
    root = etree.fromstring(xml.encode())
    notes: list[str] = []
    root.find("name").text = new_name  # type: ignore[union-attr]
    for tag in ("uuid", "title"):
        for element in root.findall(tag):
            root.remove(element)
    # libvirt refuses a <sysinfo> UUID that differs from the (new) domain UUID
    for entry in root.iterfind("sysinfo/system/entry"):
        if entry.get("name") == "uuid":
            entry.getparent().remove(entry)  # type: ignore[union-attr]
    for interface in root.iterfind("devices/interface"):
        for mac in interface.findall("mac"):
            interface.remove(mac)  # libvirt makes a new one
        for target in interface.findall("target"):
            interface.remove(target)  # a fixed tap name would collide
    nvram = root.find("os/nvram")
    if nvram is not None:
        nvram.getparent().remove(nvram)  # type: ignore[union-attr]
        notes.append(
            "its UEFI variables are not copied: the clone gets a fresh NVRAM store "
            "(boot entries made inside the guest are not there)"
        )
    by_target = {c.target: c for c in copies}
    for element, disk in zip(root.iterfind("devices/disk"), disks):
        copy = by_target.get(disk.target)
        if copy is None:
            continue
        source = element.find("source")
        driver = element.find("driver")
        if source is None:
            continue
        for attribute in ("file", "dev", "pool", "volume"):
            if attribute in source.attrib:
                del source.attrib[attribute]
        if disk.type == "volume":
            source.set("pool", copy.pool)
            source.set("volume", copy.volume)
        else:
            element.set("type", "file" if disk.type == "file" else disk.type)
            source.set("file" if disk.type == "file" else "dev", copy.path)
        for backing in element.findall("backingStore"):
            element.remove(backing)  # libvirt reads the copy's own chain
        if copy.overlay and driver is not None:
            driver.set("type", "qcow2")
    return etree.tostring(root, encoding="unicode"), notes
