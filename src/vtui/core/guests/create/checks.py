"""Checks of the answers that need no libvirt call: each problem is one line naming
the field and what is wrong. The form runs them as the user types; plan.py runs
them again, with the host's own lookups, before anything is created."""

from __future__ import annotations

import uuid as uuidlib
from urllib.parse import urlsplit

from vtui.core.guests.create.answers import (
    BIOS,
    CLOUD_IMAGE,
    CPU_MODES,
    CUSTOM_CPU,
    DISK_BUSES,
    DISK_FORMATS,
    DISK_MODES,
    EFI,
    EXISTING_DISK,
    GRAPHICS,
    IMPORT,
    ISO,
    KERNEL,
    NET_MODELS,
    NETWORK_KINDS,
    NEW_DISK,
    NO_NETWORK,
    PXE,
    SOURCE_KINDS,
    URL,
    GuestAnswers,
)
from vtui.core.guests.create.choices import HostChoices
from vtui.core.guests.create.cloud_init import network_problem, ssh_key_problem
from vtui.core.guests.macs import mac_problem
from vtui.core.units import size

# '/' cannot be in a file name (libvirt keeps <name>.xml); the others are what breaks
# tools that build XML or shell lines from strings.
FORBIDDEN_IN_NAMES = "<&'\"/"
MAX_NAME = 200


def name_problem(name: str) -> str:
    """Why `name` cannot be a guest's name ("" when it can): the form shows it as
    the user types."""
    if not name.strip():
        return "the guest needs a name"
    bad = [c for c in FORBIDDEN_IN_NAMES if c in name]
    if bad:
        return f"name {name!r} contains {' '.join(bad)}: a name cannot contain any of < & ' \" /"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return f"name {name!r} contains a control character"
    if name != name.strip():
        return f"name {name!r} starts or ends with a space"
    if len(name.encode()) > MAX_NAME:
        return f"name is longer than {MAX_NAME} bytes"
    if name in (".", ".."):
        return f"{name!r} cannot be a name"
    return ""


def resources_problems(answers: GuestAnswers, choices: HostChoices) -> list[str]:
    problems = []
    if answers.memory <= 0:
        problems.append("memory must be more than 0")
    elif choices.memory and answers.memory > choices.memory:
        problems.append(
            f"memory {size(answers.memory)} is more than {choices.host} has ({size(choices.memory)})"
        )
    if answers.vcpus < 1:
        problems.append("a guest needs at least 1 vCPU")
    elif choices.cpus and answers.vcpus > choices.cpus:
        problems.append(
            f"{answers.vcpus} vCPUs is more than {choices.host} has ({choices.cpus} CPUs)"
        )
    elif (
        choices.domcaps and choices.domcaps.max_vcpus and answers.vcpus > choices.domcaps.max_vcpus
    ):
        problems.append(f"{answers.vcpus} vCPUs is more than this machine type takes")
    return problems


def platform_problems(answers: GuestAnswers, choices: HostChoices) -> list[str]:
    """Arch, domain type, machine, firmware, CPU and graphics against what the host offers."""
    problems = []
    arches = choices.arches()
    if answers.arch and arches and answers.arch not in arches:
        problems.append(
            f"{choices.host} runs no {answers.arch} guests (it runs {', '.join(arches)})"
        )
    types = choices.domain_types(answers.arch)
    if answers.domain_type and types and answers.domain_type not in types:
        problems.append(
            f"domain type {answers.domain_type} is not available on {choices.host} "
            f"(available: {', '.join(types)})"
        )
    machines = choices.machines(answers.arch)
    if answers.machine and machines and answers.machine not in machines:
        problems.append(f"{choices.host} has no machine type {answers.machine!r}")
    caps = choices.domcaps
    if answers.firmware not in (BIOS, EFI):
        problems.append(f"firmware must be bios or efi, not {answers.firmware!r}")
    elif answers.firmware == EFI and caps is not None and not caps.firmware.efi:
        problems.append(f"{choices.host} offers no UEFI firmware (install OVMF there)")
    if answers.secure_boot and answers.firmware != EFI:
        problems.append("Secure Boot needs UEFI firmware")
    elif answers.secure_boot and caps is not None and not caps.firmware.secure_boot:
        problems.append(f"{choices.host} offers no Secure Boot capable firmware")
    if answers.cpu_mode not in CPU_MODES:
        problems.append(f"unknown CPU mode {answers.cpu_mode!r}")
    elif answers.cpu_mode and caps is not None and answers.cpu_mode not in caps.cpu_modes:
        problems.append(f"CPU mode {answers.cpu_mode} is not supported here ({caps.domain_type})")
    if answers.cpu_mode == CUSTOM_CPU:
        if not answers.cpu_model:
            problems.append("a custom CPU needs a model name")
        elif caps is not None and caps.cpu_models and answers.cpu_model not in caps.cpu_models:
            problems.append(f"CPU model {answers.cpu_model!r} cannot run on {choices.host}")
    if answers.graphics not in GRAPHICS:
        problems.append(f"graphics must be one of {', '.join(GRAPHICS)}")
    elif answers.graphics != "none" and caps is not None and answers.graphics not in caps.graphics:
        problems.append(f"{choices.host} offers no {answers.graphics} graphics")
    if answers.uuid:
        try:
            uuidlib.UUID(answers.uuid)
        except ValueError:
            problems.append(f"UUID {answers.uuid!r} is not a UUID")
    return problems


def source_problems(answers: GuestAnswers) -> list[str]:
    source, problems = answers.source, []
    if source.kind not in SOURCE_KINDS:
        return [f"unknown install source {source.kind!r} (one of {', '.join(SOURCE_KINDS)})"]
    if source.kind in (CLOUD_IMAGE, ISO) and not (source.volume or source.local_file):
        what = "cloud image" if source.kind == CLOUD_IMAGE else "ISO"
        problems.append(f"say which {what}: a volume, a path on the host or a local file")
    if source.kind in (CLOUD_IMAGE, ISO) and source.volume and source.local_file:
        problems.append("give either a volume/path on the host or a local file, not both")
    if source.kind == IMPORT and not source.volume:
        problems.append("say which disk image to import: a volume or a path on the host")
    if source.kind == URL:
        parts = urlsplit(source.url.strip())
        if parts.scheme not in ("http", "https", "ftp") or not parts.netloc:
            problems.append(f"install tree {source.url!r} is not an http, https or ftp URL")
    if source.kind == KERNEL and not source.kernel:
        problems.append("direct kernel boot needs the kernel's path on the host")
    if source.kind == PXE and answers.network.kind == NO_NETWORK:
        problems.append("PXE boot needs a network interface")
    if source.kind == CLOUD_IMAGE and answers.disk.mode != NEW_DISK:
        problems.append("a cloud image needs a new disk (an overlay on the image)")
    return problems


def device_problems(answers: GuestAnswers) -> list[str]:
    disk, net, problems = answers.disk, answers.network, []
    if disk.mode not in DISK_MODES:
        problems.append(f"unknown disk choice {disk.mode!r}")
    if disk.mode == NEW_DISK:
        if disk.size <= 0:
            problems.append("the new disk's size must be more than 0")
        if disk.format not in DISK_FORMATS:
            problems.append(f"disk format must be one of {', '.join(DISK_FORMATS)}")
    if disk.mode == EXISTING_DISK and not disk.volume and answers.source.kind != IMPORT:
        problems.append("say which existing volume is the disk")
    if disk.bus and disk.bus not in DISK_BUSES:
        problems.append(f"disk bus must be one of {', '.join(DISK_BUSES)}")
    if net.kind not in NETWORK_KINDS:
        problems.append(f"unknown network choice {net.kind!r}")
    elif net.kind != NO_NETWORK:
        if not net.source:
            problems.append(f"say which {'host interface' if net.kind == 'macvtap' else net.kind}")
        if net.model and net.model not in NET_MODELS:
            problems.append(f"network model must be one of {', '.join(NET_MODELS)}")
        if net.mac and mac_problem(net.mac):
            problems.append(mac_problem(net.mac))
    return problems


def cloud_init_problems(answers: GuestAnswers) -> list[str]:
    if answers.source.kind != CLOUD_IMAGE:
        return []
    ci, problems = answers.cloud_init, []
    for key in ci.ssh_keys:
        problem = ssh_key_problem(key)
        if problem:
            problems.append(problem)
    if ci.password and not ci.user:
        problems.append(
            "a password needs a user name (cloud images name their default user differently)"
        )
    if ci.user and (any(c in ci.user for c in ":/ \t") or ci.user.startswith("-")):
        problems.append(f"user name {ci.user!r} is not a valid login name")
    if ci.hostname and name_problem(ci.hostname):
        problems.append(f"host name: {name_problem(ci.hostname)}")
    network = network_problem(ci)
    if network:
        problems.append(network)
    if ci.static_address and answers.network.kind == NO_NETWORK:
        problems.append("a static address needs a network interface")
    return problems


def answer_problems(answers: GuestAnswers, choices: HostChoices) -> list[str]:
    """Every problem found without asking the host anything."""
    if choices.readonly:
        return [f"cannot create a guest: the connection to {choices.host} is read-only"]
    name = name_problem(answers.name)
    return (
        ([name] if name else [])
        + resources_problems(answers, choices)
        + platform_problems(answers, choices)
        + source_problems(answers)
        + device_problems(answers)
        + cloud_init_problems(answers)
    )
