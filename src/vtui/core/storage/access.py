"""How storage calls reach libvirt: in the host's threads, refused on read-only
connections, and with every libvirt failure turned into one line naming the object."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from typing import Concatenate, ParamSpec, TypeVar

import libvirt

from vtui.core.errors import VtuiError, libvirt_message
from vtui.core.host import Host

R = TypeVar("R")
T = TypeVar("T")
P = ParamSpec("P")
PARALLEL_CALLS = 3  # of the host's 4 threads: leaves one for the sampler and actions


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


def writable(host: Host, what: str) -> libvirt.virConnect:
    """The connection to change things through, or why not (read-only, not connected)."""
    if host.readonly:
        raise VtuiError(
            f"cannot {what}: the connection is read-only (started with --readonly)",
            host=host.name,
        )
    return host.require_conn()


async def run(host: Host, what: str, work: Callable[[], R]) -> R:
    """work() in the host's threads; a libvirt failure becomes 'cannot WHAT: reason'."""
    try:
        return await host.call(work)
    except libvirt.libvirtError as exc:
        raise VtuiError(f"cannot {what}: {libvirt_message(exc)}", host=host.name) from exc


async def run_split(
    host: Host, what: str, items: Sequence[T], each: Callable[[T], R], parts: int = PARALLEL_CALLS
) -> list[R]:
    """each(item) for every item, the list cut into `parts` runs on the host's threads
    at once: one libvirt connection answers several threads' calls concurrently, so a
    thousand round trips over a slow link take a third of the time."""
    if len(items) < 2 * parts:
        return await run(host, what, lambda: [each(i) for i in items])
    size = -(-len(items) // parts)
    chunks = [items[i : i + size] for i in range(0, len(items), size)]

    def work(chunk: Sequence[T]) -> Callable[[], list[R]]:
        return lambda: [each(i) for i in chunk]

    results = await asyncio.gather(*(run(host, what, work(chunk)) for chunk in chunks))
    return [r for chunk in results for r in chunk]


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
