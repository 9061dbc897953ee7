"""A guest's configuration: read (every section of its domain XML, tolerantly, and
its runtime: addresses, guest agent, disk sizes) and changed (each change planned
first: candidate XML, diff, virsh equivalent, libvirt calls per scope; then applied
all-or-nothing, and read back to tell what waits for a restart)."""

from vtui.core.guests.config.addresses import parse_guest_info, read_addresses, read_agent_info
from vtui.core.guests.config.apply import Applied, apply
from vtui.core.guests.config.device_xml import ADDABLE, Answer, DeviceKind
from vtui.core.guests.config.edits_devices import (
    plan_add_device,
    plan_attach_hostdev,
    plan_detach_hostdev,
    plan_remove_device,
)
from vtui.core.guests.config.edits_disks import (
    NewDisk,
    plan_add_disk,
    plan_change_media,
    plan_disk_properties,
    plan_remove_disk,
    plan_resize_disk,
)
from vtui.core.guests.config.edits_general import plan_memory, plan_metadata, plan_vcpus
from vtui.core.guests.config.edits_nics import (
    plan_add_nic,
    plan_link,
    plan_nic_properties,
    plan_remove_nic,
)
from vtui.core.guests.config.model import (
    Addresses,
    AgentInfo,
    BlockSize,
    BootView,
    CpuView,
    DeviceView,
    DiskView,
    DomainView,
    GuestAddress,
    GuestConfig,
    GuestFilesystem,
    HostDevView,
    MemoryView,
    NicView,
    PendingChange,
)
from vtui.core.guests.config.parse import parse_domain, parse_root
from vtui.core.guests.config.plan import BadInput, Plan, Scope
from vtui.core.guests.config.read import read_config
from vtui.core.guests.config.storage_links import VolumeRef, volume_of
from vtui.core.guests.config.whole import BOOT_DEVICES, plan_boot, plan_full_xml
from vtui.core.guests.config.words import human_bytes, human_kib
from vtui.core.guests.devices import (
    CACHE_MODES,
    DISK_BUSES,
    MACVTAP_MODES,
    NIC_KINDS,
    NIC_MODELS,
    BadAnswer,
)

__all__ = [
    "ADDABLE",
    "BOOT_DEVICES",
    "CACHE_MODES",
    "DISK_BUSES",
    "MACVTAP_MODES",
    "NIC_KINDS",
    "NIC_MODELS",
    "Addresses",
    "AgentInfo",
    "Answer",
    "Applied",
    "BadAnswer",
    "BadInput",
    "BlockSize",
    "BootView",
    "CpuView",
    "DeviceKind",
    "DeviceView",
    "DiskView",
    "DomainView",
    "GuestAddress",
    "GuestConfig",
    "GuestFilesystem",
    "HostDevView",
    "MemoryView",
    "NewDisk",
    "NicView",
    "PendingChange",
    "Plan",
    "Scope",
    "VolumeRef",
    "apply",
    "human_bytes",
    "human_kib",
    "parse_domain",
    "parse_guest_info",
    "parse_root",
    "plan_add_device",
    "plan_add_disk",
    "plan_add_nic",
    "plan_attach_hostdev",
    "plan_boot",
    "plan_change_media",
    "plan_detach_hostdev",
    "plan_disk_properties",
    "plan_full_xml",
    "plan_link",
    "plan_memory",
    "plan_metadata",
    "plan_nic_properties",
    "plan_remove_device",
    "plan_remove_disk",
    "plan_remove_nic",
    "plan_resize_disk",
    "plan_vcpus",
    "read_addresses",
    "read_agent_info",
    "read_config",
    "volume_of",
]
