"""The plumbing under a Host: its worker threads, and the life of its libvirt link
(losing it, getting it back, closing it safely).

`HostLink` is the base class of `Host`; it owns everything here and asks its subclass
how to open the connection (`_open`), what to do once it is back (`_relinked`), and
to wrap what changed into a Change (`_change`). libvirt frees a connection on close even while another thread is
inside a call on it, so nothing here closes a connection while one of the host's calls
is still running.
"""

from __future__ import annotations

import abc
import asyncio
import functools
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import libvirt

from vtui.core.errors import VtuiError, libvirt_message
from vtui.core.host.state import Change, HostStatus, Tunnel
from vtui.core.listeners import Publisher

CLOSE_GRACE = 10.0  # seconds to wait for running calls before leaving a connection be
WORKERS = 4  # threads per host: a sample, an action and a console can run at once
R = TypeVar("R")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, libvirt.libvirtError):
        return libvirt_message(exc)
    if isinstance(exc, VtuiError):
        return exc.message
    if isinstance(exc, TimeoutError):
        return "no answer"
    return str(exc) or type(exc).__name__


class HostLink(Publisher[Change], abc.ABC):
    def __init__(self, name: str, tunnel: Tunnel | None, workers: int = WORKERS) -> None:
        super().__init__()
        self.name = name
        self.tunnel = tunnel
        self.status = HostStatus.CLOSED
        self.error = ""
        self.conn: libvirt.virConnect | None = None
        self.guests: dict[str, Any] = {}  # Host narrows this to its Guests
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"virt-{name}")
        self._inflight: set[Future] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._poller: asyncio.Task | None = None
        self._reconnector: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()
        self._callback_ids: list[int] = []

    # -- what the subclass provides ----------------------------------------------------
    @abc.abstractmethod
    async def _open(self) -> None:
        """(Re)open the connection and set self.conn; raises on failure."""

    @abc.abstractmethod
    async def _relinked(self) -> None:
        """The link is back (status CONNECTED again): catch up."""

    @abc.abstractmethod
    def _change(self, **fields: Any) -> Change:
        """A Change of this host (Change names the Host, which this base is part of)."""

    # -- calls ---------------------------------------------------------------------------
    async def call(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """Run a blocking libvirt call in this host's threads and await it."""
        # Tracked until the thread is really done (not when the awaiting task is
        # cancelled): close() must not free the connection under a running call.
        future = self._executor.submit(functools.partial(fn, *args, **kwargs))
        self.track(future)
        return await asyncio.wrap_future(future)

    def track(self, future: Future) -> None:
        """Count a call running on a caller's own thread (a migration lasting minutes)
        as using this host's connection, so close() never frees it underneath."""
        self._inflight.add(future)
        future.add_done_callback(self._inflight.discard)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def require_conn(self) -> libvirt.virConnect:
        if self.conn is None or self.status is not HostStatus.CONNECTED:
            raise VtuiError(f"not connected ({self.status.value})", host=self.name)
        return self.conn

    # -- closing -------------------------------------------------------------------------
    async def close(self) -> None:
        self.status = HostStatus.CLOSED
        for task in (self._poller, self._reconnector, *self._tasks):
            if task is not None:
                task.cancel()
        conn, self.conn = self.conn, None
        if conn is not None and await self._idle():
            if getattr(self.tunnel, "closes_first", False) and self.tunnel is not None:
                await self.tunnel.close()  # then libvirt's end has nothing left to wait for
            await self.call(self._close_blocking, conn)
        # (a call stuck on a dead host keeps its connection: leaked, never freed under it)
        if self.tunnel is not None:
            await self.tunnel.close()
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _idle(self) -> bool:
        """Wait until no libvirt call of this host is running (True), or give up.
        libvirt frees a connection on close even while another thread is inside a
        call on it, so a connection is only closed when nothing runs."""
        loop = asyncio.get_running_loop()
        end = loop.time() + CLOSE_GRACE
        while self._inflight:  # (waited for, not polled: a command ends as soon as it can)
            left = end - loop.time()
            if left <= 0:
                return False
            running = [asyncio.wrap_future(f) for f in list(self._inflight)]
            await asyncio.wait(running, timeout=left)
        return True

    async def _close_when_idle(self, conn: libvirt.virConnect) -> None:
        """Free a dead connection once no call can be using it."""
        if await self._idle():
            await self.call(self._close_blocking, conn)

    def _close_blocking(self, conn: libvirt.virConnect) -> None:
        for cid in self._callback_ids:
            try:
                conn.domainEventDeregisterAny(cid)
            except libvirt.libvirtError:
                pass
        try:  # (even when a deregistration failed: it must not fire after we are gone)
            conn.unregisterCloseCallback()
        except libvirt.libvirtError:
            pass
        try:
            conn.close()
        except libvirt.libvirtError:
            pass

    # -- losing and regaining the link ------------------------------------------------
    def _on_close_thread(self, conn: libvirt.virConnect, reason: int, _opaque: object) -> None:
        # libvirt's event thread: a connection freed as the program ends closes after
        # the loop did, and an exception here lands on the user's terminal
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._on_close, conn, reason)
        except RuntimeError:
            pass  # the loop closed between the check and the call

    def _on_close(self, conn: libvirt.virConnect, reason: int) -> None:
        if self.status is HostStatus.CLOSED or conn is not self.conn:
            return  # closing, or a connection we already replaced
        why = {0: "error", 1: "end of file", 2: "keepalive timeout", 3: "client closed"}
        self._mark_disconnected(f"connection lost ({why.get(reason, reason)})")

    def _mark_disconnected(self, message: str) -> None:
        if self.status is not HostStatus.CONNECTED:
            return
        self.status = HostStatus.DISCONNECTED
        self.error = message
        dead, self.conn = self.conn, None
        if dead is not None:  # free its resources; its close callback is ignored now
            self._spawn(self._close_when_idle(dead))
        self.publish(self._change(host_changed=True, guests=set(self.guests), error=message))
        if self._reconnector is None or self._reconnector.done():
            self._reconnector = asyncio.ensure_future(self._reconnect())

    async def _reconnect(self) -> None:
        delay = 1.0
        while self.status is HostStatus.DISCONNECTED:
            await asyncio.sleep(delay)
            try:
                await self._open()
            except (TimeoutError, libvirt.libvirtError, VtuiError, OSError) as exc:
                delay = min(delay * 2, 30.0)
                message = f"reconnect failed: {_reason(exc)} (next try in {delay:.0f} s)"
                if message != self.error:  # e.g. the host key changed while we were away
                    self.error = message
                    self.publish(self._change(host_changed=True))
                continue
            if self.status is not HostStatus.DISCONNECTED:
                return  # closed (or failed) while we were opening: not ours to revive
            self.status = HostStatus.CONNECTED
            self.error = ""
            self.publish(self._change(host_changed=True, event="reconnected"))
            await self._relinked()
