"""A guest's screen inside the terminal, and its keyboard: every key goes to the guest
but two.

    Ctrl+]   back to vtui
    Ctrl+\\   menu: Ctrl+Alt+Del, Ctrl+Alt+F1..F12, SysRq, type text, full viewer,
             refresh interval, send Ctrl+] or Ctrl+\\ to the guest

The picture is libvirt's screenshot, taken every second (configurable) while the
screen is shown and never while it is hidden; keys arrive through send-key, and a
picture follows soon after them so typing shows. Works through vtui's SSH tunnel.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from PIL import Image
from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker

from vtui.core.errors import VtuiError
from vtui.core.guests.graphics import (
    DisplayInfo,
    DisplayNotRunning,
    NoDisplay,
    Screenshot,
    display_info,
    screenshot,
)
from vtui.core.guests.graphics_keys import KeySender, chord
from vtui.core.host import Host, HostStatus
from vtui.core.model import Guest
from vtui.screens.peek import menu
from vtui.screens.peek.frames import DEFAULT_CELL, make_frame
from vtui.screens.peek.terminal import graphics_mode
from vtui.screens.peek.view import GuestView
from vtui.widgets.keys import bound_keys, key_label

ESCAPE_KEY = "ctrl+right_square_bracket"  # as the serial console: Ctrl+] leaves
MENU_KEY = "ctrl+backslash"
KEYS_HINT = "Ctrl+] back · Ctrl+\\ menu"
DEFAULT_INTERVAL = 1.0
AFTER_KEYS = 0.2  # seconds after keys were sent before the next picture: typing shows

Grab = Callable[[], Awaitable[Image.Image | None]]


def open_peek(app: App, host: Host, guest: Guest, **options) -> PeekScreen:
    """Show the guest's screen. Raises VtuiError for a read-only connection."""
    if host.readonly:
        raise VtuiError(
            "cannot show the screen: the connection is read-only (libvirt allows "
            "screenshots only with write access)",
            host=host.name,
            guest=guest.name,
        )
    screen = PeekScreen(host, guest, **options)
    app.push_screen(screen)
    return screen


class PeekScreen(Screen):
    DEFAULT_CSS = """
    PeekScreen { layout: vertical; }
    PeekScreen > #peek-header { height: 1; background: $boost; }
    PeekScreen #peek-title { width: 1fr; padding: 0 1; text-wrap: nowrap;
        text-overflow: ellipsis; }
    PeekScreen #peek-title.-problem { color: $warning; }
    PeekScreen #peek-keys { width: auto; padding: 0 1; color: $text-muted; }
    PeekScreen > GuestView { height: 1fr; }
    """
    BINDINGS = [
        Binding(ESCAPE_KEY, "leave", "Back to vtui", id="peek.leave"),
        Binding(MENU_KEY, "menu", "Display menu", id="peek.menu"),
    ]

    def __init__(
        self,
        host: Host,
        guest: Guest,
        *,
        interval: float = DEFAULT_INTERVAL,
        mode: str | None = None,
        grab: Grab | None = None,
        viewer_command: str | None = None,
    ):
        """interval: seconds between pictures (0: only after keys and on request);
        mode: kitty, sixel or halfblock (default: what the terminal speaks); grab: where
        pictures come from (default: libvirt's screenshot of the guest); viewer_command:
        the full viewer (default $VTUI_VIEWER, else remote-viewer or vncviewer)."""
        super().__init__()
        self.host = host
        self.uuid = guest.uuid
        self.guest_name = guest.name
        self.interval = interval
        self.mode = mode or graphics_mode()
        self.viewer_command = viewer_command
        self.info: DisplayInfo | None = None
        self.image: Image.Image | None = None  # the last picture, redrawn on resize
        self.status = "connecting"
        self.frames = 0  # pictures drawn
        self.refreshes = 0  # pictures taken (an unchanged one is not drawn again)
        self._shot: Screenshot | None = None  # the last one libvirt sent
        self.refresh_seconds: float | None = None  # request to drawn, last picture
        self.keys = KeySender(host, guest.uuid)
        self.keys.on_error = self._keys_failed
        self.keys.on_sent = self._soon
        self._grab = grab
        self._wake = asyncio.Event()
        self._refresher: Worker | None = None
        self._stopped = False  # nothing to show, ever (no video device)
        self._title = ""
        self._key_error, self._key_error_at = "", 0.0

    def compose(self) -> ComposeResult:
        with Horizontal(id="peek-header"):
            yield Static(id="peek-title")
            yield Static(KEYS_HINT, id="peek-keys")
        yield GuestView(
            self.mode,
            on_chord=self.send_chord,
            on_paste=self.type_text,
            on_untypable=self._untypable,
            reserved_keys=(ESCAPE_KEY, MENU_KEY),
            id="display",
        )

    @property
    def view(self) -> GuestView:
        return self.query_one(GuestView)

    def on_mount(self) -> None:
        # the keys that leave the guest's screen follow the user's keymap (settings.toml)
        leave = bound_keys(self.app, "peek.leave", ESCAPE_KEY)
        menu = bound_keys(self.app, "peek.menu", MENU_KEY)
        self.view.reserved_keys = {*leave, *menu}
        hint = f"{key_label(leave[0])} back · {key_label(menu[0])} menu"
        self.query_one("#peek-keys", Static).update(Content(hint))
        self._show_status("connecting")
        self.view.focus()

    # -- refreshing while shown ------------------------------------------------------------
    def on_screen_resume(self) -> None:
        self.view.focus()
        if not self._stopped and (self._refresher is None or self._refresher.is_finished):
            # the method, not a coroutine: a worker cancelled before it starts leaves none behind
            self._refresher = self.run_worker(self._refresh, group="peek", exit_on_error=False)

    def on_screen_suspend(self) -> None:
        self._stop_refreshing()

    async def on_unmount(self) -> None:
        self._stop_refreshing()
        await self.keys.close()

    def _stop_refreshing(self) -> None:
        worker, self._refresher = self._refresher, None
        if worker is not None:
            worker.cancel()

    def _soon(self, delay: float = AFTER_KEYS) -> None:
        """Take the next picture after `delay` instead of the full interval."""
        asyncio.get_running_loop().call_later(delay, self._wake.set)

    async def _pause(self) -> None:
        try:
            if self.interval > 0:
                await asyncio.wait_for(self._wake.wait(), self.interval)
            else:
                await self._wake.wait()
        except TimeoutError:
            pass
        self._wake.clear()

    async def _refresh(self) -> None:
        if self._grab is None and self.info is None and not await self._read_devices():
            return
        while True:
            guest = self.host.guests.get(self.uuid)
            if self.host.status is not HostStatus.CONNECTED:
                self._problem(
                    f"connection to {self.host.name} lost; the screen comes back with it",
                    "host lost",
                )
            elif guest is not None and not guest.active:  # kept current by lifecycle events
                self._problem(
                    f"{self.guest_name} is {guest.state}; the screen shows when it runs",
                    "not running",
                )
            else:
                began = time.monotonic()
                try:
                    image = await self.grab()
                except NoDisplay as exc:
                    self._stopped = True
                    self._problem(str(exc), "no display")
                    return
                except DisplayNotRunning as exc:
                    self._problem(f"{exc}; the screen shows when it runs", "not running")
                except VtuiError as exc:
                    self._problem(str(exc), "error")
                else:
                    if image is not None:
                        await self._draw(image)
                    self.refreshes += 1
                    self.refresh_seconds = time.monotonic() - began
            await self._pause()

    async def grab(self) -> Image.Image | None:
        """The guest's picture now, or None when it is the one drawn last."""
        if self._grab is not None:
            return await self._grab()
        shot = await screenshot(self.host, self.uuid, previous=self._shot)
        if shot is self._shot:
            return None
        self._shot = shot
        return shot.image

    async def _read_devices(self) -> bool:
        try:
            self.info = await display_info(self.host, self.uuid)
        except VtuiError as exc:
            self._problem(f"{exc}; Ctrl+\\ menu: refresh to try again", "error")
            return False
        reason = self.info.no_display_reason
        if reason:
            self._stopped = True
            self._problem(f"{self.guest_name} {reason}", "no display")
            return False
        return True

    async def _draw(self, image: Image.Image) -> None:
        columns, rows = self.view.cells
        if columns < 2 or rows < 1:
            return
        cell = DEFAULT_CELL
        if self.mode != "halfblock":
            from textual_image._terminal import get_cell_size

            cell = tuple(get_cell_size())  # type: ignore[assignment]
        frame = await asyncio.to_thread(make_frame, image, columns, rows, self.mode, cell)
        self.image = image
        self.frames += 1
        self.view.show_frame(frame)
        self._show_status("live")

    def on_resize(self, _event: events.Resize) -> None:
        if self.image is not None and not self._stopped:
            self.run_worker(self._redraw, group="peek-redraw", exclusive=True)

    async def _redraw(self) -> None:
        """The last picture again, at the view's new size."""
        if self.image is not None:
            await self._draw(self.image)

    def refresh_now(self) -> None:
        if self._stopped:
            self._stopped = False
            self.info = None
        if self._refresher is None or self._refresher.is_finished:
            self.on_screen_resume()
        self._wake.set()

    # -- keys ---------------------------------------------------------------------------------
    def send_chord(self, keys: tuple[int, ...]) -> None:
        self.keys.send([keys])

    def send_keys(self, *names: str) -> None:
        self.keys.send([chord(*names)])

    def type_text(self, text: str) -> None:
        menu.type_text(self, text)

    def _keys_failed(self, exc: VtuiError) -> None:
        # typing on into a stopped guest must not stack one notice per key
        now = time.monotonic()
        if str(exc) == self._key_error and now - self._key_error_at < 5:
            return
        self._key_error, self._key_error_at = str(exc), now
        self.notify(str(exc), severity="error", timeout=6, markup=False)

    def _untypable(self, char: str) -> None:
        self.notify(
            f"cannot type {char!r} with a US keyboard layout: not sent",
            severity="warning",
            timeout=4,
            markup=False,
        )

    # -- actions --------------------------------------------------------------------------------
    def action_leave(self) -> None:
        if self.app.screen is self:
            self.app.pop_screen()

    def action_menu(self) -> None:
        menu.show(self)

    # -- showing --------------------------------------------------------------------------------
    def _problem(self, text: str, status: str) -> None:
        self._shot = None  # the next picture is drawn, even if it did not change
        self.view.show_message(text)
        self._show_status(status)

    def _show_status(self, status: str) -> None:
        self.status = status
        parts = [f"{self.guest_name} on {self.host.name}"]
        if self.image is not None and status == "live":
            parts.append("{}x{}".format(*self.image.size))
        parts.append(status)
        parts.append(f"every {self.interval:g} s" if self.interval > 0 else "after keys")
        text = " · ".join(parts)
        title = self.query_one("#peek-title", Static)
        if text != self._title:  # an unchanged title costs no layout
            self._title = text
            title.update(Text(text))
        title.set_class(status != "live", "-problem")
