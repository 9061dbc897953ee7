"""One libvirt host: its connection and link keeping, facts, sampler, events, uptime;
and what it has: capabilities and NUMA cells (caps.py), KSM, node devices.

Each name below is loaded from its module on first use (vtui.core.lazy): listing a
host's guests needs neither its capabilities nor its devices. (A submodule never shares
a name with one of these: `capabilities` is a function here, its module is caps.py.)"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vtui.core.lazy import LazyExports

if TYPE_CHECKING:
    from vtui.core.host.caps import (
        Firmware,
        GuestArch,
        HostCapabilities,
        MachineType,
        capabilities,
        firmware,
        numa_cells,
    )
    from vtui.core.host.connection import CONNECT_TIMEOUT, Host
    from vtui.core.host.devices import HostDevice, detach_device, list_devices, reattach_device
    from vtui.core.host.ksm import KsmStatus, ksm_status, set_ksm_tunables
    from vtui.core.host.state import Change, HostStatus, Tunnel

_EXPORTS = LazyExports(
    __name__,
    {
        "caps": (
            "Firmware",
            "GuestArch",
            "HostCapabilities",
            "MachineType",
            "capabilities",
            "firmware",
            "numa_cells",
        ),
        "connection": ("CONNECT_TIMEOUT", "Host"),
        "devices": ("HostDevice", "detach_device", "list_devices", "reattach_device"),
        "ksm": ("KsmStatus", "ksm_status", "set_ksm_tunables"),
        "state": ("Change", "HostStatus", "Tunnel"),
    },
)

__all__ = [
    "CONNECT_TIMEOUT",
    "Change",
    "Firmware",
    "GuestArch",
    "Host",
    "HostCapabilities",
    "HostDevice",
    "HostStatus",
    "KsmStatus",
    "MachineType",
    "Tunnel",
    "capabilities",
    "detach_device",
    "firmware",
    "ksm_status",
    "list_devices",
    "numa_cells",
    "reattach_device",
    "set_ksm_tunables",
]


def __getattr__(name: str) -> Any:
    return _EXPORTS.load(name)
