"""What snapshots, clones and renames need to know of a guest's definition: its disks
(where their data is, in which format), its firmware and NVRAM, its guest agent and
network cards. Read from the XML libvirt returns; nothing here talks to libvirt."""

from __future__ import annotations

import os
from dataclasses import dataclass

from lxml import etree

AGENT_CHANNEL = "org.qemu.guest_agent.0"


@dataclass(frozen=True, slots=True)
class GuestDisk:
    target: str  # the device name in the guest: vda, sdb
    device: str  # disk, cdrom, floppy, lun
    type: str  # file, block, volume, network, dir
    format: str  # the driver's format: qcow2, raw, ... ("" when not said)
    path: str  # the file or block device ("" for network disks and unresolved volumes)
    pool: str  # type='volume': the pool and volume it names
    volume: str
    readonly: bool
    shareable: bool

    @property
    def has_source(self) -> bool:
        return bool(self.path or (self.pool and self.volume))

    @property
    def private(self) -> bool:
        """The guest's own writable disk: what a snapshot covers and a clone copies.
        CD-ROMs, read-only and shared disks are left as they are."""
        return self.device == "disk" and not self.readonly and not self.shareable

    def describe(self) -> str:
        where = self.path or (f"{self.pool}/{self.volume}" if self.volume else "no source")
        return f"{self.target} ({where})"


@dataclass(frozen=True, slots=True)
class GuestLayout:
    name: str
    uuid: str
    disks: tuple[GuestDisk, ...]
    pflash: bool  # UEFI-style firmware in flash, with an NVRAM store
    nvram: str  # the NVRAM file ("" when none or not assigned yet)
    agent_connected: bool  # the guest agent answers (live XML of a running guest)
    macs: tuple[str, ...]

    @property
    def private_disks(self) -> tuple[GuestDisk, ...]:
        return tuple(d for d in self.disks if d.private and d.has_source)


def _disk(element: etree._Element) -> GuestDisk:
    driver = element.find("driver")
    source = element.find("source")
    target = element.find("target")
    path = ""
    pool = volume = ""
    if source is not None:
        path = source.get("file") or source.get("dev") or source.get("dir") or ""
        pool, volume = source.get("pool", ""), source.get("volume", "")
    return GuestDisk(
        target=target.get("dev", "") if target is not None else "",
        device=element.get("device", "disk"),
        type=element.get("type", "file"),
        format=driver.get("type", "") if driver is not None else "",
        path=os.path.normpath(path) if path else "",
        pool=pool,
        volume=volume,
        readonly=element.find("readonly") is not None,
        shareable=element.find("shareable") is not None,
    )


def parse_layout(xml: str) -> GuestLayout:
    root = etree.fromstring(xml.encode())
    loader = root.find("os/loader")
    firmware = root.find("os")
    efi = firmware is not None and firmware.get("firmware") == "efi"
    agent = False
    for channel in root.iterfind("devices/channel"):
        target = channel.find("target")
        if target is not None and target.get("name") == AGENT_CHANNEL:
            agent = target.get("state") == "connected"
    macs = tuple(
        mac.get("address", "")
        for mac in root.iterfind("devices/interface/mac")
        if mac.get("address")
    )
    return GuestLayout(
        name=(root.findtext("name") or "").strip(),
        uuid=(root.findtext("uuid") or "").strip(),
        disks=tuple(_disk(d) for d in root.iterfind("devices/disk")),
        pflash=efi or (loader is not None and loader.get("type") == "pflash"),
        nvram=(root.findtext("os/nvram") or "").strip(),
        agent_connected=agent,
        macs=macs,
    )
