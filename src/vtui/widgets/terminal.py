"""A VT100/xterm terminal widget: pyte keeps the screen, Textual draws it.

The widget knows nothing of libvirt. Feed it the bytes a guest prints with `feed()`;
it calls the `send` callable it was given with the bytes of every key pressed (and of
the answers pyte gives to terminal queries such as the cursor position report, which
is how programs on a serial line learn the terminal size). Only the lines pyte marks
dirty are rebuilt.

pyte is pure Python (a few hundred KB/s of escape-heavy output, ~2 MB/s of plain text
with the fast path below). A guest flooding its console must not freeze the app (Ctrl+]
has to work), so big feeds are parsed in slices between other events, and a backlog
beyond what a fraction of a second of parsing clears is skipped, with a note (a console
log file still gets every byte: the core writes it before feeding us).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

import pyte
from pyte import modes
from pyte.charsets import LAT1_MAP
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from vtui.widgets.keys import GuestKeys

ESCAPE_KEY = "ctrl+right_square_bracket"  # Ctrl+], as virsh console
SCROLLBACK_LINES = 5000
FEED_SLICE = 4096  # bytes parsed at once (~15 ms) before other events get a turn
BACKLOG_LIMIT = 128 * 1024  # unparsed bytes beyond this are skipped...
BACKLOG_KEEP = 16 * 1024  # ...all but the newest these
WHEEL_LINES = 3
_APP_CURSOR_MODE = 1 << 5  # DECCKM (private mode 1, which pyte stores shifted by 5)

_CURSOR_FINAL = {"up": "A", "down": "B", "right": "C", "left": "D", "home": "H", "end": "F"}
_TILDE_CODE = {
    "insert": 2,
    "delete": 3,
    "pageup": 5,
    "pagedown": 6,
    "f5": 15,
    "f6": 17,
    "f7": 18,
    "f8": 19,
    "f9": 20,
    "f10": 21,
    "f11": 23,
    "f12": 24,
}
_SS3_FINAL = {"f1": "P", "f2": "Q", "f3": "R", "f4": "S"}
_MODIFIER_BITS = {"shift": 1, "alt": 2, "ctrl": 4}
_CTRL_SYMBOL = {
    "@": 0,
    "space": 0,
    "left_square_bracket": 0x1B,
    "backslash": 0x1C,
    "right_square_bracket": 0x1D,
    "circumflex_accent": 0x1E,
    "underscore": 0x1F,
    "minus": 0x1F,
    "question_mark": 0x7F,
    "backspace": 0x08,
}
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
def _cell_style(
    fg: str,
    bg: str,
    bold: bool,
    italics: bool,
    underscore: bool,
    strikethrough: bool,
    reverse: bool,
    blink: bool,
) -> Style:
    return Style(
        color=_colour(fg),
        bgcolor=_colour(bg),
        bold=bold or None,
        italic=italics or None,
        underline=underscore or None,
        strike=strikethrough or None,
        reverse=reverse or None,
        blink=blink or None,
    )


class _PyteScreen(pyte.Screen):
    """pyte's screen plus scrollback (lines scrolled off the top) and answers to the
    guest's queries. Cheaper than pyte.HistoryScreen, which wraps every event."""

    def __init__(self, columns: int, lines: int, history: int, reply: Callable[[bytes], None]):
        super().__init__(columns, lines)
        self.history: deque = deque(maxlen=history)
        self.pushed = 0  # lines ever pushed to history (view anchoring)
        self._reply = reply
        self._chars: dict = {}  # attrs -> {character: Char}, for draw()

    def write_process_input(self, data: str) -> None:
        self._reply(data.encode())

    def draw(self, data: str) -> None:
        """pyte's draw, made several times faster for the common case (printable ASCII,
        plain charset, replace mode) by reusing one Char per character and attributes."""
        if (
            self.charset
            or self.g0_charset is not LAT1_MAP
            or modes.IRM in self.mode
            or not (data.isascii() and data.isprintable())
        ):
            super().draw(data)
            return
        attrs = self.cursor.attrs
        chars = self._chars.get(attrs)
        if chars is None:
            if len(self._chars) > 64:
                self._chars.clear()
            chars = self._chars[attrs] = {}
        cursor, columns, buffer = self.cursor, self.columns, self.buffer
        autowrap = modes.DECAWM in self.mode
        for char in data:
            if cursor.x == columns:
                if autowrap:
                    self.dirty.add(cursor.y)
                    self.carriage_return()
                    self.linefeed()
                else:
                    cursor.x -= 1
            cell = chars.get(char)
            if cell is None:
                cell = chars[char] = attrs._replace(data=char)
            buffer[cursor.y][cursor.x] = cell
            cursor.x += 1
        self.dirty.add(cursor.y)

    def index(self) -> None:
        top, bottom = self.margins or (0, self.lines - 1)
        if self.cursor.y == bottom and top == 0:
            self.history.append(self.buffer[0])
            self.pushed += 1
        super().index()

    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        lines = lines or self.lines
        if lines < self.lines:
            # pyte drops rows from the top whatever the cursor; keep the cursor's row
            # on screen instead, and scroll only what must go into the history
            drop = max(0, self.cursor.y - (lines - 1))
            rows = [self.buffer[y] for y in range(self.lines)]
            self.history.extend(rows[:drop])
            self.pushed += drop
            self.buffer.clear()
            self.buffer.update(enumerate(rows[drop : drop + lines]))
            self.cursor.y -= drop
            self.lines = lines
            self.set_margins()
            self.dirty.update(range(lines))
        super().resize(lines, columns)


class Terminal(GuestKeys, Widget, can_focus=True):
    """A terminal screen fed with bytes; every key but the reserved ones goes to `send`."""

    DEFAULT_CSS = Path(__file__).with_suffix(".tcss").read_text()
    BINDINGS = [
        Binding("shift+pageup", "scroll_back", "scroll back", show=False, id="console.scroll_back"),
        Binding(
            "shift+pagedown",
            "scroll_forward",
            "scroll forward",
            show=False,
            id="console.scroll_forward",
        ),
    ]

    def __init__(
        self,
        send: Callable[[bytes], None] | None = None,
        *,
        reserved_keys: Iterable[str] = (ESCAPE_KEY,),
        history: int = SCROLLBACK_LINES,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ):
        super().__init__(name=name, id=id, classes=classes)
        self.send = send
        # keys left to the screen's bindings (escape back to vtui, a menu, scrolling)
        self.reserve_keys({ESCAPE_KEY, "shift+pageup", "shift+pagedown", *reserved_keys})
        self.pyte_screen = _PyteScreen(80, 24, history, self._reply)
        self._stream = pyte.ByteStream(self.pyte_screen)
        self._strips: dict[int, tuple[int, Strip]] = {}  # y -> (cursor x or -1, strip)
        self._cursor_row = 0
        self._pending = bytearray()  # fed but not parsed yet (a flood, see module doc)
        self._draining = False
        self.view_back = 0  # lines the view is scrolled back from the bottom
        self.skipped = 0  # bytes of a flood never shown

    # -- output -------------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        """Interpret bytes from the guest and redraw the lines they changed. Small feeds
        are shown at once; a flood is parsed in slices, in order."""
        if not self._pending and len(data) <= FEED_SLICE:
            self._parse(data)
            return
        self._pending += data
        if len(self._pending) > BACKLOG_LIMIT:
            tail = bytes(self._pending[-BACKLOG_KEEP:])
            tail = tail[tail.find(b"\n") + 1 :]  # restart on a line boundary
            self.skipped += len(self._pending) - len(tail)
            self._pending = bytearray(
                b"\x1b[0m\r\n\x1b[7m[vtui] output too fast: "
                + b"skipped %d KiB\x1b[0m\r\n" % (self.skipped // 1024)
                + tail
            )
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().call_soon(self._drain)

    def _drain(self) -> None:
        chunk = bytes(self._pending[:FEED_SLICE])
        del self._pending[:FEED_SLICE]
        self._parse(chunk)
        if self._pending:
            asyncio.get_running_loop().call_soon(self._drain)  # keys get their turn first
        else:
            self._draining = False

    def _parse(self, data: bytes) -> None:
        screen = self.pyte_screen
        pushed = screen.pushed
        self._stream.feed(data)
        if self.view_back:
            # keep showing the same lines while the guest prints below
            self.view_back = min(self.view_back + screen.pushed - pushed, len(screen.history))
            self._redraw_all()
            return
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

    def display_lines(self, scrollback: bool = False) -> list[str]:
        """The lines in view as text, right-stripped (what a test or a copy reads);
        with scrollback, the whole history and then the screen."""
        screen = self.pyte_screen
        if scrollback:
            rows = [*screen.history, *(screen.buffer[y] for y in range(screen.lines))]
        else:
            rows = [self._line(y) for y in range(screen.lines)]
        return ["".join(row[x].data for x in range(screen.columns)).rstrip() for row in rows]

    def _reply(self, data: bytes) -> None:
        if self.send is not None:
            self.send(data)

    @property
    def scrolled_back(self) -> bool:
        return self.view_back > 0

    def _redraw_all(self) -> None:
        self._strips.clear()
        self.pyte_screen.dirty.clear()
        self.refresh()

    # -- drawing ------------------------------------------------------------------------
    def _line(self, y: int):
        """Row y of the view: from the history while scrolled back, else the screen."""
        screen = self.pyte_screen
        if self.view_back:
            index = len(screen.history) - self.view_back + y
            if index < len(screen.history):
                return screen.history[index]
            y = index - len(screen.history)
        return screen.buffer[y]

    def render_line(self, y: int) -> Strip:
        screen = self.pyte_screen
        width = self.size.width
        if y >= screen.lines:
            return Strip.blank(width, self.rich_style)
        cursor = screen.cursor
        show_cursor = self.has_focus and not cursor.hidden and not self.view_back and y == cursor.y
        cursor_x = min(cursor.x, screen.columns - 1) if show_cursor else -1
        cached = self._strips.get(y)
        if cached is not None and cached[0] == cursor_x:
            return cached[1]
        strip = self._build_line(self._line(y), screen.columns, cursor_x)
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
            style = _cell_style(
                char.fg,
                char.bg,
                char.bold,
                char.italics,
                char.underscore,
                char.strikethrough,
                reverse,
                char.blink,
            )
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
        self.view_back = min(self.view_back, len(screen.history))
        self._redraw_all()

    def on_focus(self) -> None:
        self._redraw_all()

    def on_blur(self) -> None:
        self._redraw_all()

    # -- input --------------------------------------------------------------------------
    async def _on_key(self, event: events.Key) -> None:
        if self.leaves_to_screen(event.key):
            return  # bubbles up to the screen's bindings
        event.stop()
        event.prevent_default()
        data = key_to_bytes(event.key, event.character, _APP_CURSOR_MODE in self.pyte_screen.mode)
        if data and self.send is not None:
            self._to_bottom()  # typing shows where the typing goes, as xterm does
            self.send(data)

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        if self.send is not None and event.text:
            self._to_bottom()
            # a terminal sends line breaks of a paste as Enter
            self.send(event.text.replace("\r\n", "\r").replace("\n", "\r").encode())

    def scroll_view(self, lines: int) -> None:
        """Move the view `lines` back into the history (negative: forward)."""
        offset = max(0, min(self.view_back + lines, len(self.pyte_screen.history)))
        if offset != self.view_back:
            self.view_back = offset
            self._redraw_all()

    def _to_bottom(self) -> None:
        self.scroll_view(-self.view_back)

    def action_scroll_back(self) -> None:
        self.scroll_view(max(self.pyte_screen.lines - 2, 1))

    def action_scroll_forward(self) -> None:
        self.scroll_view(-max(self.pyte_screen.lines - 2, 1))

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        event.stop()
        self.scroll_view(WHEEL_LINES)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        event.stop()
        self.scroll_view(-WHEEL_LINES)

    def write_note(self, text: str) -> None:
        """A line from vtui itself (not the guest), shown in reverse video."""
        self.feed(f"\r\n\x1b[7m[vtui] {text}\x1b[0m\r\n".encode())
