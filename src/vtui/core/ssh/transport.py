"""The plumbing under an SSH tunnel: the ProxyCommand process and the local socket
that libvirt connects to. No policy here; core.ssh decides what to connect to."""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile

import asyncssh
from asyncssh.constants import MSG_IGNORE

from vtui.core import spawn
from vtui.core.errors import VtuiError


class ProxyCommand:
    """The ssh config's ProxyCommand, run on a socketpair as OpenSSH does, so that its
    stderr becomes our error message instead of landing on the app's terminal."""

    def __init__(self, argv: list[str]):
        self.argv = argv
        self.proc: spawn.Child | None = None
        self._lines: list[str] = []
        self._reader: asyncio.Task | None = None

    async def start(self) -> socket.socket:
        ours, theirs = socket.socketpair()
        try:
            self.proc = await spawn.spawn(
                self.argv,
                stdin=theirs.fileno(),
                stdout=theirs.fileno(),
                stderr=spawn.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            ours.close()
            raise VtuiError(
                f"cannot run the proxy command {self.argv[0]}: {exc.strerror or exc}"
            ) from None
        finally:
            theirs.close()
        self._reader = asyncio.ensure_future(self._read_stderr(self.proc.stderr))
        return ours

    async def _read_stderr(self, stderr: asyncio.StreamReader | None) -> None:
        if stderr is None:
            return
        async for line in stderr:
            if len(self._lines) < 5:  # the first lines say why; later ones are fallout
                self._lines.append(line.decode(errors="replace").strip())

    async def first_error(self) -> str:
        """Its first line on stderr (waiting briefly for a dying proxy to say it)."""
        if self._reader is not None:
            await asyncio.wait({self._reader}, timeout=0.5)
        return next((line for line in self._lines if line), "")

    async def stop(self) -> None:
        """It exits by itself once the SSH side of the socketpair is closed; if not,
        it is terminated, then killed."""
        proc = self.proc
        if proc is not None and proc.returncode is None:
            for hurry, patience in ((None, 0.3), (proc.terminate, 2.0), (proc.kill, 2.0)):
                if hurry is not None:
                    try:
                        hurry()
                    except ProcessLookupError:
                        break
                try:
                    await asyncio.wait_for(proc.wait(), patience)
                    break
                except TimeoutError:
                    continue
        if self._reader is not None:
            self._reader.cancel()


class SocketConnector:
    """Connects asyncssh over an already connected socket (the ProxyCommand's), as its
    `tunnel`, and hands it a transport that sends each turn of the loop's writes in one
    go. asyncssh writes each packet on its own (and, with a CBC cipher, an empty IGNORE
    packet before each one); a proxy relaying them into TCP without TCP_NODELAY (nc,
    bash's /dev/tcp, many bastions) sends a second write only after the first is
    acknowledged, which made every libvirt call over such a proxy wait for a delayed
    ACK (~15 ms instead of under 1 ms)."""

    def __init__(self, sock: socket.socket):
        self.sock = sock

    async def create_connection(self, session_factory, _host: str, _port: int):
        loop = asyncio.get_running_loop()
        _transport, shim = await loop.create_connection(
            lambda: _OneWritePerTurn(session_factory()), sock=self.sock
        )
        return None, shim.inner


class _OneWritePerTurn(asyncio.Protocol):
    """Passes everything to the inner protocol (asyncssh's connection), whose writes are
    gathered until the loop's next turn."""

    def __init__(self, inner: asyncio.Protocol):
        self.inner = inner

    def connection_made(self, transport) -> None:
        self.inner.connection_made(_GatheringTransport(transport))

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self):
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


class _GatheringTransport(asyncio.Transport):
    def __init__(self, transport: asyncio.Transport):
        super().__init__()
        self._transport = transport
        self._pending: list[bytes] = []

    def write(self, data) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._flush)
        self._pending.append(bytes(data))

    def _flush(self) -> None:
        if self._pending and not self._transport.is_closing():
            self._transport.write(b"".join(self._pending))
        self._pending.clear()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def get_extra_info(self, name, default=None):
        return self._transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def set_write_buffer_limits(self, high=None, low=None) -> None:
        self._transport.set_write_buffer_limits(high, low)


class _NoIgnorePadding(asyncssh.SSHClientConnection):
    """asyncssh sends an empty IGNORE packet before every packet once encryption is on:
    a defence for CBC ciphers, whose next IV an attacker could otherwise predict. With
    CTR, GCM or ChaCha20 it only costs a second encryption, random padding and a log
    call per packet (OpenSSH never sends it): 26 -> 19 us of the loop per small packet
    sent. Kept for CBC."""

    def send_packet(self, pkttype, *args, **kwargs) -> None:
        if pkttype == MSG_IGNORE and args == _EMPTY_STRING:
            cipher = self.get_extra_info("send_cipher") or ""
            if not cipher.endswith("-cbc"):
                return
        super().send_packet(pkttype, *args, **kwargs)


_EMPTY_STRING = (b"\0\0\0\0",)  # the only IGNORE asyncssh sends: String(b"")


def drop_ignore_padding(conn: asyncssh.SSHClientConnection) -> None:
    """Called when the connection is made, before encryption starts."""
    if type(conn) is asyncssh.SSHClientConnection:  # not asyncssh's server side, not ours
        conn.__class__ = _NoIgnorePadding


class LocalForwarder:
    """A local unix socket whose connections are piped to a remote one over SSH.
    (Not asyncssh's forward_local_path: closing must first wait for libvirt to let go
    of its socket; hanging up under a connection libvirt is still tearing down makes
    its client touch freed memory and print warnings on the terminal.)

    Every libvirt call of every host passes through here, so the bytes go from one
    protocol's callback straight into the other side (no stream reader, task or future
    per message); each side pauses the other when its own buffers fill up."""

    def __init__(self, conn: asyncssh.SSHClientConnection, remote: str):
        self.conn, self.remote = conn, remote
        self._server: asyncio.AbstractServer | None = None
        self._pipes: set[_LocalEnd] = set()

    async def start(self, path: str) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_unix_server(lambda: _LocalEnd(self), path)

    async def close(self, grace: float) -> None:
        if self._server is not None:
            self._server.close()
        pipes = list(self._pipes)
        if pipes and grace:  # libvirt hangs up first, if it does within the grace time
            await asyncio.wait([p.done for p in pipes], timeout=grace)
        for pipe in pipes:
            pipe.hang_up()


class _LocalEnd(asyncio.Protocol):
    """libvirt's connection to the local socket, and the SSH channel it is piped to."""

    def __init__(self, forwarder: LocalForwarder):
        self.forwarder = forwarder
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.channel: asyncssh.SSHUNIXChannel | None = None
        self._early: list[bytes] = []  # what libvirt sent before the channel was open
        self._early_eof = False
        self._opening: asyncio.Task | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.forwarder._pipes.add(self)
        self._opening = asyncio.ensure_future(self._open_channel())

    async def _open_channel(self) -> None:
        try:
            channel, _session = await self.forwarder.conn.create_unix_connection(
                lambda: _RemoteEnd(self), self.forwarder.remote
            )
        except (OSError, asyncssh.Error):
            self.hang_up()  # the SSH side failed: hanging up is all libvirt needs to know
            return
        except asyncio.CancelledError:
            return  # libvirt hung up meanwhile
        self.channel = channel
        early, self._early = self._early, []
        for data in early:
            self.data_received(data)
        if self._early_eof:
            channel.write_eof()

    def data_received(self, data: bytes) -> None:
        if self.channel is None:
            self._early.append(data)
            return
        try:
            self.channel.write(data)
        except OSError:  # the host side closed in this same turn of the loop
            self.hang_up()

    def eof_received(self) -> bool:
        if self.channel is not None:
            self.channel.write_eof()
        else:
            self._early_eof = True
        return True  # half-closed: the reply may still come

    def pause_writing(self) -> None:  # libvirt reads slower than the host sends
        if self.channel is not None:
            self.channel.pause_reading()

    def resume_writing(self) -> None:
        if self.channel is not None:
            self.channel.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.forwarder._pipes.discard(self)
        if self._opening is not None and not self._opening.done():
            self._opening.cancel()
        if self.channel is not None:
            self.channel.close()
        if not self.done.done():
            self.done.set_result(None)

    def hang_up(self) -> None:
        if self.transport is not None:
            self.transport.close()


class _RemoteEnd(asyncssh.SSHUNIXSession):
    """The SSH channel's side: what the host sends goes straight to libvirt."""

    def __init__(self, local: _LocalEnd):
        self.local = local

    def data_received(self, data, datatype) -> None:
        if self.local.transport is not None:
            self.local.transport.write(data)

    def eof_received(self) -> bool:
        transport = self.local.transport
        if transport is not None and transport.can_write_eof():
            transport.write_eof()
        return False

    def pause_writing(self) -> None:  # the SSH window is full: stop reading libvirt
        if self.local.transport is not None:
            self.local.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.local.transport is not None:
            self.local.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.local.hang_up()


def private_dir() -> str:
    """A fresh 0700 directory for the local socket; the runtime dir when there is one."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    if not (base and os.path.isdir(base) and os.access(base, os.W_OK)):
        base = None
    return tempfile.mkdtemp(prefix="vtui-ssh-", dir=base)
