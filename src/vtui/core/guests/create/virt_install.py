"""The virt-install command line that makes the same guest, shell-quoted: for the
review, for the user's notes, or to do it again without vtui. Volumes vtui makes
itself (uploads, the cloud-init seed) appear as the disks they become."""

from __future__ import annotations

import shlex

from vtui.core.guests.create.answers import CUSTOM_CPU, EFI
from vtui.core.guests.create.plan import DISK, INITRD_FILE, KERNEL_FILE, GuestPlan


def _gib(value: int) -> str:
    text = f"{value / 1024**3:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def _options(pairs: list[tuple[str, str]]) -> str:
    # virt-install's own sub-option syntax: key=value,key=value (values with commas
    # are escaped by doubling them)
    return ",".join(f"{k}={v.replace(',', ',,')}" if v != "" else k for k, v in pairs)


def _disks(plan: GuestPlan) -> list[str]:
    args = []
    for disk in plan.disks:
        pairs = [("path", disk.path)]
        volume = plan.volume(disk.volume_role) if disk.volume_role else None
        if disk.device == "cdrom":
            pairs.append(("device", "cdrom"))
        elif volume is not None and volume.role == DISK:
            pairs.append(("size", _gib(volume.capacity)))
            if volume.backing:
                pairs += [
                    ("backing_store", volume.backing),
                    ("backing_format", volume.backing_format),
                ]
            if volume.format:
                pairs.append(("format", volume.format))
            if volume.format == "raw":
                pairs.append(("sparse", "no"))
        else:
            pairs.append(("format", disk.format))
        pairs.append(("bus", disk.bus))
        args += ["--disk", _options(pairs)]
    return args


def _boot(plan: GuestPlan) -> list[str]:
    answers = plan.answers
    if plan.installs_from_tree:
        args = ["--location", answers.source.url]
        kernel, initrd = plan.volume(KERNEL_FILE), plan.volume(INITRD_FILE)
        if kernel and initrd and kernel.url and initrd.url:
            base = answers.source.url.rstrip("/") + "/"
            pairs = [
                ("kernel", kernel.url.removeprefix(base)),
                ("initrd", initrd.url.removeprefix(base)),
            ]
            args[-1] = _options([(answers.source.url, ""), *pairs])
        if plan.install_cmdline:
            args += ["--extra-args", plan.install_cmdline]
        return args
    boot: list[tuple[str, str]] = []
    if answers.firmware == EFI:
        boot.append(("uefi", ""))
        if answers.secure_boot:
            boot += [
                ("firmware.feature0.name", "secure-boot"),
                ("firmware.feature0.enabled", "yes"),
            ]
    if plan.kernel:
        boot.append(("kernel", plan.kernel))
        if plan.initrd:
            boot.append(("initrd", plan.initrd))
        if plan.cmdline:
            boot.append(("kernel_args", plan.cmdline))
    else:
        boot.append((",".join(plan.boot), ""))
    return ["--boot", _options(boot)]


def virt_install_args(plan: GuestPlan) -> list[str]:
    answers = plan.answers
    args = ["virt-install", "--connect", plan.uri, "--name", answers.name]
    if answers.uuid:
        args += ["--uuid", answers.uuid]
    if answers.title:
        args += ["--metadata", _options([("title", answers.title)])]
    if answers.description:
        args += ["--description", answers.description]
    args += ["--memory", str(answers.memory // 1024**2), "--vcpus", str(answers.vcpus)]
    if answers.cpu_mode == CUSTOM_CPU:
        args += ["--cpu", answers.cpu_model]
    elif answers.cpu_mode:
        args += ["--cpu", answers.cpu_mode]
    args += ["--osinfo", plan.os.variant or "generic"]
    args += ["--virt-type", plan.domain_type, "--arch", plan.arch]
    if plan.machine:
        args += ["--machine", plan.machine]
    args += _boot(plan)
    args += _disks(plan) or ["--disk", "none"]
    if plan.interface is None:
        args += ["--network", "none"]
    else:
        i = plan.interface
        kind = {"network": "network", "bridge": "bridge", "macvtap": "type=direct,source"}[i.kind]
        args += ["--network", f"{kind}={i.source.replace(',', ',,')},model={i.model},mac={i.mac}"]
    args += ["--graphics", answers.graphics]
    args += ["--serial", "pty", "--console", "pty,target_type=serial"]
    if answers.guest_agent and plan.models.agent_channel:
        args += ["--channel", "unix,target.type=virtio,target.name=org.qemu.guest_agent.0"]
    else:
        args += ["--channel", "none"]
    args += ["--rng", "/dev/urandom" if answers.rng and plan.models.rng else "none"]
    args += ["--memballoon", plan.models.balloon]
    # virt-install always starts what it makes; --noreboot at least keeps an installer
    # from booting the guest again once it is done
    args += ["--noautoconsole"] + ([] if answers.start else ["--noreboot"])
    return args


def virt_install_line(plan: GuestPlan) -> str:
    """The command, quoted for a POSIX shell."""
    return shlex.join(virt_install_args(plan))
