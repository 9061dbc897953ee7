"""A guest's screen through the core: devices, screenshots, send-key and the viewer's
forwarded port, against the lab's real libvirtd and TCG guests with a VGA card and
VNC graphics (and over vtui's own SSH tunnel to the remote lab host)."""

from __future__ import annotations

import asyncio
import io
import secrets

import libvirt
import pytest
from PIL import Image

from tests.lab.console import SerialConsole
from tests.lab.images import READY_LINE
from tests.support import guest_on
from vtui.core.errors import VtuiError
from vtui.core.fleet import Fleet
from vtui.core.guests.graphics import (
    DisplayNotRunning,
    NoDisplay,
    display_info,
    parse_display,
    screenshot,
)
from vtui.core.guests.graphics_keys import (
    COMBOS,
    KeySender,
    char_chord,
    chord,
    parse_chord,
    send_chords,
    sysrq_chord,
    text_chords,
    type_text,
)
from vtui.core.guests.graphics_viewer import open_forward, open_viewer, viewer_command
from vtui.core.host import Host
from vtui.core.host.events import ensure_event_loop
from vtui.core.uri import demo_uri

VGA_TEXT_MODE = (720, 400)  # what QEMU's VGA shows for an 80x25 text console


# -- plain data -------------------------------------------------------------------------
def test_graphics_and_video_devices_from_xml():
    xml = """<domain><devices>
      <graphics type='vnc' port='5901' autoport='yes' listen='0.0.0.0' passwd='s3cret'>
        <listen type='address' address='0.0.0.0'/></graphics>
      <graphics type='spice' port='-1' tlsPort='5902' autoport='no'>
        <listen type='network' network='default' address='192.0.2.1'/></graphics>
      <graphics type='vnc'><listen type='socket' socket='/run/vnc.sock'/></graphics>
      <graphics type='egl-headless'/>
      <video><model type='vga' vram='16384'/></video>
      <video><model type='none'/></video>
    </devices></domain>"""
    info = parse_display(xml, secure=True)
    vnc, spice, sock, egl = info.graphics
    assert (vnc.type, vnc.port, vnc.listen, vnc.autoport, vnc.password) == (
        "vnc",
        5901,
        "0.0.0.0",
        True,
        True,
    )
    assert vnc.label == "VNC on 0.0.0.0:5901 (autoport, password set)"
    assert (spice.port, spice.tls_port, spice.listen, spice.password) == (
        None,
        5902,
        "192.0.2.1",
        False,
    )
    assert sock.socket == "/run/vnc.sock" and sock.reachable and sock.port is None
    assert not egl.reachable
    assert info.videos == ("vga",) and info.no_display_reason is None
    assert info.viewer_device is vnc and not info.running
    assert parse_display(xml.replace("<domain>", "<domain id='7'>")).running
    assert parse_display(xml).graphics[0].password is None  # not the secure XML: unknown
    headless = parse_display(
        "<domain><devices><video><model type='none'/></video></devices></domain>"
    )
    assert "has no display" in headless.no_display_reason
    assert headless.viewer_device is None


def test_keys_and_text_become_evdev_chords():
    assert char_chord("a") == (30,)
    assert char_chord("A") == (42, 30)  # shift, a
    assert char_chord(">") == (42, 52)  # shift, dot
    assert char_chord("c", ["ctrl"]) == (29, 46)
    assert char_chord("é") is None
    assert parse_chord("ctrl+alt+f2") == (29, 56, 60)
    assert chord(COMBOS["ctrl+alt+delete"][1][0], "alt", "delete") == (29, 56, 111)
    assert [COMBOS[f"ctrl+alt+f{n}"][1][2] for n in (1, 12)] == ["f1", "f12"]
    assert sysrq_chord("b") == (56, 99, 48)
    typed = text_chords("ls -l /\n")
    assert typed.chords == ((38,), (31,), (57,), (12,), (38,), (57,), (53,), (28,))
    assert typed.untypable == ()
    bad = text_chords("naïve café\u00a0!")
    assert bad.untypable == ("ï", "é", "\u00a0")
    assert len(bad.chords) == len("naïve café !") - 3
    with pytest.raises(VtuiError, match="unknown key 'hyper'"):
        chord("ctrl", "hyper")
    with pytest.raises(VtuiError, match="no SysRq command"):
        sysrq_chord("!")


async def test_demo_guest_screenshot_unchanged_and_nothing_to_forward():
    host = Host(demo_uri(), interval=60)  # libvirt's test driver draws a fixed screen
    await host.connect()
    try:
        guest = host.find("win2022-ad")
        first = await screenshot(host, guest.uuid)
        assert first.image.width > 100 and first.png().startswith(b"\x89PNG")
        assert await screenshot(host, guest.uuid, previous=first) is first  # not decoded again
        info = await display_info(host, guest.uuid)
        assert info.running and info.videos == ("qxl",) and info.viewer_device is None
        with pytest.raises(
            VtuiError, match=r"a viewer can connect to \(it has VNC \(not listening"
        ):
            await open_forward(host, guest.uuid)
    finally:
        await host.close()


# -- a real guest with a screen ------------------------------------------------------------
@pytest.fixture
async def host(local_host):
    h = Host(local_host.uri, interval=60)
    await h.connect()
    yield h
    await h.close()


def serial_of(lab_host, name: str) -> tuple[libvirt.virConnect, SerialConsole]:
    ensure_event_loop()  # libvirt drives streams of connections opened after this
    conn = libvirt.open(lab_host.uri)
    return conn, SerialConsole(conn, conn.lookupByName(name))


async def booted(lab_host, name: str) -> tuple[libvirt.virConnect, SerialConsole]:
    """The guest's serial console once its shells run (on ttyS0 and on tty1)."""
    conn, console = await asyncio.to_thread(serial_of, lab_host, name)
    await asyncio.to_thread(console.expect, READY_LINE, 60)
    await asyncio.to_thread(console.expect, "/ # ", 30)
    return conn, console


def assert_a_real_screen(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == VGA_TEXT_MODE
    colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 1, "the screen is one colour"
    return image


async def test_screenshot_and_keys_of_a_booted_guest(host, make_guest, local_host):
    name = make_guest(local_host, display="vnc")
    guest = await guest_on(host, name)
    conn, console = await booted(local_host, name)
    try:
        info = await display_info(host, guest.uuid)
        (vnc,) = info.graphics
        assert (vnc.type, vnc.listen, vnc.autoport, vnc.password) == (
            "vnc",
            "127.0.0.1",
            True,
            False,
        )
        assert vnc.port is not None and vnc.port >= 5900 and info.videos == ("vga",)
        assert info.running and info.viewer_device is vnc
        shot = await screenshot(host, guest.uuid)
        assert shot.size == VGA_TEXT_MODE and shot.image.mode == "RGB"
        assert_a_real_screen(shot.png())

        # keys typed on the guest's keyboard reach the shell on tty1, which writes
        # to the serial port: the marker proves every key arrived, in order
        marker = f"vtui-{secrets.token_hex(3)}-Keys"
        mark = len(console.buf)
        assert await type_text(host, guest.uuid, f"echo {marker} > /dev/ttyS0\n") > 20
        await asyncio.to_thread(console.expect, marker, 20, mark)

        sender = KeySender(host, guest.uuid)
        errors: list[VtuiError] = []
        sender.on_error = errors.append
        second = f"two-{secrets.token_hex(3)}"
        mark = len(console.buf)
        for char in f"echo {second}>/dev/ttyS0":  # one chord at a time, as keys come
            sender.send([char_chord(char)])
        sender.send([chord("enter")])
        await asyncio.to_thread(console.expect, second, 20, mark)
        assert errors == [] and sender.pending == 0
        await sender.close()

        with pytest.raises(VtuiError, match="cannot type 'é' with a US keyboard layout"):
            await type_text(host, guest.uuid, "café")
        after = await screenshot(host, guest.uuid)  # what was typed shows on the screen
        assert after.image.tobytes() != shot.image.tobytes()
    finally:
        console.close()
        conn.close()


async def test_guest_without_display_or_not_running_says_so(host, make_guest, local_host):
    bare = await guest_on(host, make_guest(local_host, paused=True))
    info = await display_info(host, bare.uuid)
    assert info.graphics == () and info.videos == ()
    assert info.no_display_reason.startswith("has no display (no video device")
    with pytest.raises(NoDisplay, match="has no video device") as err:
        await screenshot(host, bare.uuid)
    assert "\n" not in str(err.value) and bare.name in str(err.value)
    with pytest.raises(VtuiError, match="has no VNC or SPICE graphics for a viewer"):
        await open_forward(host, bare.uuid)
    off = await guest_on(host, make_guest(local_host, start=False, display="vnc"))
    with pytest.raises(DisplayNotRunning, match="is not running: start it"):
        await screenshot(host, off.uuid)
    with pytest.raises(VtuiError, match="is not running: keys cannot be sent"):
        await send_chords(host, off.uuid, [chord("enter")])
    with pytest.raises(VtuiError, match="is not running"):
        await open_forward(host, off.uuid)


async def test_read_only_connection_refuses_screenshots_and_keys(local_host, make_guest):
    name = make_guest(local_host, paused=True, display="vnc")
    ro = Host(local_host.uri, readonly=True, interval=60)
    await ro.connect()
    try:
        guest = await guest_on(ro, name)
        with pytest.raises(VtuiError, match="read-only"):
            await screenshot(ro, guest.uuid)
        with pytest.raises(VtuiError, match="read-only"):
            await send_chords(ro, guest.uuid, [chord("a")])
        assert (await display_info(ro, guest.uuid)).graphics[0].password is None
    finally:
        await ro.close()


async def rfb_greeting(host: str, port: int) -> bytes:
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 5)
    try:
        return await asyncio.wait_for(reader.readexactly(12), 5)
    finally:
        writer.close()


async def test_local_unix_socket_is_forwarded_to_a_tcp_port(host, make_guest, local_host, tmp_path):
    socket_path = tmp_path / "vnc.sock"  # outside the lab host's private dirs: visible here
    guest = await guest_on(host, make_guest(local_host, paused=True, display=f"vnc:{socket_path}"))
    session = await open_viewer(host, guest.uuid, command="")  # no viewer: address only
    forward = session.forward
    assert session.process is None and forward.forwarded and forward.host == "127.0.0.1"
    assert (await rfb_greeting(forward.host, forward.port)).startswith(b"RFB 003.00")
    await session.close()
    with pytest.raises(OSError):
        await rfb_greeting(forward.host, forward.port)


def test_viewer_command_fills_in_the_forwarded_address(monkeypatch):
    from vtui.core.guests.graphics_viewer import Forward

    forward = Forward("127.0.0.1", 41234, "vnc")
    assert viewer_command(forward, "myviewer --at {host}:{port} -p {protocol}") == [
        "myviewer",
        "--at",
        "127.0.0.1:41234",
        "-p",
        "vnc",
    ]
    assert viewer_command(forward, "xdg-open") == ["xdg-open", "vnc://127.0.0.1:41234"]
    monkeypatch.delenv("VTUI_VIEWER", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert viewer_command(forward) is None  # no window to open: the user's own client
    monkeypatch.setenv("VTUI_VIEWER", "tigervnc {host}::{port}")
    assert viewer_command(forward) == ["tigervnc", "127.0.0.1::41234"]


# -- through vtui's SSH tunnel to the remote lab host ---------------------------------------------
@pytest.mark.usefixtures("private_home")
async def test_screenshot_and_viewer_port_through_the_ssh_tunnel(lab, make_guest, tmp_path):
    from vtui.core.fleet.targets import add_target

    name = make_guest(lab["b"], display="vnc")
    fleet = Fleet(interval=60)
    remote = add_target(fleet, "lab-b", ssh_config=lab.ssh_config)
    try:
        assert await fleet.connect_all() == []
        guest = await guest_on(remote, name)
        conn, console = await booted(lab["b"], name)
        console.close()
        conn.close()
        shot = await screenshot(remote, guest.uuid)
        assert_a_real_screen(shot.png())

        # the viewer: a configured command that stands in for a VNC client, reading
        # the server's greeting through the forwarded port and exiting
        out = tmp_path / "greeting"
        client = (
            f"python3 -c 'import socket,sys; s=socket.create_connection((sys.argv[1], "
            f'int(sys.argv[2]))); open(sys.argv[3], "wb").write(s.recv(12))\' '
            f"{{host}} {{port}} {out}"
        )
        exited: list[str] = []
        session = await open_viewer(remote, guest.uuid, command=client)
        session.on_exit = exited.append
        forward = session.forward
        assert forward.forwarded and forward.host == "127.0.0.1" and forward.port > 0
        await asyncio.wait_for(session._watcher, 15)  # the port closes when the viewer exits
        assert out.read_bytes().startswith(b"RFB 003.00")
        assert exited and "closed" in exited[0] and forward.closed
        with pytest.raises(OSError):
            await rfb_greeting(forward.host, forward.port)

        # without a viewer the port stays open for the user's own client until released
        session = await open_viewer(remote, guest.uuid, command="")
        assert session.process is None
        assert (await rfb_greeting(session.forward.host, session.forward.port)).startswith(
            b"RFB 003.00"
        )
        await session.close()
        with pytest.raises(OSError):
            await rfb_greeting(session.forward.host, session.forward.port)
    finally:
        await fleet.close()
