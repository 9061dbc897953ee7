"""Storage's own part of reaching libvirt: errors that name the host, lookups that
name the pool or volume. Calls, refusals and many reads at once are the host's
(core/host/guard.py, core/host/fanout.py), shared with networks and devices."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Concatenate, ParamSpec, TypeVar

import libvirt

from vtui.core.errors import VtuiError
from vtui.core.host import Host

R = TypeVar("R")
T = TypeVar("T")
P = ParamSpec("P")


def on_host(
    fn: Callable[Concatenate[Host, P], Awaitable[R]],
) -> Callable[Concatenate[Host, P], Awaitable[R]]:
    """Every VtuiError leaving a storage function names the host it is about."""

    @functools.wraps(fn)
    async def wrapper(host: Host, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(host, *args, **kwargs)
        except VtuiError as exc:
            if exc.host is None:
                exc.host = host.name
            raise

    return wrapper


def lookup_pool(conn: libvirt.virConnect, name: str, host: str) -> libvirt.virStoragePool:
    try:
        return conn.storagePoolLookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_POOL:
            raise VtuiError(f"no storage pool called {name!r}", host=host) from None
        raise


def lookup_volume(pool: libvirt.virStoragePool, name: str, host: str) -> libvirt.virStorageVol:
    try:
        return pool.storageVolLookupByName(name)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_STORAGE_VOL:
            raise VtuiError(f"no volume {name!r} in pool {pool.name()!r}", host=host) from None
        if exc.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID:
            raise VtuiError(
                f"pool {pool.name()!r} is not active (start it first)", host=host
            ) from None
        raise


def is_unsupported(exc: libvirt.libvirtError) -> bool:
    """libvirt (or this driver) does not have the call or the flag."""
    return exc.get_error_code() in (
        libvirt.VIR_ERR_NO_SUPPORT,
        libvirt.VIR_ERR_INVALID_ARG,
        libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED,
    )
