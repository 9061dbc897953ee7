"""From answers to a checked plan: every problem is found before anything is created
(one line each, all of them at once), and every choice left open is made the way
the OS and the host want it, with a note saying so.

    plan = await plan_guest(host, answers)     # CreateRefused lists what is wrong
    print(domain_xml(plan), virt_install_line(plan))
    created = await create_guest(host, plan)
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from urllib.parse import urljoin

from vtui.core.errors import VtuiError
from vtui.core.guests.create.answers import (
    BRIDGE,
    CLOUD_IMAGE,
    CUSTOM_CPU,
    EXISTING_DISK,
    IMPORT,
    ISO,
    KERNEL,
    MACVTAP,
    NEW_DISK,
    NO_NETWORK,
    PXE,
    URL,
    VIRTUAL_NETWORK,
    GuestAnswers,
)
from vtui.core.guests.create.checks import answer_problems
from vtui.core.guests.create.choices import HostChoices, read_choices
from vtui.core.guests.create.cloud_init import read_key_file, seed_files
from vtui.core.guests.create.devices import next_target
from vtui.core.guests.create.domain_caps import DomainCaps, domain_caps
from vtui.core.guests.create.lookups import (
    ExistingVolume,
    NotFound,
    existing_volume,
    host_is_local,
    local_image,
    name_taken,
    pool_volume_names,
    unique_volume_name,
)
from vtui.core.guests.create.macs import mac_problem, macs_in_use, normal_mac, random_mac
from vtui.core.guests.create.models import device_models, is_q35, pick_machine
from vtui.core.guests.create.osinfo import OsInfo
from vtui.core.guests.create.plan import (
    DISK,
    IMAGE,
    INITRD_FILE,
    KERNEL_FILE,
    SEED,
    CreateRefused,
    DiskDevice,
    GuestPlan,
    InterfacePlan,
    NewVolume,
)
from vtui.core.host import Host
from vtui.core.storage import get_pool, get_volume
from vtui.core.units import size

FILE_POOLS = ("dir", "fs", "netfs")
BLOCK_POOLS = ("logical", "disk")
SEED_ROOM = 1024 * 1024  # what a seed image takes, generously


class _Draft:
    """The plan being assembled, with the problems found on the way."""

    def __init__(self, host: Host, answers: GuestAnswers, choices: HostChoices, os: OsInfo):
        self.host, self.answers, self.choices, self.os = host, answers, choices, os
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.warnings: list[str] = []
        self.volumes: list[NewVolume] = []
        self.disks: list[DiskDevice] = []
        self.taken: dict[str, set[str]] = {}  # volume names per pool

    def targets(self) -> list[str]:
        return [d.target for d in self.disks]

    def new_volume(self, role: str, pool: str, wanted: str, **fields) -> NewVolume | None:
        info = self.choices.pool(pool)
        if info is None:
            self.problems.append(f"no storage pool called {pool!r}")
            return None
        if not info.active:
            self.problems.append(f"pool {pool!r} is not active (start it first)")
            return None
        if info.type not in FILE_POOLS + BLOCK_POOLS:
            self.problems.append(
                f"vtui makes volumes in dir, fs, netfs and logical pools, not {info.type} ({pool})"
            )
            return None
        name = unique_volume_name(wanted, self.taken.setdefault(pool, set()))
        self.taken[pool].add(name)
        path = f"{info.target_path.rstrip('/')}/{name}" if info.target_path else ""
        volume = NewVolume(role=role, pool=pool, name=name, path=path, **fields)
        if info.type in BLOCK_POOLS:
            volume.format = ""
            volume.needed_now = max(volume.needed_now, volume.capacity)
        self.volumes.append(volume)
        return volume

    def block_pool(self, pool: str) -> bool:
        info = self.choices.pool(pool)
        return info is not None and info.type in BLOCK_POOLS


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
    draft = _Draft(host, answers, choices, os_info)
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
    await _storage(draft, models.disk_bus, models.cdrom_bus, caps)
    _space(draft)
    boot = _boot(draft)
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


async def _lookups(draft: _Draft) -> None:
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


async def _existing(draft: _Draft, ref: str, what: str, writable: bool) -> ExistingVolume | None:
    conn, local = draft.host.require_conn(), host_is_local(draft.host)
    try:
        found = await draft.host.call(existing_volume, conn, ref, local)
    except NotFound as exc:
        draft.problems.append(f"{what}: {exc}")
        return None
    if not found.pool and not local:
        draft.warnings.append(
            f"{what} {ref} is in no storage pool of remote {draft.host.name}: not checked"
        )
    if writable and found.pool:
        users = (await get_volume(draft.host, found.pool, found.name)).users
        if users:
            guests = ", ".join(u.describe() for u in users)
            draft.problems.append(f"{what} {found.label} is in use by {guests}")
    return found


def _platform_notes(
    draft: _Draft, arch: str, domain_type: str, machine: str, caps: DomainCaps | None
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


async def _interface(draft: _Draft, model: str) -> InterfacePlan | None:
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


def _disk_target(draft: _Draft, _device: str, bus: str) -> str:
    return next_target(bus, draft.targets())


async def _storage(draft: _Draft, disk_bus: str, cdrom_bus: str, caps: DomainCaps | None) -> None:
    """The main disk, the install medium, the uploads and the seed."""
    answers, choices = draft.answers, draft.choices
    source, disk = answers.source, answers.disk
    bus = disk.bus or disk_bus
    if caps is not None and caps.disk_buses and bus not in caps.disk_buses:
        draft.problems.append(f"{choices.host} offers no {bus} disk bus")
    disk_pool = disk.pool or choices.default_pool()
    upload_pool = source.upload_pool or disk_pool
    main_format = disk.format
    base: ExistingVolume | NewVolume | None = None
    if source.kind in (CLOUD_IMAGE, ISO):
        what = "cloud image" if source.kind == CLOUD_IMAGE else "ISO"
        base = await _medium(draft, source.volume, source.local_file, upload_pool, what)
    if source.kind == CLOUD_IMAGE:
        if base is not None and isinstance(base, ExistingVolume) and not base.pool:
            draft.problems.append(
                "the cloud image must be a volume in a storage pool, or a local file"
            )
        if draft.block_pool(disk_pool):
            draft.problems.append(
                f"a cloud image overlay needs a file pool (dir, fs, netfs), not {disk_pool}"
            )
        if base is not None:
            capacity = max(disk.size, base.capacity)
            if base.capacity > disk.size:
                draft.notes.append(f"the disk is as big as the image: {size(base.capacity)}")
            base_format = base.format or "qcow2"
            overlay = draft.new_volume(
                DISK, disk_pool, f"{answers.name}.qcow2", capacity=capacity, format="qcow2",
                backing=base.path, backing_format=base_format,
            )  # fmt: skip
            if overlay is not None:
                draft.disks.append(
                    DiskDevice(
                        "disk",
                        bus,
                        _disk_target(draft, "disk", bus),
                        "qcow2",
                        overlay.path,
                        volume_role=DISK,
                    )
                )
                draft.notes.append(
                    f"disk {overlay.label}: a {size(capacity)} qcow2 overlay on {base.path or base.label}"
                )
        seed = draft.new_volume(
            SEED,
            upload_pool,
            f"{answers.name}-cidata.iso",
            capacity=SEED_ROOM,
            format="raw",
            needed_now=SEED_ROOM,
        )
        if seed is not None:
            draft.disks.append(
                DiskDevice(
                    "cdrom",
                    cdrom_bus,
                    _disk_target(draft, "cdrom", cdrom_bus),
                    "raw",
                    seed.path,
                    volume_role=SEED,
                )
            )
            draft.notes.append(f"cloud-init seed {seed.label} (label cidata) as a CD-ROM")
        return
    if source.kind == IMPORT:
        found = await _existing(draft, source.volume, "disk image", writable=True)
        if found is not None:
            fmt = found.format if found.format in ("qcow2", "raw") else _guess_format(draft, found)
            draft.disks.append(
                DiskDevice(
                    "disk",
                    bus,
                    _disk_target(draft, "disk", bus),
                    fmt,
                    found.path,
                    found.source_type,
                )
            )
            draft.notes.append(f"disk: {found.label} as it is ({fmt})")
    elif disk.mode == NEW_DISK:
        ext = "qcow2" if main_format == "qcow2" else "img"
        needed = disk.size if main_format == "raw" else 0
        made = draft.new_volume(
            DISK,
            disk_pool,
            f"{answers.name}.{ext}",
            capacity=disk.size,
            format=main_format,
            needed_now=needed,
        )
        if made is not None:
            fmt = made.format or "raw"
            kind = "block" if draft.block_pool(disk_pool) else "file"
            draft.disks.append(
                DiskDevice(
                    "disk",
                    bus,
                    _disk_target(draft, "disk", bus),
                    fmt,
                    made.path,
                    kind,
                    volume_role=DISK,
                )
            )
            thin = (
                "thin: it takes space as the guest writes" if fmt == "qcow2" else "fully allocated"
            )
            draft.notes.append(
                f"disk {made.label}: new {size(disk.size)} {fmt} volume, {bus} ({thin})"
            )
            if draft.os.min_disk and disk.size < draft.os.min_disk:
                draft.warnings.append(
                    f"{draft.os.name} needs a disk of at least {size(draft.os.min_disk)}"
                )
    elif disk.mode == EXISTING_DISK:
        found = await _existing(draft, disk.volume, "disk", writable=True)
        if found is not None:
            fmt = found.format if found.format in ("qcow2", "raw") else _guess_format(draft, found)
            draft.disks.append(
                DiskDevice(
                    "disk",
                    bus,
                    _disk_target(draft, "disk", bus),
                    fmt,
                    found.path,
                    found.source_type,
                )
            )
    if source.kind == ISO and base is not None:
        role = IMAGE if isinstance(base, NewVolume) else ""
        draft.disks.append(
            DiskDevice(
                "cdrom",
                cdrom_bus,
                _disk_target(draft, "cdrom", cdrom_bus),
                "raw",
                base.path,
                volume_role=role,
            )
        )


def _guess_format(draft: _Draft, found: ExistingVolume) -> str:
    """A file outside every pool on a local host: its header says; else raw."""
    if host_is_local(draft.host) and found.source_type == "file":
        try:
            return local_image(found.path).format
        except NotFound:
            pass
    return "raw"


async def _medium(
    draft: _Draft, ref: str, local_file: str, pool: str, what: str
) -> ExistingVolume | NewVolume | None:
    """The cloud image or ISO: an existing volume or path, or a local file to upload."""
    if ref:
        return await _existing(draft, ref, what, writable=False)
    try:
        image = await asyncio.to_thread(local_image, local_file)
    except NotFound as exc:
        draft.problems.append(f"{what}: {exc}")
        return None
    needed = image.allocated
    made = draft.new_volume(
        IMAGE, pool, os.path.basename(local_file), capacity=image.capacity,
        format=image.format, needed_now=needed, local_file=os.path.expanduser(local_file),
    )  # fmt: skip
    if made is not None:
        draft.notes.append(f"{what}: {local_file} is uploaded to {made.label} ({size(image.size)})")
    return made


def _space(draft: _Draft) -> None:
    """Refuse what cannot be written now; warn when thin disks could outgrow the pool."""
    for pool_name in sorted({v.pool for v in draft.volumes}):
        pool = draft.choices.pool(pool_name)
        if pool is None or pool.available is None:
            continue
        mine = [v for v in draft.volumes if v.pool == pool_name]
        now = sum(v.needed_now for v in mine)
        full = sum(max(v.capacity, v.needed_now) for v in mine)
        if now > pool.available:
            draft.problems.append(
                f"pool {pool_name!r} has {size(pool.available)} free but the new volumes need {size(now)} now"
            )
        elif full > pool.available:
            draft.warnings.append(
                f"pool {pool_name!r} has {size(pool.available)} free: less than the disks' full size ({size(full)})"
            )


@dataclass(slots=True)
class _Boot:
    order: list[str] = field(default_factory=lambda: ["hd"])
    kernel: str = ""
    initrd: str = ""
    cmdline: str = ""
    install_cmdline: str = ""


def _boot(draft: _Draft) -> _Boot:
    """How the guest boots: os/boot order, or a kernel (kept, or for the installer only)."""
    answers, source = draft.answers, draft.answers.source
    has_disk = any(d.device == "disk" for d in draft.disks)
    boot = _Boot()
    if source.kind == ISO:
        new_disk = answers.disk.mode == NEW_DISK
        boot.order = ["hd", "cdrom"] if new_disk else ["cdrom", "hd"] if has_disk else ["cdrom"]
        if new_disk:
            draft.notes.append(
                "boots its disk first: the new disk is empty, so the CD-ROM starts the installer; once installed, the disk boots"
            )
    elif source.kind == PXE:
        boot.order = ["network", "hd"] if has_disk else ["network"]
        draft.notes.append("boots from the network (PXE), then its disk")
    elif source.kind == KERNEL:
        for ref, what in ((source.kernel, "kernel"), (source.initrd, "initrd")):
            if ref and not ref.startswith("/"):
                draft.problems.append(f"the {what} must be an absolute path on the host")
        boot.kernel, boot.initrd, boot.cmdline = source.kernel, source.initrd, source.cmdline
        draft.notes.append(f"boots the kernel {source.kernel} directly")
    elif source.kind == URL:
        _tree(draft)
        boot.install_cmdline = _with_console(source.cmdline, answers.graphics)
    return boot


def _tree(draft: _Draft) -> None:
    """The install tree's kernel and initrd: downloaded here, uploaded for one boot."""
    source, answers = draft.answers.source, draft.answers
    tree = draft.os.tree_for(answers.arch or draft.choices.arch or "x86_64")
    kernel = source.kernel or (tree.kernel if tree else "")
    initrd = source.initrd or (tree.initrd if tree else "")
    base = source.url.rstrip("/") + "/"
    pool = source.upload_pool or answers.disk.pool or draft.choices.default_pool()
    for role, path, suffix in ((KERNEL_FILE, kernel, "vmlinuz"), (INITRD_FILE, initrd, "initrd")):
        url = urljoin(base, path.lstrip("/")) if path else ""
        draft.new_volume(
            role,
            pool,
            f"{answers.name}-install-{suffix}",
            capacity=0,
            format="raw",
            url=url,
            temporary=True,
        )
    where = "from the tree's .treeinfo" if not (kernel and initrd) else f"{kernel}, {initrd}"
    draft.notes.append(
        f"installs from {source.url}: its kernel and initrd ({where}) are downloaded here, "
        "uploaded for the installer's first boot and deleted once it has started"
    )


def _with_console(cmdline: str, graphics: str) -> str:
    if graphics == "none" and "console=" not in cmdline:
        return f"{cmdline} console=ttyS0".strip()
    return cmdline.strip()


async def _keys(draft: _Draft) -> list[str]:
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
