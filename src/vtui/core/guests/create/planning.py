"""From answers to a checked plan: every problem is found before anything is created
(one line each, all of them at once), and every choice left open is made the way
the OS and the host want it, with a note saying so.

    plan = await plan_guest(host, answers)     # CreateRefused lists what is wrong
    print(domain_xml(plan), virt_install_line(plan))
    created = await create_guest(host, plan)
"""

from __future__ import annotations

import asyncio

from vtui.core.errors import VtuiError
from vtui.core.guests.create.answers import (
    BRIDGE,
    CLOUD_IMAGE,
    CUSTOM_CPU,
    MACVTAP,
    NO_NETWORK,
    VIRTUAL_NETWORK,
    GuestAnswers,
)
from vtui.core.guests.create.boot_plan import plan_boot
from vtui.core.guests.create.checks import answer_problems
from vtui.core.guests.create.choices import HostChoices, read_choices
from vtui.core.guests.create.cloud_init import read_key_file, seed_files
from vtui.core.guests.create.domain_caps import DomainCaps, domain_caps
from vtui.core.guests.create.draft import Draft
from vtui.core.guests.create.lookups import (
    name_taken,
    pool_volume_names,
)
from vtui.core.guests.create.models import device_models, is_q35, pick_machine
from vtui.core.guests.create.plan import (
    CreateRefused,
    GuestPlan,
    InterfacePlan,
)
from vtui.core.guests.create.storage_plan import plan_space, plan_storage
from vtui.core.guests.macs import mac_problem, macs_in_use, normal_mac, random_mac
from vtui.core.host import Host
from vtui.core.storage import get_pool
from vtui.core.units import size


async def plan_guest(
    host: Host, answers: GuestAnswers, choices: HostChoices | None = None
) -> GuestPlan:
    """Check the answers against the host and decide everything left open. Raises
    CreateRefused with every problem (one line each); nothing on the host changes."""
    choices = choices or await read_choices(host)
    problems = answer_problems(answers, choices)
    os_info = choices.os_db.find(answers.os)
    if os_info is None:
        problems.append(f"unknown OS {answers.os!r} ({choices.os_db.source})")
    if problems or os_info is None:
        raise CreateRefused(problems, host=host.name, guest=answers.name)
    draft = Draft(host, answers, choices, os_info)
    arch = answers.arch or choices.arch or "x86_64"
    domain_type = answers.domain_type or choices.best_domain_type(arch) or "kvm"
    machine = answers.machine or pick_machine(os_info, arch, choices.machines(arch))
    caps = None
    if choices.caps is not None and choices.domcaps is not None:
        try:
            caps = await domain_caps(host, arch, machine, domain_type)
        except VtuiError as exc:
            draft.problems.append(exc.message)
    await _lookups(draft)
    models = device_models(os_info, machine)
    draft.notes.append(models.reason)
    _platform_notes(draft, arch, domain_type, machine, caps)
    interface = await _interface(draft, models.net_model)
    await plan_storage(draft, models.disk_bus, models.cdrom_bus, caps)
    plan_space(draft)
    boot = plan_boot(draft)
    keys = await _keys(draft)
    if draft.problems:
        raise CreateRefused(draft.problems, host=host.name, guest=answers.name)
    guest = choices.guest_arch(arch)
    plan = GuestPlan(
        host=host.name,
        uri=host.uri,
        answers=answers,
        os=os_info,
        models=models,
        domain_type=domain_type,
        arch=arch,
        machine=machine,
        emulator=caps.emulator if caps else (guest.emulator if guest else ""),
        volumes=draft.volumes,
        disks=draft.disks,
        interface=interface,
        boot=boot.order,
        kernel=boot.kernel,
        initrd=boot.initrd,
        cmdline=boot.cmdline,
        install_cmdline=boot.install_cmdline,
        ssh_keys=keys,
        notes=draft.notes,
        warnings=draft.warnings,
    )
    if answers.source.kind == CLOUD_IMAGE:
        mac = interface.mac if interface else ""
        plan.seed = seed_files(answers.cloud_init, answers.name, keys, mac)
    return plan


async def _lookups(draft: Draft) -> None:
    """The name is free; the pools' volume names, for naming new volumes."""
    conn = draft.host.require_conn()
    answers = draft.answers
    pools = {answers.disk.pool or draft.choices.default_pool()}
    pools.add(answers.source.upload_pool or answers.disk.pool or draft.choices.default_pool())
    pools.discard("")

    def read() -> tuple[bool, dict[str, set[str]]]:
        return name_taken(conn, answers.name), {p: pool_volume_names(conn, p) for p in pools}

    taken, names = await draft.host.call(read)
    fresh = await asyncio.gather(*(get_pool(draft.host, p) for p in pools), return_exceptions=True)
    for pool in fresh:  # the free space now, not when the form was opened
        if not isinstance(pool, BaseException):
            draft.choices.pools = [pool if p.name == pool.name else p for p in draft.choices.pools]
    if taken:
        draft.problems.append(f"{draft.host.name} already has a guest called {answers.name!r}")
    draft.taken = names


def _platform_notes(
    draft: Draft, arch: str, domain_type: str, machine: str, caps: DomainCaps | None
) -> None:
    host, answers = draft.host.name, draft.answers
    if domain_type == "kvm":
        draft.notes.append("KVM: hardware-accelerated virtualisation")
    elif domain_type == "qemu" and arch == draft.choices.arch:
        why = "asked for" if answers.domain_type else f"KVM is not available on {host}"
        draft.notes.append(f"QEMU TCG emulation ({why}): the guest runs much slower than with KVM")
    if machine:
        why = f"{draft.os.name} supports it" if is_q35(machine) and draft.os.q35 else "classic PC"
        draft.notes.append(f"machine type {machine}" + ("" if answers.machine else f" ({why})"))
    if answers.firmware == "efi" and caps is not None and not caps.firmware.efi:
        draft.problems.append(f"{host} offers no UEFI firmware for machine type {machine}")
    if answers.cpu_mode == CUSTOM_CPU:
        draft.notes.append(f"CPU model {answers.cpu_model}")
    elif answers.cpu_mode:
        draft.notes.append(f"CPU {answers.cpu_mode}")
    os_info = draft.os
    if os_info.min_memory and answers.memory < os_info.min_memory:
        draft.warnings.append(f"{os_info.name} needs at least {size(os_info.min_memory)} of memory")


async def _interface(draft: Draft, model: str) -> InterfacePlan | None:
    net, choices = draft.answers.network, draft.choices
    if net.kind == NO_NETWORK:
        return None
    if net.kind == VIRTUAL_NETWORK:
        found = choices.network(net.source)
        if found is None:
            draft.problems.append(f"no virtual network called {net.source!r} on {choices.host}")
        elif not found.active and draft.answers.start:
            draft.problems.append(
                f"network {net.source!r} is not active: start it first (or do not start the guest)"
            )
    elif choices.interfaces:
        found_if = choices.interface(net.source)
        if found_if is None:
            draft.problems.append(f"{choices.host} has no network interface called {net.source!r}")
        elif net.kind == BRIDGE and found_if.kind not in ("bridge", ""):
            draft.problems.append(
                f"{net.source} is not a bridge ({found_if.kind}): use macvtap on it, or a bridge"
            )
    if net.kind == MACVTAP:
        draft.notes.append(
            f"macvtap on {net.source}: the guest cannot reach the host itself that way"
        )
    in_use = await macs_in_use(draft.host)
    if net.mac and not mac_problem(net.mac):
        mac = normal_mac(net.mac)
        if mac in in_use:
            draft.problems.append(f"MAC address {mac} is already used by a guest of {choices.host}")
    else:
        mac = random_mac(in_use)
    return InterfacePlan(net.kind, net.source, net.model or model, mac)


async def _keys(draft: Draft) -> list[str]:
    answer = draft.answers.cloud_init
    if draft.answers.source.kind != CLOUD_IMAGE:
        return []
    keys = [k.strip() for k in answer.ssh_keys if k.strip()]
    for path in answer.ssh_key_files:
        try:
            keys += await asyncio.to_thread(read_key_file, path)
        except ValueError as exc:
            draft.problems.append(str(exc))
    return list(dict.fromkeys(keys))
