"""Which device models a new guest gets from its OS, and why (one line).

virtio devices are the fastest but need drivers in the guest; an OS without them
gets emulated hardware every OS of its age drives (SATA or IDE disks, e1000(e)
network, VGA). The machine type follows: q35 (PCIe, SATA) where the OS supports it,
else the classic i440fx PC (IDE)."""

from __future__ import annotations

from dataclasses import dataclass

from vtui.core.guests.create.osinfo import OsInfo


@dataclass(frozen=True, slots=True)
class DeviceModels:
    disk_bus: str
    cdrom_bus: str
    net_model: str
    video: str  # when there is a display
    rng: bool  # a virtio RNG the guest can use
    agent_channel: bool  # a virtio-serial channel for the guest agent
    balloon: str  # memory balloon model ("none" without virtio)
    reason: str  # one line: why these


def is_q35(machine: str) -> bool:
    return "q35" in machine


def pick_machine(os: OsInfo, arch: str, machines: list[str]) -> str:
    """The machine type for an OS among the host's ("" lets libvirt choose)."""
    if arch not in ("x86_64", "i686"):
        return ""
    if os.q35 and "q35" in machines:
        return "q35"
    if "pc" in machines:
        return "pc"
    return ""


def device_models(os: OsInfo, machine: str) -> DeviceModels:
    q35 = is_q35(machine)
    cdrom_bus = "sata" if q35 else "ide"
    if os.virtio_disk and os.virtio_net:
        reason = f"{os.name} has virtio drivers: virtio disk and network (the fastest)"
        disk_bus, net_model = "virtio", "virtio"
    elif q35 and os.e1000e:
        reason = (
            f"{os.name} has no virtio drivers of its own: SATA disk and e1000e network "
            "(add virtio drivers in the guest to switch)"
        )
        disk_bus, net_model = "sata", "e1000e"
    else:
        reason = (
            f"{os.name}: emulated {cdrom_bus.upper()} disk and e1000 network (any OS drives them)"
        )
        disk_bus, net_model = cdrom_bus, "e1000"
    return DeviceModels(
        disk_bus=disk_bus,
        cdrom_bus=cdrom_bus,
        net_model=net_model,
        video="virtio" if os.virtio_gpu else "vga",
        rng=os.virtio_rng,
        agent_channel=os.virtio_serial,
        balloon="virtio" if os.virtio_disk else "none",
        reason=reason,
    )
