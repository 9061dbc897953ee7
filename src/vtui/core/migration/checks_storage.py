"""Pre-flight checks of the guest's storage: every disk and boot file present on the
destination or copied there; the storage pools its volumes live in exist and are active
there, with room for a copy; backing chains (overlays) present there or flattened by a
full copy; and disks on a host's local storage never shared by accident (libvirt
refuses that as unsafe: the same path on the other host is another file)."""

from __future__ import annotations

import posixpath

from vtui.core.migration.check import FAIL, PASS, WARN, Check
from vtui.core.migration.guest_config import Disk
from vtui.core.migration.inspect_destination import Destination, Pool
from vtui.core.migration.inspect_source import Source
from vtui.core.migration.options import MigrationOptions
from vtui.core.units import size

# pool types whose volumes are the same files on every host that mounts them
SHARED_POOLS = {"netfs", "gluster", "rbd", "sheepdog", "iscsi", "iscsi-direct", "mpath", "vstorage"}
COPY_FIX = "choose copy storage, or use storage both hosts share"


def _found(dst: Destination, path: str) -> tuple[bool | None, str]:
    return dst.presence.get(path, (None, "not checked"))


def _target_pool(disk: Disk, dst: Destination) -> Pool | None:
    """Where a copy would be created: the pool of that name, or over that folder."""
    if disk.kind == "volume":
        return dst.pools_by_name.get(disk.pool)
    return dst.pools_by_dir.get(posixpath.dirname(disk.path))


def _copy_check(disk: Disk, dst: Destination, dst_name: str, present: bool | None) -> Check:
    if present:
        return Check(disk.name, WARN, f"{disk.path} exists on {dst_name} and will be "
                     "overwritten by the copy (never copy shared storage)",
                     "keep it only if it is a stale copy")  # fmt: skip
    pool = _target_pool(disk, dst)
    where = disk.pool if disk.kind == "volume" else posixpath.dirname(disk.path)
    if pool is None:
        return Check(disk.name, FAIL, f"{disk.path} is missing on {dst_name}, and copying it "
                     f"needs an active storage pool at {where} there",
                     f"define and start a pool at {where} on {dst_name}")  # fmt: skip
    if not pool.active:
        return Check(disk.name, FAIL, f"pool {pool.name} that would hold the copy is not "
                     f"active on {dst_name}", f"virsh pool-start {pool.name}")  # fmt: skip
    need = disk.allocation if disk.allocation is not None else disk.capacity
    text = f"{disk.path} will be copied into pool {pool.name} on {dst_name}"
    if need is not None and pool.available < need:
        return Check(disk.name, FAIL, f"{text}: it has {size(pool.available)} free, the copy "
                     f"needs {size(need)}", f"free space in pool {pool.name}")  # fmt: skip
    if disk.capacity is not None and pool.available < disk.capacity:
        return Check(disk.name, WARN, f"{text}: {size(pool.available)} free, the disk may "
                     f"grow to {size(disk.capacity)}", f"free space in pool {pool.name}")  # fmt: skip
    free = f" ({size(pool.available)} free)" if need is not None else ""
    return Check(disk.name, PASS, text + free)


def _shared_check(disk: Disk, src_name: str, dst_name: str) -> Check:
    """A writable disk found on both hosts and not copied: fine only on shared storage."""
    pool, kind = disk.source_pool, disk.source_pool_type
    if kind in SHARED_POOLS:
        return Check(disk.name, PASS, f"{disk.path} on shared storage (pool {pool}, {kind})")
    if disk.kind == "block" and not pool:
        return Check(disk.name, WARN, f"{disk.path} is a block device on both hosts: libvirt "
                     "migrates it only if it is the same (SAN) device",
                     "make sure it is shared, or copy storage")  # fmt: skip
    if pool:
        return Check(disk.name, FAIL, f"{disk.path} is on local storage of {src_name} (pool "
                     f"{pool}, {kind}): {dst_name}'s file of that name is another disk, and "
                     "libvirt refuses such a migration as unsafe", COPY_FIX)  # fmt: skip
    return Check(disk.name, WARN, f"{disk.path} present on {dst_name}; libvirt refuses to "
                 "migrate unless it is on shared storage (NFS, Ceph...)", COPY_FIX)  # fmt: skip


def _disk_check(
    disk: Disk, dst: Destination, src_name: str, dst_name: str, options: MigrationOptions
) -> Check | None:
    if disk.kind == "network":
        return Check(disk.name, PASS, f"network disk {disk.path} (shared)")
    if not disk.path:
        return None  # an empty drive
    copying = options.live and options.copy_storage != "none"
    present, why = _found(dst, disk.path)
    if copying and disk.copyable:
        return _copy_check(disk, dst, dst_name, present)
    if present is None:
        return Check(disk.name, WARN, f"cannot check {disk.path} on {dst_name}: {why}",
                     "make sure it exists there")  # fmt: skip
    if not present:
        if copying:
            return Check(disk.name, FAIL, f"{disk.path} is missing on {dst_name} (read-only "
                         "disks and boot files are never copied)",
                         f"copy it to {dst_name} first")  # fmt: skip
        return Check(disk.name, FAIL, f"{disk.path} is missing on {dst_name}: {COPY_FIX}",
                     COPY_FIX)  # fmt: skip
    if options.live and disk.copyable:
        return _shared_check(disk, src_name, dst_name)
    return Check(disk.name, PASS, f"{disk.path} present on {dst_name}")


def _backing_check(disk: Disk, dst: Destination, dst_name: str, options: MigrationOptions):
    if not disk.backing:
        return None
    copying = options.live and options.copy_storage != "none" and disk.copyable
    chain = f"{disk.path} is an overlay on {len(disk.backing)} backing file(s)"
    if copying and options.copy_storage == "full":
        return Check(
            f"{disk.name} backing",
            PASS,
            f"{chain}: a full copy flattens the chain into one image on {dst_name}",
        )
    missing = [p for p in disk.backing if _found(dst, p)[0] is False]
    unknown = [p for p in disk.backing if _found(dst, p)[0] is None]
    if missing:
        fix = "use a full copy (flattens the chain)" if copying else (
            f"copy the backing files to {dst_name} (same paths)")  # fmt: skip
        return Check(f"{disk.name} backing", FAIL,
                     f"{chain}; missing on {dst_name}: {', '.join(missing)}", fix)  # fmt: skip
    if unknown:
        return Check(f"{disk.name} backing", WARN, f"{chain}; cannot check "
                     f"{', '.join(unknown)} on {dst_name}", "make sure they exist there")  # fmt: skip
    return Check(f"{disk.name} backing", PASS, f"{chain}, all present on {dst_name}")


def _pool_checks(src: Source, dst: Destination, dst_name: str, copying: bool) -> list[Check]:
    checks = []
    named = {d.source_pool: d for d in src.config.disks if d.source_pool}
    named |= {d.pool: d for d in src.config.disks if d.kind == "volume" and d.pool}
    for name, disk in named.items():
        pool = dst.pools_by_name.get(name)
        needed = disk.kind == "volume" or copying
        if pool is None:
            checks.append(Check(f"pool {name}", FAIL if needed else WARN,
                                f"{dst_name} has no storage pool {name} (holds {disk.name} "
                                "here)", f"define pool {name} on {dst_name}"))  # fmt: skip
        elif not pool.active:
            checks.append(Check(f"pool {name}", FAIL if needed else WARN,
                                f"pool {name} is not active on {dst_name}",
                                f"virsh pool-start {name} on {dst_name}"))  # fmt: skip
        else:
            checks.append(
                Check(f"pool {name}", PASS, f"active on {dst_name}, {size(pool.available)} free")
            )
    return checks


def storage_checks(
    src: Source, dst: Destination, src_name: str, dst_name: str, options: MigrationOptions
) -> list[Check]:
    checks: list[Check] = []
    for disk in src.config.disks:
        check = _disk_check(disk, dst, src_name, dst_name, options)
        if check is not None:
            checks.append(check)
        backing = _backing_check(disk, dst, dst_name, options)
        if backing is not None:
            checks.append(backing)
    for tag, path in src.config.boot_files:
        present, why = _found(dst, path)
        if present:
            checks.append(Check(tag, PASS, f"{path} present on {dst_name}"))
        elif present is False:
            checks.append(Check(tag, FAIL, f"{path} is missing on {dst_name} (boot files are "
                                "never copied)", f"copy it to {dst_name}"))  # fmt: skip
        else:
            checks.append(Check(tag, WARN, f"cannot check {path} on {dst_name}: {why}",
                                "make sure it exists there"))  # fmt: skip
    copying = options.live and options.copy_storage != "none"
    checks += _pool_checks(src, dst, dst_name, copying)
    if not checks:
        checks.append(Check("storage", PASS, "no disks"))
    return checks
