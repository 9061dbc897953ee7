"""A VT100/xterm terminal widget: pyte keeps the screen, Textual draws it.

The widget knows nothing of libvirt. Feed it the bytes a guest prints with `feed()`;
it calls the `send` callable it was given with the bytes of every key pressed (and of
the answers pyte gives to terminal queries such as the cursor position report, which
is how programs on a serial line learn the terminal size). Only the lines pyte marks
dirty are rebuilt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

import pyte
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

ESCAPE_KEY = "ctrl+right_square_bracket"      # Ctrl+], as virsh console
SCROLLBACK_LINES = 5000
_APP_CURSOR_MODE = 1 << 5      # DECCKM (private mode 1, which pyte stores shifted by 5)

_CURSOR_FINAL = {"up": "A", "down": "B", "right": "C", "left": "D", "home": "H", "end": "F"}
_TILDE_CODE = {"insert": 2, "delete": 3, "pageup": 5, "pagedown": 6, "f5": 15, "f6": 17,
               "f7": 18, "f8": 19, "f9": 20, "f10": 21, "f11": 23, "f12": 24}
_SS3_FINAL = {"f1": "P", "f2": "Q", "f3": "R", "f4": "S"}
_MODIFIER_BITS = {"shift": 1, "alt": 2, "ctrl": 4}
_CTRL_SYMBOL = {"@": 0, "space": 0, "left_square_bracket": 0x1B, "backslash": 0x1C,
                "right_square_bracket": 0x1D, "circumflex_accent": 0x1E, "underscore": 0x1F,
                "minus": 0x1F, "question_mark": 0x7F, "backspace": 0x08}
_NAMED = {"enter": b"\r", "tab": b"\t", "backspace": b"\x7f", "escape": b"\x1b", "space": b" "}


def key_to_bytes(key: str, character: str | None, app_cursor: bool = False) -> bytes | None:
    """What an xterm sends for a Textual key, or None if it sends nothing."""
    *mods, name = key.split("+")
    bits = sum(_MODIFIER_BITS.get(m, 0) for m in mods)
    param = f"1;{bits + 1}" if bits else ""
    if name in _CURSOR_FINAL:
        if param:
            return f"\x1b[{param}{_CURSOR_FINAL[name]}".encode()
        return (("\x1bO" if app_cursor else "\x1b[") + _CURSOR_FINAL[name]).encode()
    if name in _TILDE_CODE:
        return f"\x1b[{_TILDE_CODE[name]}{';' + str(bits + 1) if bits else ''}~".encode()
    if name in _SS3_FINAL:
        return (f"\x1b[{param}" if param else "\x1bO").encode() + _SS3_FINAL[name].encode()
    alt = b"\x1b" if "alt" in mods else b""
    if name == "tab" and "shift" in mods:
        return b"\x1b[Z"
    if "ctrl" in mods:
        if len(name) == 1 and name.isalpha():
            return alt + bytes([ord(name.lower()) & 0x1F])
        if name in _CTRL_SYMBOL:
            return alt + bytes([_CTRL_SYMBOL[name]])
    if name in _NAMED:
        return alt + _NAMED[name]
    if character and (character.isprintable() or (len(character) == 1 and ord(character) < 32)):
        return alt + character.encode()
    return None


_PYTE_COLOURS = {"brown": "yellow", "brightbrown": "bright_yellow"}


def _colour(name: str) -> str | None:
    if name == "default":
        return None
    if len(name) == 6 and all(c in "0123456789abcdefABCDEF" for c in name):
        return f"#{name}"
    name = _PYTE_COLOURS.get(name, name)
    return f"bright_{name[6:]}" if name.startswith("bright") and "_" not in name else name


@lru_cache(maxsize=1024)
def _cell_style(fg: str, bg: str, bold: bool, italics: bool, underscore: bool,
                strikethrough: bool, reverse: bool, blink: bool) -> Style:
    return Style(color=_colour(fg), bgcolor=_colour(bg), bold=bold or None,
                 italic=italics or None, underline=underscore or None,
                 strike=strikethrough or None, reverse=reverse or None, blink=blink or None)


class _PyteScreen(pyte.HistoryScreen):
    """pyte's screen with scrollback, whose answers to queries go back to the guest."""

    def __init__(self, columns: int, lines: int, history: int,
                 reply: Callable[[bytes], None]):
        super().__init__(columns, lines, history=history, ratio=0.5)
        self._reply = reply

    def write_process_input(self, data: str) -> None:
        self._reply(data.encode())


class Terminal(Widget, can_focus=True):
    """A terminal screen fed with bytes; every key but the reserved ones goes to `send`."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text()
    BINDINGS = [
        Binding("shift+pageup", "scroll_back", "scroll back", show=False),
        Binding("shift+pagedown", "scroll_forward", "scroll forward", show=False),
    ]

    def __init__(self, send: Callable[[bytes], None] | None = None, *,
                 reserved_keys: Iterable[str] = (ESCAPE_KEY,), history: int = SCROLLBACK_LINES,
                 name: str | None = None, id: str | None = None, classes: str | None = None):
        super().__init__(name=name, id=id, classes=classes)
        self.send = send
        # keys left to the screen's bindings (escape back to vtui, log toggle, ...)
        self.reserved_keys = {ESCAPE_KEY, "shift+pageup", "shift+pagedown", *reserved_keys}
        self.pyte_screen = _PyteScreen(80, 24, history, self._reply)
        self._stream = pyte.ByteStream(self.pyte_screen)
        self._strips: dict[int, tuple[int, Strip]] = {}    # y -> (cursor x or -1, strip)
        self._cursor_row = 0

    # -- output -------------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        """Interpret bytes from the guest and redraw the lines they changed."""
        screen = self.pyte_screen
        self._stream.feed(data)
        rows = set(screen.dirty)
        screen.dirty.clear()
        rows.update((self._cursor_row, screen.cursor.y))
        self._cursor_row = screen.cursor.y
        for y in rows:
            self._strips.pop(y, None)
        if self.is_mounted:
            width = self.size.width
            for y in rows:
                self.refresh(Region(0, y, width, 1))

    def display_lines(self) -> list[str]:
        """The visible screen as text, right-stripped (what a test or a copy reads)."""
        return [line.rstrip() for line in self.pyte_screen.display]

    def _reply(self, data: bytes) -> None:
        if self.send is not None:
            self.send(data)

    @property
    def scrolled_back(self) -> bool:
        history = self.pyte_screen.history
        return history.position < history.size

    def _redraw_all(self) -> None:
        self._strips.clear()
        self.pyte_screen.dirty.clear()
        self.refresh()

    # -- drawing ------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        screen = self.pyte_screen
        width = self.size.width
        if y >= screen.lines:
            return Strip.blank(width, self.rich_style)
        cursor = screen.cursor
        show_cursor = (self.has_focus and not cursor.hidden and not self.scrolled_back
                       and y == cursor.y)
        cursor_x = min(cursor.x, screen.columns - 1) if show_cursor else -1
        cached = self._strips.get(y)
        if cached is not None and cached[0] == cursor_x:
            return cached[1]
        strip = self._build_line(screen.buffer[y], screen.columns, cursor_x)
        strip = strip.apply_style(self.rich_style).crop_extend(0, width, self.rich_style)
        self._strips[y] = (cursor_x, strip)
        return strip

    @staticmethod
    def _build_line(line, columns: int, cursor_x: int) -> Strip:
        segments: list[Segment] = []
        text: list[str] = []
        run_style: Style | None = None
        for x in range(columns):
            char = line[x]
            reverse = char.reverse != (x == cursor_x)
            style = _cell_style(char.fg, char.bg, char.bold, char.italics, char.underscore,
                                char.strikethrough, reverse, char.blink)
            if style is not run_style and text:
                segments.append(Segment("".join(text), run_style))
                text = []
            run_style = style
            text.append(char.data)
        if text:
            segments.append(Segment("".join(text), run_style))
        return Strip(segments)

    # -- size ---------------------------------------------------------------------------
    def on_resize(self, event: events.Resize) -> None:
        columns, lines = event.size.width, event.size.height
        screen = self.pyte_screen
        if columns < 2 or lines < 1 or (columns, lines) == (screen.columns, screen.lines):
            return
        screen.resize(lines=lines, columns=columns)
        self._cursor_row = screen.cursor.y
        self._redraw_all()

    def on_focus(self) -> None:
        self._redraw_all()

    def on_blur(self) -> None:
        self._redraw_all()

    # -- input --------------------------------------------------------------------------
    def check_consume_key(self, key: str, character: str | None) -> bool:
        # Claiming a key hides the app's and screen's bindings for it (even priority
        # ones like ctrl+q and ctrl+p): Ctrl keys belong to the guest.
        return key not in self.reserved_keys

    async def _on_key(self, event: events.Key) -> None:
        if event.key in self.reserved_keys:
            return      # bubbles up to the screen's bindings
        event.stop()
        event.prevent_default()
        data = key_to_bytes(event.key, event.character,
                            _APP_CURSOR_MODE in self.pyte_screen.mode)
        if data and self.send is not None:
            self.send(data)

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        if self.send is not None and event.text:
            # a terminal sends line breaks of a paste as Enter
            self.send(event.text.replace("\r\n", "\r").replace("\n", "\r").encode())

    def action_scroll_back(self) -> None:
        self.pyte_screen.prev_page()
        self._redraw_all()

    def action_scroll_forward(self) -> None:
        self.pyte_screen.next_page()
        self._redraw_all()

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.action_scroll_back()

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.action_scroll_forward()

    def write_note(self, text: str) -> None:
        """A line from vtui itself (not the guest), shown in reverse video."""
        self.feed(f"\r\n\x1b[7m[vtui] {text}\x1b[0m\r\n".encode())
