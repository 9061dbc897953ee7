"""Storage pools of one host: list, start, stop, refresh, autostart, create, delete.

Every function takes a connected Host, does its libvirt calls in the host's threads,
returns plain data (model.Pool) and raises VtuiError with one line on failure.
"""

from __future__ import annotations

import asyncio

import libvirt

from vtui.core.errors import VtuiError, libvirt_message
from vtui.core.host import Host
from vtui.core.host.fanout import fan_out, width_for
from vtui.core.host.guard import call_or_fail, writable_conn
from vtui.core.storage.access import lookup_pool, on_host
from vtui.core.storage.definitions import parse_pool
from vtui.core.storage.model import POOL_STATES, Pool, VolumeUser
from vtui.core.storage.users import disk_users

LIST_AUTOSTART = libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_AUTOSTART
LIST_PERSISTENT = libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_PERSISTENT


def read_pool(
    pool: libvirt.virStoragePool, autostart: bool | None = None, persistent: bool | None = None
) -> Pool:
    """One pool as plain data (blocking: 2-5 libvirt calls)."""
    state, capacity, allocation, available = pool.info()
    xml = parse_pool(pool.XMLDesc(0))
    active = state != libvirt.VIR_STORAGE_POOL_INACTIVE
    return Pool(
        name=pool.name(),
        uuid=pool.UUIDString(),
        type=xml.type,
        state=POOL_STATES.get(state, str(state)),
        autostart=bool(pool.autostart()) if autostart is None else autostart,
        persistent=bool(pool.isPersistent()) if persistent is None else persistent,
        capacity=capacity if active else None,
        allocation=allocation if active else None,
        available=available if active else None,
        target_path=xml.target_path,
        source=xml.source,
        volumes=pool.numOfVolumes() if state == libvirt.VIR_STORAGE_POOL_RUNNING else None,
    )


@on_host
async def list_pools(host: Host) -> list[Pool]:
    """Every pool of the host, active or not, by name."""
    conn = host.require_conn()

    def names() -> tuple[list[libvirt.virStoragePool], set[str], set[str]]:
        pools = conn.listAllStoragePools(0)
        autostart = {p.UUIDString() for p in conn.listAllStoragePools(LIST_AUTOSTART)}
        persistent = {p.UUIDString() for p in conn.listAllStoragePools(LIST_PERSISTENT)}
        return pools, autostart, persistent

    pools, autostart, persistent = await call_or_fail(host, "list the storage pools", names)

    def one(pool: libvirt.virStoragePool) -> Pool | None:
        uuid = pool.UUIDString()
        try:
            return read_pool(pool, uuid in autostart, uuid in persistent)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_POOL:
                return None  # removed while we looked
            raise

    found = await call_or_fail(host, "read the storage pools", fan_out, one, pools, width_for(host))
    return sorted((p for p in found if p is not None), key=lambda p: p.name)


@on_host
async def get_pool(host: Host, name: str) -> Pool:
    conn = host.require_conn()
    return await call_or_fail(
        host, f"read pool {name}", lambda: read_pool(lookup_pool(conn, name, host.name))
    )


async def _change(host: Host, name: str, what: str, action) -> Pool:
    conn = writable_conn(host, f"{what} pool {name}")

    def work() -> Pool:
        pool = lookup_pool(conn, name, host.name)
        action(pool)
        return read_pool(pool)

    return await call_or_fail(host, f"{what} pool {name}", work)


@on_host
async def start_pool(host: Host, name: str) -> Pool:
    return await _change(host, name, "start", lambda p: p.create(0))


@on_host
async def stop_pool(host: Host, name: str) -> Pool:
    """Stop (libvirt: destroy) a pool; its storage and definition stay. Guests keep
    their open disks; new ones cannot use its volumes until it is started again."""
    return await _change(host, name, "stop", lambda p: p.destroy())


@on_host
async def refresh_pool(host: Host, name: str) -> Pool:
    """Re-read the pool's volumes from its storage (files added behind libvirt's back)."""
    return await _change(host, name, "refresh", lambda p: p.refresh(0))


@on_host
async def set_pool_autostart(host: Host, name: str, on: bool) -> Pool:
    what = "turn on autostart of" if on else "turn off autostart of"
    return await _change(host, name, what, lambda p: p.setAutostart(1 if on else 0))


# -- delete ----------------------------------------------------------------------------
@on_host
async def pool_users(host: Host, name: str) -> tuple[VolumeUser, ...]:
    """The guests using any volume of the pool (what deleting it would break)."""
    conn = host.require_conn()

    def read() -> tuple[Pool, list[tuple[str, str]]]:
        pool = lookup_pool(conn, name, host.name)
        info = read_pool(pool)
        volumes = []
        if info.state == "active":
            volumes = [(v.name(), v.path()) for v in pool.listAllVolumes(0)]
        return info, volumes

    (info, volumes), users = await asyncio.gather(
        call_or_fail(host, f"read pool {name}", read), disk_users(host)
    )
    if info.state != "active":  # no volume list: whatever lies under its directory
        return users.in_pool(name, info.target_path)
    found: dict[str, VolumeUser] = {}
    for volume, path in volumes:
        for user in users.of(name, volume, path):
            found.setdefault(user.guest, user)
    for user in users.in_pool(name, ""):  # by pool name, for volumes listed since
        found.setdefault(user.guest, user)
    return tuple(sorted(found.values(), key=lambda u: u.guest))


@on_host
async def delete_pool(host: Host, name: str, *, storage: bool = False) -> None:
    """Remove a pool. storage=False: only its definition (stopped first; the files stay).
    storage=True: also its volumes and the storage itself where libvirt can (a dir
    pool's directory, a logical pool's volume group), then the definition. Refused
    while a guest uses any of its volumes, naming them."""
    what = f"delete pool {name}" + (" and its storage" if storage else "")
    conn = writable_conn(host, what)
    users = await pool_users(host, name)
    if users:
        guests = ", ".join(u.describe() for u in users)
        raise VtuiError(f"cannot {what}: its volumes are used by {guests}", host=host.name)

    def work() -> None:
        pool = lookup_pool(conn, name, host.name)
        persistent = bool(pool.isPersistent())
        if storage and not persistent:
            raise VtuiError(
                f"cannot {what}: a transient pool vanishes once stopped, and libvirt deletes "
                "a pool's storage only when it is stopped"
            )
        if storage:
            _delete_storage(pool, what)
        elif pool.isActive():
            pool.destroy()
        if persistent:
            pool.undefine()

    await call_or_fail(host, what, work)


def _delete_storage(pool: libvirt.virStoragePool, what: str) -> None:
    if not pool.isActive():
        pool.create(0)  # volumes can only be listed and deleted in an active pool
    for volume in pool.listAllVolumes(0):
        volume.delete(0)
    pool.destroy()
    try:
        pool.delete(libvirt.VIR_STORAGE_POOL_DELETE_NORMAL)  # only on a stopped pool
    except libvirt.libvirtError as exc:
        raise VtuiError(
            f"cannot {what}: {libvirt_message(exc)} (its volumes are deleted; the pool "
            "stays defined, stopped)"
        ) from exc
