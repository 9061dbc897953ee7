"""Minimal serial-console client for tests, driven by libvirt's event thread.

Call events.ensure_event_loop() before opening the connection you pass in: libvirt
only drives streams of connections opened after an event impl is registered.
Everything here is blocking and thread-safe; from async tests use asyncio.to_thread.
"""

from __future__ import annotations

import threading
import time

import libvirt

_EVENTS = (
    libvirt.VIR_STREAM_EVENT_READABLE
    | libvirt.VIR_STREAM_EVENT_ERROR
    | libvirt.VIR_STREAM_EVENT_HANGUP
)


class SerialConsole:
    def __init__(self, conn: libvirt.virConnect, dom: libvirt.virDomain, force: bool = True):
        self.buf = b""
        self.closed = False
        self._cv = threading.Condition()
        self.stream = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
        dom.openConsole(None, self.stream, libvirt.VIR_DOMAIN_CONSOLE_FORCE if force else 0)
        self.stream.eventAddCallback(_EVENTS, self._on_event, None)

    def _on_event(self, stream, events, _opaque) -> None:  # on libvirt's event thread
        chunks, closed = (
            [],
            bool(events & (libvirt.VIR_STREAM_EVENT_ERROR | libvirt.VIR_STREAM_EVENT_HANGUP)),
        )
        if events & libvirt.VIR_STREAM_EVENT_READABLE:
            while True:
                try:
                    data = stream.recv(65536)
                except libvirt.libvirtError:
                    data = b""
                if data == -2:  # would block: drained
                    break
                if not data:  # EOF
                    closed = True
                    break
                chunks.append(data)
        with self._cv:
            self.buf += b"".join(chunks)
            self.closed |= closed
            self._cv.notify_all()
        if closed:
            try:
                stream.eventRemoveCallback()
            except libvirt.libvirtError:
                pass

    def expect(self, pattern: bytes | str, timeout: float = 30, start: int = 0) -> bytes:
        """Wait until pattern shows up in the output after offset `start`; return all output."""
        pat = pattern.encode() if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self._cv:
            while pat not in self.buf[start:]:
                left = deadline - time.monotonic()
                if self.closed or left <= 0:
                    why = "console closed" if self.closed else f"timeout {timeout}s"
                    raise AssertionError(f"{pat!r} not seen ({why}); tail: {self.buf[-400:]!r}")
                self._cv.wait(left)
            return self.buf

    def send(self, text: bytes | str) -> None:
        self.stream.send(text.encode() if isinstance(text, str) else text)

    def run(self, line: str, expect: bytes | str = b"/ # ", timeout: float = 10) -> bytes:
        """Type a shell line; return the output after it, up to and including `expect`."""
        mark = len(self.buf)
        self.send(line + "\n")
        return self.expect(expect, timeout, start=mark)[mark:]

    def close(self) -> None:
        try:
            self.stream.eventRemoveCallback()
        except libvirt.libvirtError:
            pass
        try:
            self.stream.abort()
        except libvirt.libvirtError:
            pass
