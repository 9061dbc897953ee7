"""A guest's text console: the libvirt console stream as bytes in and bytes out.

The stream is non-blocking and watched on libvirt's event thread (events.py). Its
callback only drains what libvirt already received (a non-blocking recv makes no
RPC) and hands the bytes to the asyncio loop; subscribers run on the loop. Opening,
sending and closing go through the host's worker threads like every libvirt call,
so a tunnelled host served by the loop never deadlocks.

Open the console before resuming a guest started paused and nothing of its boot is
lost: the output waits in the stream until the callback drains it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

import libvirt
from lxml import etree

from vtui.core.errors import VtuiError, libvirt_message
from vtui.core.guests.definition import read_definition
from vtui.core.host import Host
from vtui.core.host.events import ensure_event_loop

RECV_CHUNK = 65536
SEND_CHUNK = 4096
OUTBOX_LIMIT = 1 << 20  # keys typed into a guest that reads nothing: drop beyond this
RELEASE_TIMEOUT = 5.0  # a dead host must not hold up closing a console
_WATCH = (
    libvirt.VIR_STREAM_EVENT_READABLE
    | libvirt.VIR_STREAM_EVENT_ERROR
    | libvirt.VIR_STREAM_EVENT_HANGUP
)
_BROKEN = libvirt.VIR_STREAM_EVENT_ERROR | libvirt.VIR_STREAM_EVENT_HANGUP
_EAGAIN = -2

GUEST_STOPPED = "guest stopped"


class ConsoleBusy(VtuiError):
    """Another client (virsh console, another vtui) holds the console; open(force=True)
    takes it over."""


class NoConsole(VtuiError):
    """The guest has no (such) serial or console device."""


class GuestNotRunning(VtuiError):
    """Only a running (or paused) guest has a console to attach to."""


@dataclass(frozen=True, slots=True)
class ConsoleDevice:
    """One serial/console device of a guest, as the user picks it."""

    name: str  # libvirt's alias (serial0, console1, ua-...): what openConsole takes
    kind: str  # "serial" or "console"
    type: str  # source type: pty, file, tcp, ...
    target: str  # target type: isa-serial, virtio, serial, ...
    port: int | None

    @property
    def label(self) -> str:
        parts = [self.type] + ([self.target] if self.target else [])
        if self.port is not None:
            parts.append(f"port {self.port}")
        return f"{self.name} ({', '.join(parts)})"


def parse_console_devices(xml: str | bytes) -> list[ConsoleDevice]:
    """Serial and console devices of a domain XML. A <console> that is only the view
    of serial port N (target type 'serial') is the same device and listed once.
    Inactive definitions have no aliases: those get the names libvirt will assign."""
    root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    found: list[ConsoleDevice] = []
    for kind in ("serial", "console"):
        for index, node in enumerate(root.iterfind(f"devices/{kind}")):
            target = node.find("target")
            target_type = target.get("type", "") if target is not None else ""
            port_text = target.get("port") if target is not None else None
            alias = node.find("alias")
            name = (alias.get("name") if alias is not None else None) or f"{kind}{index}"
            port = int(port_text) if port_text and port_text.isdigit() else None
            if (
                kind == "console"
                and target_type in ("serial", "")
                and any(
                    d.kind == "serial" and (d.name == name or d.port == (port or 0)) for d in found
                )
            ):
                continue
            found.append(ConsoleDevice(name, kind, node.get("type", ""), target_type, port))
    return found


async def devices(host: Host, uuid: str) -> list[ConsoleDevice]:
    """The guest's serial/console devices, read from its live (or inactive) XML."""
    return await read_definition(host, uuid, parse_console_devices)


class GuestConsole:
    """The console of one guest on one host.

    Set `on_output(bytes)` and `on_closed(reason)` (both called on the loop) before
    `open()`. `on_closed` fires when the stream ends by itself (GUEST_STOPPED when
    QEMU closed it, otherwise why it broke, e.g. another client forced it away);
    never for `close()`.
    """

    def __init__(self, host: Host, guest_uuid: str, device: str | None = None):
        self.host = host
        self.uuid = guest_uuid
        self.device = device
        self.on_output: Callable[[bytes], None] | None = None
        self.on_closed: Callable[[str], None] | None = None
        self.closed_reason: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stream: libvirt.virStream | None = None
        # Bumped at every open and close: callbacks of an older stream are ignored.
        self._generation = 0
        self._outbox = bytearray()
        self._sender: asyncio.Task | None = None
        self._writable = asyncio.Event()
        self._log: BinaryIO | None = None
        self._log_path: str | None = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def guest_name(self) -> str:
        return self.host.guest_name(self.uuid)

    @property
    def is_open(self) -> bool:
        return self._stream is not None

    def _error(self, cls: type[VtuiError], message: str) -> VtuiError:
        return cls(message, host=self.host.name, guest=self.guest_name)

    # -- opening ----------------------------------------------------------------------
    async def open(self, force: bool = False) -> None:
        """Attach to the console. Raises ConsoleBusy, NoConsole, GuestNotRunning or
        VtuiError. force=True takes the console away from another client."""
        if self._stream is not None:
            return
        if self.host.readonly:
            raise self._error(
                VtuiError,
                f"cannot open the console: the connection to {self.host.name} is read-only",
            )
        conn = self.host.require_conn()
        ensure_event_loop()
        self._loop = asyncio.get_running_loop()
        self._generation += 1
        self.closed_reason = None
        self._outbox.clear()
        try:
            self._stream = await self.host.call(self._open_blocking, conn, force, self._generation)
        except libvirt.libvirtError as exc:
            raise self._open_error(exc) from None

    def _open_blocking(
        self, conn: libvirt.virConnect, force: bool, generation: int
    ) -> libvirt.virStream:
        dom = conn.lookupByUUIDString(self.uuid)
        stream = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
        flags = libvirt.VIR_DOMAIN_CONSOLE_SAFE
        if force:
            flags |= libvirt.VIR_DOMAIN_CONSOLE_FORCE
        dom.openConsole(self.device, stream, flags)
        # Output that arrived before this is queued in the stream; the callback
        # fires for it as soon as it is registered.
        stream.eventAddCallback(_WATCH, self._on_stream_event, generation)
        return stream

    def _open_error(self, exc: libvirt.libvirtError) -> VtuiError:
        code, text = exc.get_error_code(), libvirt_message(exc)
        if code == libvirt.VIR_ERR_OPERATION_FAILED and "console session" in text:
            return self._error(
                ConsoleBusy, "another client is using the console (virsh console or another vtui)"
            )
        if code == libvirt.VIR_ERR_OPERATION_INVALID and "not running" in text:
            return self._error(GuestNotRunning, "is not running; start it to use its console")
        if code == libvirt.VIR_ERR_NO_DOMAIN:
            return self._error(VtuiError, "no longer exists on this host")
        if "cannot find character device" in text:
            if self.device is None:
                return self._error(
                    NoConsole, "has no serial console; add a serial device in its configuration"
                )
            return self._error(NoConsole, f"has no console device {self.device!r}")
        if code == libvirt.VIR_ERR_NO_SUPPORT:
            return self._error(VtuiError, f"this host has no console support ({text})")
        return self._error(VtuiError, f"cannot open the console: {text}")

    # -- libvirt's event thread: drain, then hand over to the loop ---------------------
    def _on_stream_event(self, stream: libvirt.virStream, events: int, generation: int) -> None:
        chunks: list[bytes] = []
        closed: str | None = None
        if events & libvirt.VIR_STREAM_EVENT_READABLE:
            while True:
                try:
                    data = stream.recv(RECV_CHUNK)
                except libvirt.libvirtError as exc:
                    closed = f"console lost: {libvirt_message(exc)}"
                    break
                if data == _EAGAIN:
                    break
                if not data:
                    closed = GUEST_STOPPED  # QEMU closed the pty: the guest is gone
                    break
                chunks.append(data)
        if closed is None and events & _BROKEN:
            closed = "console lost: the stream broke"
        writable = bool(events & libvirt.VIR_STREAM_EVENT_WRITABLE)
        try:
            if closed is not None:
                stream.eventRemoveCallback()
            elif writable:  # wanted once, after an EAGAIN; else it would fire forever
                stream.eventUpdateCallback(_WATCH)
        except libvirt.libvirtError:
            pass
        if not (chunks or closed or writable):
            return
        loop = self._loop
        if loop is None:
            return
        try:
            loop.call_soon_threadsafe(self._deliver, generation, b"".join(chunks), closed, writable)
        except RuntimeError:
            pass  # the loop is gone (the app quit): nobody to tell

    # -- the loop ----------------------------------------------------------------------
    def _deliver(self, generation: int, data: bytes, closed: str | None, writable: bool) -> None:
        if generation != self._generation:
            return
        if data:
            if self._log is not None:
                try:
                    self._log.write(data)
                    self._log.flush()
                except OSError:
                    self.log_to(None)
            if self.on_output is not None:
                self.on_output(data)
        if writable:
            self._writable.set()
        if closed is not None:
            self._lost(closed)

    def _lost(self, reason: str) -> None:
        stream = self._detach()
        if stream is None:
            return
        self.closed_reason = reason
        self._spawn(self._release(stream, eof=reason == GUEST_STOPPED))
        if self.on_closed is not None:
            self.on_closed(reason)

    def _detach(self) -> libvirt.virStream | None:
        stream, self._stream = self._stream, None
        self._generation += 1
        self._outbox.clear()
        self._writable.set()  # a sender waiting for room gives up
        return stream

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _release(self, stream: libvirt.virStream, eof: bool) -> None:
        try:
            await asyncio.wait_for(self.host.call(_release_blocking, stream, eof), RELEASE_TIMEOUT)
        except Exception:  # noqa: BLE001 - a dying host or a closed executor: nothing to free
            pass

    # -- input -------------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        """Queue bytes for the guest (keys, pastes). Call on the loop; never blocks.
        Ignored while the console is not open."""
        if self._stream is None or not data:
            return
        room = OUTBOX_LIMIT - len(self._outbox)
        self._outbox += data[: max(room, 0)]
        if self._sender is None or self._sender.done():
            self._sender = asyncio.ensure_future(self._drain(self._generation))

    async def _drain(self, generation: int) -> None:
        """Send the outbox in order, one call at a time; wait for WRITABLE on EAGAIN."""
        while self._outbox and generation == self._generation:
            stream = self._stream
            chunk = bytes(self._outbox[:SEND_CHUNK])
            # cleared before sending: a WRITABLE event may arrive before the call returns
            self._writable.clear()
            try:
                sent = await self.host.call(_send_blocking, stream, chunk)
            except libvirt.libvirtError as exc:
                if generation == self._generation:
                    self._lost(f"console lost: {libvirt_message(exc)}")
                return
            except RuntimeError:
                return  # the host was closed under us
            if generation != self._generation:
                return
            if sent == _EAGAIN:
                await self._writable.wait()
                continue
            del self._outbox[:sent]

    # -- logging -----------------------------------------------------------------------
    @property
    def log_path(self) -> str | None:
        return self._log_path

    def log_to(self, path: str | os.PathLike | None) -> None:
        """Append the raw console output to `path` from now on; None stops logging."""
        if self._log is not None:
            try:
                self._log.close()
            except OSError:
                pass
        self._log = self._log_path = None
        if path is None:
            return
        path = os.path.expanduser(os.fspath(path))
        try:
            self._log = open(path, "ab")  # noqa: SIM115 - lives as long as the console
        except OSError as exc:
            raise self._error(
                VtuiError, f"cannot log the console to {path}: {exc.strerror or exc}"
            ) from None
        self._log_path = path

    # -- closing -----------------------------------------------------------------------
    async def close(self) -> None:
        """Detach (other clients may then open the console). Idempotent; the log stays
        open for a later open() until log_to(None)."""
        stream = self._detach()
        if self._sender is not None:
            self._sender.cancel()
        if stream is not None:
            await self._release(stream, eof=False)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def _send_blocking(stream: libvirt.virStream, chunk: bytes) -> int:
    sent = stream.send(chunk)
    if sent == _EAGAIN:
        # ask for WRITABLE once; the event callback drops it again when it fires
        stream.eventUpdateCallback(_WATCH | libvirt.VIR_STREAM_EVENT_WRITABLE)
    return sent


def _release_blocking(stream: libvirt.virStream, eof: bool) -> None:
    try:
        stream.eventRemoveCallback()
    except libvirt.libvirtError:
        pass
    try:
        if eof:
            stream.finish()
        else:
            stream.abort()  # what virsh does when it detaches
    except libvirt.libvirtError:
        pass
