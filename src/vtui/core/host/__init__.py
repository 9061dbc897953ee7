"""One libvirt host: its connection and link keeping, facts, sampler, events, uptime;
and what it has: capabilities and NUMA cells, KSM, node devices."""

from vtui.core.host.capabilities import (
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
