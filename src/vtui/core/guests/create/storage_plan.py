"""Planning the disks: the main disk (new, existing or imported), the install
medium (a volume, a path or a local file to upload), the cloud-image overlay and
its seed; then whether the pools have room."""

from __future__ import annotations

import asyncio
import os

from vtui.core.guests.create.answers import (
    CLOUD_IMAGE,
    EXISTING_DISK,
    IMPORT,
    ISO,
    NEW_DISK,
)
from vtui.core.guests.create.domain_caps import DomainCaps
from vtui.core.guests.create.draft import SEED_ROOM, Draft, existing_medium
from vtui.core.guests.create.lookups import (
    ExistingVolume,
    NotFound,
    host_is_local,
    local_image,
)
from vtui.core.guests.create.plan import (
    DISK,
    IMAGE,
    SEED,
    DiskDevice,
    NewVolume,
)
from vtui.core.guests.devices import next_target
from vtui.core.units import size


def _disk_target(draft: Draft, _device: str, bus: str) -> str:
    return next_target(bus, draft.targets())


async def plan_storage(
    draft: Draft, disk_bus: str, cdrom_bus: str, caps: DomainCaps | None
) -> None:
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
        found = await existing_medium(draft, source.volume, "disk image", writable=True)
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
        found = await existing_medium(draft, disk.volume, "disk", writable=True)
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


def _guess_format(draft: Draft, found: ExistingVolume) -> str:
    """A file outside every pool on a local host: its header says; else raw."""
    if host_is_local(draft.host) and found.source_type == "file":
        try:
            return local_image(found.path).format
        except NotFound:
            pass
    return "raw"


async def _medium(
    draft: Draft, ref: str, local_file: str, pool: str, what: str
) -> ExistingVolume | NewVolume | None:
    """The cloud image or ISO: an existing volume or path, or a local file to upload."""
    if ref:
        return await existing_medium(draft, ref, what, writable=False)
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


def plan_space(draft: Draft) -> None:
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
