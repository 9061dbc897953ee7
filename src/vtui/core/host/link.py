"""The life of a host's libvirt link: losing it, getting it back, closing it safely.

Part of Host (a mixin, kept apart so each file holds one concept). libvirt frees a
connection on close even while another thread is inside a call on it, so nothing
here closes a connection while one of the host's calls is still running.
"""

from __future__ import annotations

import asyncio

import libvirt

from vtui.core.errors import VtuiError, libvirt_message
from vtui.core.host.state import Change, HostStatus

CLOSE_GRACE = 10.0  # seconds to wait for running calls before leaving a connection be


def _reason(exc: BaseException) -> str:
    if isinstance(exc, libvirt.libvirtError):
        return libvirt_message(exc)
    if isinstance(exc, VtuiError):
        return exc.message
    if isinstance(exc, TimeoutError):
        return "no answer"
    return str(exc) or type(exc).__name__


class LinkKeeping:
    async def close(self) -> None:
        self.status = HostStatus.CLOSED
        for task in (self._poller, self._reconnector, *self._tasks):
            if task is not None:
                task.cancel()
        conn, self.conn = self.conn, None
        if conn is not None and await self._idle():
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
        while self._inflight:
            if loop.time() > end:
                return False
            await asyncio.sleep(0.05)
        return True

    async def _close_when_idle(self, conn: libvirt.virConnect) -> None:
        """Free a dead connection once no call can be using it."""
        if await self._idle():
            await self.call(self._close_blocking, conn)

    def _close_blocking(self, conn: libvirt.virConnect) -> None:
        try:
            for cid in self._callback_ids:
                conn.domainEventDeregisterAny(cid)
            conn.unregisterCloseCallback()
        except libvirt.libvirtError:
            pass
        try:
            conn.close()
        except libvirt.libvirtError:
            pass

    # -- losing and regaining the link ------------------------------------------------
    def _on_close_thread(self, conn, reason, _opaque) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._on_close, conn, reason)

    def _on_close(self, conn, reason: int) -> None:
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
        self._emit(Change(self, host_changed=True, guests=set(self.guests), error=message))
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
                    self._emit(Change(self, host_changed=True))
                continue
            if self.status is not HostStatus.DISCONNECTED:
                return
            self.status = HostStatus.CONNECTED
            self.error = ""
            self._sampler.reset_rates()
            self._emit(Change(self, host_changed=True, event="reconnected"))
            try:
                await self.sample()
            except VtuiError:
                pass
