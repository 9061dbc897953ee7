"""The peek screen: keys to chords, drawing frames, the menu, a snapshot with a fixed
picture, and the real thing on a lab guest with a VGA card (keys typed in the peek
reach the guest's tty1 shell, which writes to the serial port)."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from PIL import Image, ImageDraw

from tests.test_graphics_core import VGA_TEXT_MODE, booted
from tests.ui.helpers import demo_app, notifications, select, wait_for, wait_loaded
from vtui.app import VtuiApp
from vtui.core.fleet import Fleet
from vtui.core.guests.graphics_keys import chord
from vtui.screens.dialogs import ChoiceScreen, ConfirmScreen
from vtui.screens.peek import PeekScreen, open_peek
from vtui.screens.peek.frames import UPPER_HALF, fit, halfblock_frame, picture_frame
from vtui.screens.peek.terminal import modes_from_answer
from vtui.screens.peek.type_text import TypeTextScreen
from vtui.screens.peek.view import GuestView, Untypable, key_chord

ESCAPE = "ctrl+right_square_bracket"
MENU = "ctrl+backslash"


def test_picture_protocol_from_the_terminals_answers():
    kitty = b"\x1b_Gi=4242;OK\x1b\\\x1b[?62;22c"
    assert modes_from_answer(kitty) == "kitty"
    assert modes_from_answer(b"\x1b[?62;4;22c") == "sixel"  # 4: Sixel graphics
    assert modes_from_answer(b"\x1b[?1;2c") == "halfblock"
    assert modes_from_answer(b"") == "halfblock"  # no answer at all


@pytest.mark.parametrize(
    ("key", "character", "codes"),
    [
        ("a", "a", (30,)),
        ("A", "A", (42, 30)),
        ("exclamation_mark", "!", (42, 2)),
        ("greater_than_sign", ">", (42, 52)),
        ("slash", "/", (53,)),
        ("space", " ", (57,)),
        ("enter", "\r", (28,)),
        ("escape", "\x1b", (1,)),
        ("tab", "\t", (15,)),
        ("shift+tab", None, (42, 15)),
        ("backspace", "\x7f", (14,)),
        ("up", None, (103,)),
        ("ctrl+left", None, (29, 105)),
        ("pagedown", None, (109,)),
        ("delete", None, (111,)),
        ("f1", None, (59,)),
        ("f12", None, (88,)),
        ("ctrl+c", "\x03", (29, 46)),
        ("ctrl+q", "\x11", (29, 16)),
        ("alt+x", "x", (56, 45)),
        ("ctrl+alt+delete", None, (29, 56, 111)),
        ("ctrl+minus", None, (29, 12)),
    ],
)
def test_textual_keys_become_send_key_chords(key, character, codes):
    assert key_chord(key, character) == codes


def test_keys_a_us_keyboard_lacks_are_reported():
    with pytest.raises(Untypable, match="é"):
        key_chord("é", "é")
    assert key_chord("shift", None) is None  # a lone modifier sends nothing


def test_frames_keep_the_aspect_ratio():
    assert fit(1024, 768, 80, 48) == (64, 48)
    assert fit(720, 400, 200, 40) == (72, 40)
    image = Image.new("RGB", (720, 400), (0, 0, 170))
    frame = halfblock_frame(image, 100, 30)
    assert len(frame.strips) == 30 and {s.cell_length for s in frame.strips} == {100}
    drawn = "".join(seg.text for seg in frame.strips[15])
    assert drawn.strip() == UPPER_HALF * 100  # 720x400 at 100x60 half-pixels: full width
    narrow = halfblock_frame(Image.new("RGB", (400, 400)), 100, 30)
    text = "".join(seg.text for seg in narrow.strips[10])
    assert text.count(UPPER_HALF) == 60 and text.startswith(" " * 20)  # centred
    picture = picture_frame(Image.new("RGB", (1024, 768)), 80, 24, (10, 20))
    assert picture.picture.size == (640, 480) and picture.picture_cells == (64, 24)


def fixed_picture() -> Image.Image:
    """A deterministic 'screen': no fonts, so Pillow versions draw it alike."""
    image = Image.new("RGB", (640, 400), (0, 0, 96))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 639, 24), fill=(200, 200, 200))
    draw.rectangle((40, 60, 300, 340), fill=(0, 120, 0), outline=(255, 255, 0), width=6)
    draw.ellipse((360, 80, 600, 320), fill=(180, 30, 30))
    for x in range(0, 640, 40):
        draw.line((x, 380, x + 20, 399), fill=(255, 255, 255), width=4)
    return image


async def grab_fixed() -> Image.Image:
    return fixed_picture()


async def peek_on_demo(app: VtuiApp, pilot, name: str = "win2022-ad", **options) -> PeekScreen:
    await wait_loaded(app, pilot)
    host = app.fleet.hosts["demo"]
    screen = open_peek(app, host, host.find(name), **options)
    await wait_for(lambda: screen.frames >= 1 or screen.status != "connecting", pilot)
    return screen


def test_snapshot_of_the_peek_screen(snap_compare):
    app = demo_app()

    async def shown(pilot):
        screen = await peek_on_demo(app, pilot, grab=grab_fixed, interval=60, mode="halfblock")
        for host in app.fleet.hosts.values():
            host.paused = True
        await wait_for(lambda: screen.frames >= 1, pilot)
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(80, 24), run_before=shown)


async def test_peek_draws_half_blocks_and_stops_while_hidden():
    app = demo_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await peek_on_demo(app, pilot, grab=grab_fixed, interval=0.2, mode="halfblock")
        view = screen.query_one(GuestView)
        assert screen.status == "live" and view.has_focus
        strips = view.query_one("#picture").strips
        assert len(strips) == view.cells[1]
        colours = {seg.style.bgcolor.triplet for strip in strips for seg in strip if seg.style}
        assert len(colours) >= 4  # blue, grey, green, red... not one colour
        title = str(screen.query_one("#peek-title").render())
        assert "win2022-ad on demo · 640x400 · live · every 0.2 s" in title
        await wait_for(lambda: screen.frames >= 3, pilot)  # it refreshes while shown

        await pilot.press(MENU)  # a menu over it: hidden, no pictures taken
        await wait_for(lambda: isinstance(app.screen, ChoiceScreen), pilot)
        frames = screen.frames
        await pilot.pause(0.8)
        assert screen.frames == frames
        await pilot.press("escape")
        await wait_for(lambda: screen.frames > frames, pilot)  # shown again: refreshing again

        await pilot.resize_terminal(60, 20)  # scaled to the new size, same picture
        await wait_for(lambda: len(view.query_one("#picture").strips) == view.cells[1], pilot)

        await pilot.press(ESCAPE)
        assert app.screen is app.fleet_screen
        frames = screen.frames
        await pilot.pause(0.6)
        assert screen.frames == frames  # gone: no more pictures


async def test_peek_reasons_and_guards_on_the_demo_host():
    app = demo_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await peek_on_demo(app, pilot, name="web-02")
        await wait_for(lambda: screen.status == "no display", pilot)
        message = screen.query_one(GuestView).message
        assert message == (
            "web-02 has no display (no video device and no VNC or SPICE graphics): "
            "it has only a text console"
        )
        await pilot.press(ESCAPE)
        stopped = await peek_on_demo(app, pilot, name="win2019-build")  # VNC, shut off
        await wait_for(lambda: stopped.status == "not running", pilot)
        assert stopped.view.message == "win2019-build is shut off; the screen shows when it runs"
        await pilot.press(ESCAPE)
        # the table's g and the palette open it
        select(app, "win2022-ad")
        await pilot.press("g")
        await wait_for(lambda: isinstance(app.screen, PeekScreen), pilot)
        await wait_for(lambda: app.screen.frames >= 1, pilot)  # the test driver's picture
        assert app.screen.image.size == (1120, 832)
        await pilot.press(MENU)  # the full viewer: the demo's VNC listens nowhere
        await wait_for(lambda: isinstance(app.screen, ChoiceScreen), pilot)
        await pilot.press(*["down"] * 5, "enter")
        await wait_for(lambda: any("not listening" in n for n in notifications(app)), pilot)
        await pilot.press(ESCAPE)
        titles = [c.title for c in app.get_system_commands(app.fleet_screen)]
        assert "Screen of win2022-ad" in titles

    readonly = demo_app(readonly=True)
    async with readonly.run_test(size=(100, 30)) as pilot:
        await wait_loaded(readonly, pilot)
        select(readonly, "win2022-ad")
        await pilot.press("g")
        await wait_for(lambda: notifications(readonly), pilot)
        assert "read-only" in notifications(readonly)[-1]
        assert readonly.screen is readonly.fleet_screen


@pytest.mark.parametrize("mode", ["kitty", "sixel"])
async def test_peek_with_terminal_pictures(mode):
    app = demo_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await peek_on_demo(app, pilot, grab=grab_fixed, interval=60, mode=mode)
        picture = screen.query_one("#picture")
        await wait_for(lambda: screen.frames >= 1, pilot)
        assert picture.image is not None and picture.image.size[0] <= 100 * 10
        assert screen.status == "live"


class SentKeys:
    """Stands in for the KeySender in the menu test (the lab test sends for real)."""

    def __init__(self):
        self.chords: list[tuple[int, ...]] = []

    def send(self, chords):
        self.chords.extend(chords)

    async def close(self):
        pass


async def test_menu_sends_combinations_and_types_text():
    app = demo_app()
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await peek_on_demo(app, pilot, grab=grab_fixed, interval=60, mode="halfblock")
        sent = screen.keys = SentKeys()

        async def menu(*keys: str) -> None:
            await pilot.press(MENU)
            await wait_for(lambda: isinstance(app.screen, ChoiceScreen), pilot)
            await pilot.press(*keys)

        await menu("down", "enter")  # Ctrl+Alt+Del
        assert sent.chords == [(29, 56, 111)]
        await menu("down", "down", "enter")
        await wait_for(lambda: isinstance(app.screen, ChoiceScreen), pilot)
        await pilot.press("down", "enter")  # the second: Ctrl+Alt+F2
        assert sent.chords[-1] == chord("ctrl", "alt", "f2")
        await menu("down", "down", "down", "enter")  # SysRq...
        await wait_for(lambda: isinstance(app.screen, ChoiceScreen), pilot)
        await pilot.press("down", "down", "down", "enter")  # b: reboot at once, asked first
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        assert sent.chords[-1] == chord("ctrl", "alt", "f2")  # nothing sent before the answer
        await pilot.press("y")
        assert sent.chords[-1] == (56, 99, 48)
        await menu("down", "down", "down", "down", "enter")  # type text
        await wait_for(lambda: isinstance(app.screen, TypeTextScreen), pilot)
        await pilot.press(*"Hi!", "enter")
        assert sent.chords[-3:] == [(42, 35), (23,), (42, 2)]
        count = len(sent.chords)
        screen.type_text("café")  # a paste with a character a US layout lacks: asked
        await wait_for(lambda: app.screen.query("#body"), pilot)
        assert "'é' cannot be typed" in str(app.screen.query_one("#body").render())
        await pilot.press("y")
        assert sent.chords[count:] == [(46,), (30,), (33,)]
        await pilot.press("ctrl+q", "ctrl+p")  # the app's keys belong to the guest here
        assert sent.chords[-2:] == [(29, 16), (29, 25)] and app.is_running


# -- the real thing: a lab guest with a VGA card ----------------------------------------------------
async def test_peek_on_a_lab_guest_shows_its_screen_and_types_into_it(local_host, make_guest):
    name = make_guest(local_host, display="vnc")
    conn, console = await booted(local_host, name)
    fleet = Fleet(interval=2.0)
    fleet.add(local_host.uri, name="lab-a")
    app = VtuiApp(fleet)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(lambda: fleet.hosts["lab-a"].find(name) is not None, pilot)
            host = fleet.hosts["lab-a"]
            table = app.fleet_screen.table
            await wait_for(lambda: (host.name, host.find(name).uuid) in table.order, pilot)
            table.select((host.name, host.find(name).uuid))
            await pilot.press("g")
            await wait_for(lambda: isinstance(app.screen, PeekScreen), pilot)
            screen = app.screen
            await wait_for(lambda: screen.frames >= 1, pilot, timeout=30)
            assert screen.image.size == VGA_TEXT_MODE and screen.mode == "halfblock"
            view = screen.query_one(GuestView)
            colours = {
                seg.style.color.triplet
                for strip in view.query_one("#picture").strips
                for seg in strip
                if seg.style and seg.style.color
            }
            assert len(colours) > 1  # text on the guest's console, not a blank screen

            marker = f"vtui-peek-{secrets.token_hex(3)}"
            mark = len(console.buf)
            await pilot.press(*f"echo {marker} >/dev/ttyS0", "enter")
            await asyncio.to_thread(console.expect, marker, 20, mark)

            await pilot.press(MENU)  # type text, through the dialog
            await wait_for(lambda: isinstance(app.screen, ChoiceScreen), pilot)
            await pilot.press("down", "down", "down", "down", "enter")
            await wait_for(lambda: isinstance(app.screen, TypeTextScreen), pilot)
            typed = f"Typed-{secrets.token_hex(3)}"
            mark = len(console.buf)
            await pilot.press(*f"echo {typed} >/dev/ttyS0", "tab", "space", "shift+tab", "enter")
            await asyncio.to_thread(console.expect, typed, 20, mark)
            frames = screen.frames
            await wait_for(lambda: screen.frames > frames, pilot)  # pictures follow the keys
            await pilot.press(ESCAPE)
            assert app.screen is app.fleet_screen
    finally:
        console.close()
        conn.close()
