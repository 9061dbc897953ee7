"""A guest's screen: its graphics and video devices, and screenshots.

The devices come from the guest's live XML. A screenshot is libvirt's screenshot API
(QEMU's screendump) read from a stream in one of the host's worker threads and
decoded there with Pillow, so it works through vtui's SSH tunnel without the guest's
VNC or SPICE port being reachable. libvirt allows it only on a read-write connection.

Keys (graphics_keys) and the full viewer (graphics_viewer) live beside this module.
"""

from __future__ import annotations

import io
import weakref
from dataclasses import dataclass

import libvirt
from lxml import etree
from PIL import Image, UnidentifiedImageError

from vtui.core.errors import VtuiError, libvirt_message
from vtui.core.guests.definition import read_definition
from vtui.core.host import Host

MAX_SCREENSHOT_BYTES = 64 << 20  # a 4K screen as raw PPM is 25 MB; beyond this is not a screen
REMOTE_TYPES = ("vnc", "spice")  # what a viewer on another machine can connect to


class NoDisplay(VtuiError):
    """The guest has no screen to show (no video device)."""


class DisplayNotRunning(VtuiError):
    """Only a running (or paused) guest has a screen."""


@dataclass(frozen=True, slots=True)
class GraphicsDevice:
    """One <graphics> of a guest: how a viewer reaches its screen."""

    type: str  # vnc, spice, rdp, sdl, egl-headless, dbus...
    port: int | None = None  # None: not listening on TCP, or not started yet
    tls_port: int | None = None  # SPICE only
    listen: str | None = None  # address it listens on
    socket: str | None = None  # unix socket path, when it listens on one
    autoport: bool = False
    password: bool | None = None  # None: unknown (a read-only connection cannot tell)

    @property
    def reachable(self) -> bool:
        """Whether a viewer can connect to it (VNC or SPICE on a port or a socket)."""
        return self.type in REMOTE_TYPES and bool(self.port or self.tls_port or self.socket)

    @property
    def label(self) -> str:
        name = self.type.upper() if self.type in REMOTE_TYPES else self.type
        if self.socket:
            where = f" on socket {self.socket}"
        elif self.port or self.tls_port:
            ports = [str(p) for p in (self.port,) if p]
            ports += [f"{self.tls_port} (TLS)"] if self.tls_port else []
            where = f" on {self.listen or '*'}:{'/'.join(ports)}"
        else:
            where = " (not listening)"
        extras = ["autoport"] if self.autoport else []
        if self.password is not None:
            extras.append("password set" if self.password else "no password")
        return name + where + (f" ({', '.join(extras)})" if extras else "")


@dataclass(frozen=True, slots=True)
class DisplayInfo:
    """A guest's graphics and video devices, from its XML."""

    graphics: tuple[GraphicsDevice, ...]
    videos: tuple[str, ...]  # model types of its video devices ("none" left out)
    running: bool = False  # read from a running guest's live XML (ports are real)

    @property
    def has_video(self) -> bool:
        return bool(self.videos)

    @property
    def viewer_device(self) -> GraphicsDevice | None:
        """The device a full viewer connects to: the first reachable VNC or SPICE."""
        return next((g for g in self.graphics if g.reachable), None)

    @property
    def no_display_reason(self) -> str | None:
        """Why there is no screen to show (one line), or None if there is one."""
        if self.has_video:
            return None
        if self.graphics:
            return "has no video device: nothing draws its screen (add a video device, e.g. VGA or virtio)"
        return "has no display (no video device and no VNC or SPICE graphics): it has only a text console"


def _port(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and int(text) > 0 else None


def parse_display(xml: str | bytes, *, secure: bool = False) -> DisplayInfo:
    """Graphics and video devices of a domain XML (live or inactive). `secure`: the
    XML was read with VIR_DOMAIN_XML_SECURE, so a missing passwd means no password."""
    root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    graphics = []
    for node in root.iterfind("devices/graphics"):
        listen, socket = node.get("listen"), node.get("socket")
        for child in node.iterfind("listen"):
            kind = child.get("type")
            if kind == "socket" and child.get("socket"):
                socket = child.get("socket")
            elif kind in ("address", "network") and child.get("address"):
                listen = listen or child.get("address")
        graphics.append(
            GraphicsDevice(
                type=node.get("type", ""),
                port=_port(node.get("port")),
                tls_port=_port(node.get("tlsPort")),
                listen=listen,
                socket=socket,
                autoport=node.get("autoport") == "yes",
                password=(node.get("passwd") is not None) if secure else None,
            )
        )
    videos = tuple(
        model.get("type", "")
        for model in root.iterfind("devices/video/model")
        if model.get("type") not in (None, "none")
    )
    domain_id = root.get("id")
    running = domain_id is not None and domain_id.isdigit()
    return DisplayInfo(tuple(graphics), videos, running)


async def display_info(host: Host, uuid: str) -> DisplayInfo:
    """The guest's graphics and video devices, from its live (or inactive) XML. On a
    read-write connection the secure XML tells whether a password is set (parsed in
    the worker thread: the password itself never leaves it)."""
    secure = not host.readonly
    flags = libvirt.VIR_DOMAIN_XML_SECURE if secure else 0
    return await read_definition(host, uuid, lambda xml: parse_display(xml, secure=secure), flags)


# -- screenshots -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Screenshot:
    """One picture of a guest's screen."""

    image: Image.Image  # decoded, RGB
    mime: str  # what libvirt sent: image/png, image/x-portable-pixmap
    data: bytes  # the bytes libvirt sent

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size

    def png(self) -> bytes:
        """The screenshot as PNG (libvirt's own bytes when it already sent PNG)."""
        if self.mime == "image/png":
            return self.data
        out = io.BytesIO()
        self.image.save(out, "PNG")
        return out.getvalue()


async def screenshot(
    host: Host, uuid: str, screen: int = 0, *, previous: Screenshot | None = None
) -> Screenshot:
    """What the guest's screen (head `screen`) shows now. When it is byte for byte the
    `previous` screenshot, that one is returned (not decoded again): a peek of an idle
    screen costs the transfer only. Raises DisplayNotRunning, NoDisplay or VtuiError,
    each one line."""
    name = host.guest_name(uuid)
    if host.readonly:
        raise VtuiError(
            "cannot take a screenshot: the connection is read-only (libvirt allows "
            "screenshots only with write access)",
            host=host.name,
            guest=name,
        )
    conn = host.require_conn()
    try:
        same = previous.data if previous is not None else None
        mime, data, image = await host.call(_screenshot_blocking, conn, uuid, screen, same)
    except libvirt.libvirtError as exc:
        raise _screenshot_error(exc, host.name, name, screen) from None
    except _TooBig:
        raise VtuiError(
            f"screenshot larger than {MAX_SCREENSHOT_BYTES >> 20} MiB: refused",
            host=host.name,
            guest=name,
        ) from None
    except _Undecodable as exc:
        raise VtuiError(
            f"cannot decode the screenshot ({exc.mime}): {exc}", host=host.name, guest=name
        ) from None
    if image is None and previous is not None:
        return previous
    assert image is not None
    return Screenshot(image, mime, data)


class _TooBig(Exception):
    pass


class _Undecodable(Exception):
    def __init__(self, mime: str, reason: str):
        super().__init__(reason)
        self.mime = mime


# Domain handles of each connection, so a peek refreshing every second saves the
# lookup's round trip (a tenth of a second far away). Dropped with the connection.
_domains: weakref.WeakKeyDictionary[libvirt.virConnect, dict[str, libvirt.virDomain]] = (
    weakref.WeakKeyDictionary()
)


def _domain(conn: libvirt.virConnect, uuid: str) -> libvirt.virDomain:
    known = _domains.setdefault(conn, {})
    dom = known.get(uuid)
    if dom is None:
        dom = known[uuid] = conn.lookupByUUIDString(uuid)
    return dom


def _screenshot_blocking(
    conn: libvirt.virConnect, uuid: str, screen: int, same: bytes | None
) -> tuple[str, bytes, Image.Image | None]:
    dom = _domain(conn, uuid)
    stream = conn.newStream(0)
    chunks: list[bytes] = []
    received = 0

    def take(_stream: libvirt.virStream, data: bytes, _opaque: object) -> int:
        nonlocal received
        received += len(data)
        if received > MAX_SCREENSHOT_BYTES:
            return -1  # makes recvAll fail: the stream is aborted below
        chunks.append(data)
        return 0

    try:
        mime = dom.screenshot(stream, screen, 0) or ""
        stream.recvAll(take, None)
        stream.finish()
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            _domains.get(conn, {}).pop(uuid, None)
        try:
            stream.abort()
        except libvirt.libvirtError:
            pass
        if received > MAX_SCREENSHOT_BYTES:
            raise _TooBig from None
        raise
    data = b"".join(chunks)
    if data == same:
        return mime, data, None  # unchanged: nothing to decode
    try:
        image = Image.open(io.BytesIO(data))
        image.load()  # decode here, in the worker thread, not on the loop
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise _Undecodable(mime or "no type", str(exc) or type(exc).__name__) from None
    return mime, data, image if image.mode == "RGB" else image.convert("RGB")


def _screenshot_error(exc: libvirt.libvirtError, host: str, guest: str, screen: int) -> VtuiError:
    code, text = exc.get_error_code(), libvirt_message(exc)
    if code == libvirt.VIR_ERR_NO_DOMAIN:
        return VtuiError("no longer exists on this host", host=host, guest=guest)
    if code == libvirt.VIR_ERR_OPERATION_INVALID and "not running" in text:
        return DisplayNotRunning(
            "is not running: start it to see its screen", host=host, guest=guest
        )
    if "no screens" in text:
        return NoDisplay(
            "has no video device: nothing draws its screen (add a video device, e.g. VGA "
            "or virtio)",
            host=host,
            guest=guest,
        )
    if "No screen with index" in text or "screen ID" in text:
        return VtuiError(f"has no screen {screen}", host=host, guest=guest)
    if code == libvirt.VIR_ERR_OPERATION_DENIED:
        return VtuiError(f"screenshot refused: {text}", host=host, guest=guest)
    return VtuiError(f"cannot take a screenshot: {text}", host=host, guest=guest)
