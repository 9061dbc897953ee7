"""Pre-flight checks about the guest: its state and snapshots, the devices QEMU or
libvirt cannot move (passed-through hardware, virtiofs, a passthrough TPM, ivshmem
peers, vDPA, invariant TSC, transient disks, virgl), and its firmware.

What blocks a live migration is what libvirt 9 and QEMU 7.2 refuse: libvirt refuses
any guest with snapshots, a virtiofs share, a transient disk, an ivshmem peer, invtsc
without a TSC frequency, and (older QEMU) any host device but USB; QEMU itself refuses
VFIO devices (PCI, mediated), a passthrough TPM, vDPA and virgl. SATA (ICH9 AHCI) and
IDE disks and CD-ROMs do migrate; a CD-ROM's medium must exist on the destination,
which the storage checks see to.
"""

from __future__ import annotations

import libvirt

from vtui.core.migration.check import FAIL, PASS, WARN, Check
from vtui.core.migration.inspect_destination import Destination
from vtui.core.migration.inspect_source import Source
from vtui.core.migration.options import MigrationOptions

DETACH = "detach it (virsh detach-device --live) and attach its twin there afterwards"


def state_check(src: Source, options: MigrationOptions) -> Check:
    running = (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_BLOCKED, libvirt.VIR_DOMAIN_PAUSED)
    if src.job_active:
        return Check("guest state", FAIL, "another job (e.g. a migration) is running on it",
                     "wait for it to end, or cancel it")  # fmt: skip
    if options.live:
        if src.state in running:
            paused = src.state == libvirt.VIR_DOMAIN_PAUSED
            return Check(
                "guest state",
                PASS,
                "paused (stays paused on the destination)" if paused else "running",
            )
        return Check(
            "guest state",
            FAIL,
            "not running: live migration needs a running or "
            "paused guest (choose offline for a stopped one)",
            "migrate it offline, or start it first",
        )
    if src.state not in (libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_CRASHED):
        return Check(
            "guest state",
            FAIL,
            "running: offline migration moves a stopped guest (shut it down, or choose live)",
            "shut it down first, or migrate it live",
        )
    if not src.persistent:
        return Check("guest state", FAIL, "transient: it has no definition to move offline",
                     "define it first (virsh define)")  # fmt: skip
    if src.managed_save:
        return Check(
            "guest state",
            FAIL,
            "has a saved memory state (managed save) that cannot "
            "move: start it and migrate live, or discard the saved state",
            "start it and migrate live, or virsh managedsave-remove",
        )
    return Check("guest state", PASS, "shut off, persistent")


def snapshot_check(src: Source) -> Check:
    if not src.snapshots:
        return Check("snapshots", PASS, "none")
    internal = f", {src.internal_snapshots} internal (inside its qcow2 images)"
    return Check(
        "snapshots",
        FAIL,
        f"has {src.snapshots} snapshot(s)"
        + (internal if src.internal_snapshots else "")
        + ": libvirt refuses to migrate a guest with snapshots",
        "delete them first (virsh snapshot-delete; --metadata keeps external files)",
    )


def _hostdev_checks(src: Source, dst: Destination, dst_name: str, live: bool) -> list[Check]:
    checks = []
    for dev in src.config.hostdevs:
        what = f"{dev.kind.upper()} device {dev.address}".strip()
        found, why = dst.nodedevs.get(dev.address, (None, "not checked"))
        there = (
            f"{dst_name} has it"
            if found
            else (f"{dst_name} has no such device" if found is False else f"cannot tell: {why}")
        )
        if dev.kind == "usb":
            if found is False:
                status = FAIL if live else WARN
                checks.append(Check("host device", status, f"{what} passed through; {there}",
                                    f"plug one into {dst_name}, or detach it first"))  # fmt: skip
            else:
                checks.append(Check("host device", WARN if live else PASS,
                                    f"{what} passed through; {there} (re-attached after the move)",
                                    "expect its transfers in flight to be reset"))  # fmt: skip
        elif live:
            checks.append(
                Check(
                    "host device",
                    FAIL,
                    f"{what} passed through: QEMU cannot migrate it live",
                    f"{DETACH}; or migrate offline",
                )
            )
        else:
            status = PASS if found else (FAIL if found is False else WARN)
            fix = "" if found else f"change the host device to one {dst_name} has"
            checks.append(Check("host device", status, f"{what}; {there}", fix))
    return checks


def _tpm_checks(src: Source, dst: Destination, dst_name: str, live: bool) -> list[Check]:
    checks = []
    for model, backend in src.config.tpms:
        what = f"TPM {model or 'device'} ({backend or 'emulator'})"
        if backend == "passthrough":
            if live:
                checks.append(Check("tpm", FAIL, f"{what}: a host TPM cannot migrate",
                                    "remove it, or use an emulated TPM"))  # fmt: skip
            continue
        if "emulator" not in dst.caps.tpm_backends:
            checks.append(
                Check(
                    "tpm",
                    FAIL,
                    f"{what}: {dst_name} cannot emulate a TPM (no swtpm)",
                    f"install swtpm on {dst_name}",
                )  # fmt: skip
            )
        elif live:
            checks.append(Check("tpm", PASS, f"{what}: its state travels with the guest"))
        else:
            checks.append(
                Check(
                    "tpm",
                    WARN,
                    f"{what}: offline migration leaves its state (keys) on the source",
                    f"copy its folder in /var/lib/libvirt/swtpm to {dst_name}, or migrate live",
                )
            )
    return checks


def _filesystem_checks(src: Source, dst: Destination, dst_name: str, live: bool) -> list[Check]:
    checks = []
    for driver, directory, tag in src.config.filesystems:
        what = f"{driver} share {directory} as {tag!r}"
        if driver == "virtiofs":
            if live:
                checks.append(Check("filesystem", FAIL, f"{what}: libvirt cannot migrate it live",
                                    "unmount it in the guest and detach it, or migrate "
                                    "offline"))  # fmt: skip
                continue
            if "virtiofs" not in dst.caps.fs_drivers:
                checks.append(Check("filesystem", FAIL, f"{what}: {dst_name} has no virtiofs",
                                    f"install virtiofsd on {dst_name}"))  # fmt: skip
                continue
        elif live:
            checks.append(Check("filesystem", WARN, f"{what}: QEMU refuses while it is mounted",
                                "unmount it in the guest first"))  # fmt: skip
            continue
        found, why = dst.presence.get(directory, (None, "not checked"))
        if found is False:
            checks.append(Check("filesystem", FAIL, f"{what}: {directory} is missing on "
                                f"{dst_name}", f"create it on {dst_name}"))  # fmt: skip
        else:
            note = "" if found else f" (cannot check there: {why})"
            checks.append(Check("filesystem", PASS if found else WARN, f"{what}{note}"))
    return checks


def _blockers(src: Source) -> list[Check]:
    """What libvirt or QEMU refuse to migrate live, whatever the destination."""
    cfg, checks = src.config, []
    if cfg.cpu_features.get("invtsc") in ("require", "force") and not cfg.tsc_frequency:
        checks.append(Check("devices", FAIL, "invariant TSC (invtsc) without a TSC frequency",
                            "set <timer name='tsc' frequency='...'/>, or drop invtsc"))  # fmt: skip
    for name, role in cfg.shmems:
        if role != "master":
            checks.append(Check("devices", FAIL, f"shared memory {name} ({role}) cannot move",
                                "detach it, or give it role='master'"))  # fmt: skip
    for nic in cfg.nics:
        if nic.kind in ("vdpa", "hostdev"):
            checks.append(
                Check(
                    "devices",
                    FAIL,
                    f"{nic.kind} NIC {nic.mac or nic.source}: passed through hardware cannot move",
                    DETACH,
                )  # fmt: skip
            )
    for disk in cfg.disks:
        if disk.transient:
            checks.append(Check("devices", FAIL, f"{disk.name} is transient (<transient/>)",
                                "make it a normal disk, or shut the guest down"))  # fmt: skip
    if cfg.accel3d:
        checks.append(Check("devices", FAIL, "3D-accelerated video (virgl) cannot move",
                            "turn off accel3d, or migrate offline"))  # fmt: skip
    return checks


def device_checks(
    src: Source, dst: Destination, dst_name: str, options: MigrationOptions
) -> list[Check]:
    live = options.live
    checks = _blockers(src) if live else []
    checks += _hostdev_checks(src, dst, dst_name, live)
    checks += _tpm_checks(src, dst, dst_name, live)
    checks += _filesystem_checks(src, dst, dst_name, live)
    buses = sorted({d.bus for d in src.config.disks if d.bus in ("sata", "ide")})
    if live and buses:
        checks.append(Check("devices", PASS, f"{'/'.join(b.upper() for b in buses)} disks and "
                            "CD-ROMs migrate with this QEMU (media must exist there)"))  # fmt: skip
    if not checks:
        checks.append(Check("devices", PASS, "nothing that cannot move"))
    return checks


def firmware_checks(src: Source, dst: Destination, dst_name: str) -> list[Check]:
    cfg, checks = src.config, []
    if cfg.firmware and not cfg.loader:
        if cfg.firmware in dst.caps.firmware or not dst.caps.firmware and cfg.firmware == "bios":
            checks.append(Check("firmware", PASS, f"{dst_name} has {cfg.firmware} firmware"))
        else:
            checks.append(Check("firmware", FAIL, f"{dst_name} has no {cfg.firmware} firmware "
                                "for this machine", f"install it on {dst_name} (ovmf for "
                                "efi)"))  # fmt: skip
    for what, path in (("firmware code", cfg.loader), ("NVRAM template", cfg.nvram_template)):
        if not path:
            continue
        found, why = dst.presence.get(path, (None, "not checked"))
        if found:
            checks.append(Check("firmware", PASS, f"{what} {path} present on {dst_name}"))
        elif found is False:
            checks.append(Check("firmware", FAIL, f"{what} {path} is missing on {dst_name}",
                                f"install the same firmware package on {dst_name}"))  # fmt: skip
        else:
            checks.append(Check("firmware", WARN, f"cannot check {path} on {dst_name}: {why}",
                                "make sure the same firmware is installed there"))  # fmt: skip
    if cfg.nvram:
        found, why = dst.presence.get(cfg.nvram, (None, "not checked"))
        if found:
            checks.append(Check("firmware", PASS, f"NVRAM {cfg.nvram} present on {dst_name}"))
        else:
            status = FAIL if found is False and not cfg.nvram_template else WARN
            checks.append(
                Check(
                    "firmware",
                    status,
                    f"NVRAM {cfg.nvram} (its UEFI variables) is "
                    + ("missing" if found is False else f"not checkable ({why})")
                    + f" on {dst_name}",
                    f"copy it to {dst_name} first (else it starts from the template)",
                )
            )
    return checks
