"""Creating guests: answers -> a checked plan -> the domain XML (and the equivalent
virt-install line) -> volumes, definition and start, undone exactly on failure.

    choices = await read_choices(host)          # what the host offers, for a form
    plan = await plan_guest(host, answers)      # CreateRefused: every problem, one line each
    print(domain_xml(plan), virt_install_line(plan))
    created = await create_guest(host, plan, progress=...)

The device element builders (devices.py) are shared with configuring existing guests.
"""

from vtui.core.guests.create.answers import (
    BIOS,
    BRIDGE,
    CLOUD_IMAGE,
    CPU_MODES,
    CUSTOM_CPU,
    DISK_BUSES,
    DISK_FORMATS,
    DISK_MODES,
    EFI,
    EXISTING_DISK,
    GRAPHICS,
    HOST_MODEL,
    HOST_PASSTHROUGH,
    IMPORT,
    ISO,
    KERNEL,
    MACVTAP,
    NET_MODELS,
    NETWORK_KINDS,
    NEW_DISK,
    NO_DISK,
    NO_NETWORK,
    PXE,
    SOURCE_KINDS,
    SOURCE_LABELS,
    URL,
    VIRTUAL_NETWORK,
    CloudInitAnswer,
    DiskAnswer,
    GuestAnswers,
    NetworkAnswer,
    SourceAnswer,
)
from vtui.core.guests.create.checks import answer_problems, name_problem
from vtui.core.guests.create.choices import HostChoices, HostInterface, read_choices
from vtui.core.guests.create.cloud_init import (
    SeedFiles,
    local_public_keys,
    read_key_file,
    ssh_key_problem,
)
from vtui.core.guests.create.creation import Created, Progress, create_guest
from vtui.core.guests.create.domain_caps import DomainCaps, domain_caps
from vtui.core.guests.create.domain_xml import build_domain, domain_xml, install_xml
from vtui.core.guests.create.ledger import Made
from vtui.core.guests.create.models import DeviceModels, device_models
from vtui.core.guests.create.osinfo import BUILTIN, DEFAULT_OS, OsDatabase, OsInfo, load_os_database
from vtui.core.guests.create.passwords import sha512_crypt
from vtui.core.guests.create.plan import CreateRefused, DiskDevice, GuestPlan, NewVolume
from vtui.core.guests.create.planning import plan_guest
from vtui.core.guests.create.seed_iso import read_seed_iso, seed_iso
from vtui.core.guests.create.virt_install import virt_install_args, virt_install_line
from vtui.core.guests.macs import mac_problem, random_mac

__all__ = [
    "BIOS",
    "BRIDGE",
    "BUILTIN",
    "CLOUD_IMAGE",
    "CPU_MODES",
    "CUSTOM_CPU",
    "DEFAULT_OS",
    "DISK_BUSES",
    "DISK_FORMATS",
    "DISK_MODES",
    "EFI",
    "EXISTING_DISK",
    "GRAPHICS",
    "HOST_MODEL",
    "HOST_PASSTHROUGH",
    "IMPORT",
    "ISO",
    "KERNEL",
    "MACVTAP",
    "NET_MODELS",
    "NETWORK_KINDS",
    "NEW_DISK",
    "NO_DISK",
    "NO_NETWORK",
    "PXE",
    "SOURCE_KINDS",
    "SOURCE_LABELS",
    "URL",
    "VIRTUAL_NETWORK",
    "CloudInitAnswer",
    "CreateRefused",
    "Created",
    "DeviceModels",
    "DiskAnswer",
    "DiskDevice",
    "DomainCaps",
    "GuestAnswers",
    "GuestPlan",
    "HostChoices",
    "HostInterface",
    "Made",
    "NetworkAnswer",
    "NewVolume",
    "OsDatabase",
    "OsInfo",
    "Progress",
    "SeedFiles",
    "SourceAnswer",
    "answer_problems",
    "build_domain",
    "create_guest",
    "device_models",
    "domain_caps",
    "domain_xml",
    "install_xml",
    "load_os_database",
    "local_public_keys",
    "mac_problem",
    "name_problem",
    "plan_guest",
    "random_mac",
    "read_choices",
    "read_key_file",
    "read_seed_iso",
    "seed_iso",
    "sha512_crypt",
    "ssh_key_problem",
    "virt_install_args",
    "virt_install_line",
]
