"""The full viewer: a local port carried to a guest's VNC or SPICE, and a viewer on it.

For a host reached over vtui's SSH connection the port is forwarded through that
connection to the graphics' listen address (or unix socket) on the host, so the
graphics port never needs to be reachable from here. A local host's TCP listener is
used directly; its unix socket gets a local TCP port piped to it. The user's viewer
(a configured command, else remote-viewer or vncviewer when a graphical display is
there) is started on the port, and the port closes when the viewer exits. Without a
viewer the port stays open for the user's own client until `close()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from vtui.core.errors import VtuiError
from vtui.core.guests.graphics import DisplayInfo, GraphicsDevice, display_info
from vtui.core.host import Host
from vtui.core.spawn import PIPE, Child, spawn
from vtui.core.uri import is_local

VIEWER_ENV = "VTUI_VIEWER"  # a viewer command with {host} {port} {protocol} {uri} placeholders
EARLY_EXIT = 3.0  # a viewer that fails within this many seconds says why (its stderr)
_ANY = ("", "0.0.0.0", "::", "*")
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(eq=False)
class Forward:
    """Where a viewer connects to reach one guest's graphics."""

    host: str
    port: int
    protocol: str  # vnc or spice
    password: bool | None = None
    closer: Callable[[], Awaitable[None]] | None = None
    closed: bool = False

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def uri(self) -> str:
        return f"{self.protocol}://{self.address}"

    @property
    def forwarded(self) -> bool:
        """Whether vtui carries the connections (False: a direct address)."""
        return self.closer is not None

    async def close(self) -> None:
        """Stop forwarding (idempotent); viewers connected through it are cut off."""
        closer, self.closer = self.closer, None
        self.closed = True
        if closer is not None:
            await closer()


def _no_viewer_device(host: Host, guest: str, info: DisplayInfo) -> VtuiError:
    if not info.graphics:
        why = "has no VNC or SPICE graphics for a viewer (the peek needs only a video device)"
    else:
        kinds = ", ".join(g.label for g in info.graphics)
        why = f"has no VNC or SPICE graphics a viewer can connect to (it has {kinds})"
    return VtuiError(why, host=host.name, guest=guest)


def _destination(device: GraphicsDevice) -> str:
    """The address to connect to on the host itself: any-address means loopback too."""
    listen = (device.listen or "").strip("[]")
    if listen in _ANY:
        return "::1" if listen == "::" else "127.0.0.1"
    return listen


async def open_forward(host: Host, uuid: str, info: DisplayInfo | None = None) -> Forward:
    """A local address that reaches the guest's VNC or SPICE server. Raises VtuiError
    (one line) when there is none or it cannot be reached from here."""
    guest = host.guests.get(uuid)
    name = guest.name if guest is not None else uuid
    info = info or await display_info(host, uuid)
    device = info.viewer_device
    if info.graphics and not info.running:
        raise VtuiError(
            "is not running: its graphics listen only while it runs", host=host.name, guest=name
        )
    if device is None:
        raise _no_viewer_device(host, name, info)
    protocol, port = device.type, device.port or device.tls_port or 0
    forward_local = getattr(host.tunnel, "forward_local", None)
    if forward_local is not None:  # vtui's own SSH connection
        if device.socket:
            listener = await forward_local(dest_path=device.socket)
        else:
            listener = await forward_local(_destination(device), port)

        async def close_listener() -> None:
            listener.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(listener.wait_closed(), 2)

        return Forward("127.0.0.1", listener.get_port(), protocol, device.password, close_listener)
    if host.tunnel is None and is_local(host.uri):
        if device.socket:
            return await _forward_to_socket(device.socket, protocol, device.password)
        return Forward(_destination(device), port, protocol, device.password)
    # reached through libvirt's own transport (TLS, TCP, libvirt's ssh): no tunnel of ours
    destination = _destination(device)
    if device.socket or destination in _LOOPBACK:
        where = f"socket {device.socket}" if device.socket else destination
        raise VtuiError(
            f"its {protocol.upper()} listens on {where} of the host only, and vtui reaches "
            "this host through libvirt's own transport, not an SSH connection of its own "
            "(open the host as an SSH target, e.g. vtui root@host, to forward it)",
            host=host.name,
            guest=name,
        )
    if (device.listen or "") in _ANY:
        destination = urlsplit(host.uri).hostname or destination
    return Forward(destination, port, protocol, device.password)


async def _forward_to_socket(path: str, protocol: str, password: bool | None) -> Forward:
    """A local TCP port piped to a local unix socket (viewers speak TCP)."""
    clients: set[asyncio.Task] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # a server's callback always runs in a task
        clients.add(task)
        try:
            remote_reader, remote_writer = await asyncio.open_unix_connection(path)
            try:
                await asyncio.gather(_pipe(reader, remote_writer), _pipe(remote_reader, writer))
            finally:
                remote_writer.close()
        except (OSError, asyncio.CancelledError):
            pass  # the socket is gone or we are closing: hanging up says enough
        finally:
            writer.close()
            clients.discard(task)

    try:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
    except OSError as exc:
        raise VtuiError(f"cannot open a local port: {exc.strerror or exc}") from None
    port = server.sockets[0].getsockname()[1]

    async def close() -> None:
        server.close()
        for task in list(clients):
            task.cancel()
        await asyncio.gather(*clients, return_exceptions=True)

    return Forward("127.0.0.1", port, protocol, password, close)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except OSError:
        pass


# -- the viewer ---------------------------------------------------------------------------
def has_graphical_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def viewer_command(forward: Forward, configured: str | None = None) -> list[str] | None:
    """The viewer to start on `forward`: the configured command (argument, else
    $VTUI_VIEWER) with {host} {port} {protocol} {uri} filled in (the URI is added when
    it names none of them); else remote-viewer, or vncviewer for VNC, when there is a
    graphical display to open a window on; else None. An empty `configured` means no
    viewer: the user connects their own client."""
    if configured is not None and not configured.strip():
        return None
    template = configured if configured is not None else os.environ.get(VIEWER_ENV, "")
    if template.strip():
        try:
            words = shlex.split(template)
        except ValueError as exc:
            raise VtuiError(f"cannot read the viewer command {template!r}: {exc}") from None
        values = {
            "host": forward.host,
            "port": str(forward.port),
            "protocol": forward.protocol,
            "uri": forward.uri,
        }
        marks = tuple("{" + key + "}" for key in values)
        if not any(mark in word for word in words for mark in marks):
            words.append("{uri}")
        argv = []
        for word in words:
            for key, value in values.items():
                word = word.replace("{" + key + "}", value)
            argv.append(word)
        return argv
    if not has_graphical_display():
        return None
    if shutil.which("remote-viewer"):
        return ["remote-viewer", forward.uri]
    if forward.protocol == "vnc" and shutil.which("vncviewer"):
        return ["vncviewer", f"{forward.host}::{forward.port}"]
    return None


@dataclass(eq=False)
class ViewerSession:
    """A forward and the viewer started on it (None: the user connects by hand)."""

    forward: Forward
    guest: str
    host: str
    argv: list[str] | None = None
    process: Child | None = None
    on_exit: Callable[[str], None] | None = None
    exit_message: str | None = None  # set once the viewer is gone
    failed: bool = False  # it exited with an error (exit_message says why)
    _errors: list[str] = field(default_factory=list)
    _watcher: asyncio.Task | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def _watch(self, started: float) -> None:
        process = self.process
        assert process is not None
        if process.stderr is not None:
            async for line in process.stderr:
                if len(self._errors) < 3 and line.strip():
                    self._errors.append(" ".join(line.decode(errors="replace").split()))
        code = await process.wait()
        await self.forward.close()
        name = os.path.basename(self.argv[0]) if self.argv else "viewer"
        quick = asyncio.get_running_loop().time() - started < EARLY_EXIT
        if code != 0 and (quick or self._errors):
            self.failed = True
            why = f": {self._errors[0]}" if self._errors else ""
            self.exit_message = f"viewer {name} failed (exit status {code}){why}"
        else:
            self.exit_message = f"viewer {name} closed; port {self.forward.address} closed"
        _sessions.discard(self)
        if self.on_exit is not None:
            self.on_exit(self.exit_message)

    async def close(self) -> None:
        """Stop the viewer (if still running) and the forward."""
        if self.running and self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()
        if self._watcher is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._watcher), 5)
        await self.forward.close()
        _sessions.discard(self)


_sessions: set[ViewerSession] = set()


def viewer_sessions(host: Host | None = None, uuid: str | None = None) -> list[ViewerSession]:
    """Open forwards (with or without a viewer), optionally of one guest."""
    return [
        s
        for s in _sessions
        if (host is None or s.host == host.name) and (uuid is None or s.guest == uuid)
    ]


async def open_viewer(
    host: Host, uuid: str, *, command: str | None = None, info: DisplayInfo | None = None
) -> ViewerSession:
    """Forward the guest's graphics and start the viewer on it (see viewer_command).
    Without a viewer the session's forward stays open until close()."""
    forward = await open_forward(host, uuid, info)
    try:
        argv = viewer_command(forward, command)
    except VtuiError:
        await forward.close()
        raise
    session = ViewerSession(forward, uuid, host.name, argv)
    if argv is not None:
        try:
            session.process = await spawn(
                argv,
                stderr=PIPE,
                start_new_session=True,  # a Ctrl+C meant for vtui is not the viewer's
            )
        except OSError as exc:
            await forward.close()
            raise VtuiError(
                f"cannot start the viewer {argv[0]}: {exc.strerror or exc}", host=host.name
            ) from None
        started = asyncio.get_running_loop().time()
        session._watcher = asyncio.ensure_future(session._watch(started))
    if forward.forwarded or session.process is not None:
        _sessions.add(session)
    return session
