"""The guest's screen inside the terminal, and the keys typed on it.

`GuestView` draws `Frame`s (frames.py): half-blocks itself, Kitty graphics or Sixel
through textual-image's widgets. While focused it claims every key but the reserved
ones (even the app's Ctrl+Q and Ctrl+P) and hands each one as a send-key chord to
`on_chord`; a paste goes to `on_paste` as text. A line of text (why nothing is shown)
replaces the picture until the next frame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.keys import REPLACED_KEYS, key_to_character
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from vtui.core.errors import VtuiError
from vtui.core.guests.graphics_keys import KEYCODES, char_chord, chord
from vtui.screens.peek.frames import Frame
from vtui.widgets.keys import GuestKeys

# Textual's names of keys that are keys, not characters (all are in KEYCODES too)
NAMED_KEYS = frozenset(
    (
        "enter",
        "escape",
        "tab",
        "backspace",
        "space",
        "up",
        "down",
        "left",
        "right",
        "home",
        "end",
        "pageup",
        "pagedown",
        "insert",
        "delete",
        *(f"f{n}" for n in range(1, 13)),
    )
)
_MODIFIER_NAMES = {"ctrl": "ctrl", "alt": "alt", "shift": "shift", "meta": "meta", "super": "meta"}


def _character(name: str) -> str | None:
    """The character a Textual key name stands for ('minus' -> '-')."""
    return key_to_character(REPLACED_KEYS.get(name, name))


class Untypable(Exception):
    """A key that has no place on a US keyboard (its character is the message)."""


def key_chord(key: str, character: str | None) -> tuple[int, ...] | None:
    """The send-key chord for a Textual key event, None for a key that sends nothing
    (e.g. a lone modifier). Raises Untypable for a character a US layout lacks."""
    *mods, name = key.split("+")
    modifiers = [_MODIFIER_NAMES[m] for m in mods if m in _MODIFIER_NAMES]
    if name in NAMED_KEYS:
        return chord(*modifiers, name)
    if not [m for m in modifiers if m != "shift"]:
        char = character if character and character.isprintable() else _character(name)
        if not char:
            return None
        found = char_chord(char)
        if found is None:
            raise Untypable(char)
        return found
    char = name if len(name) == 1 else _character(name)
    if not char:
        return None
    if char.isupper():  # ctrl+A: Textual names the shifted letter
        char, modifiers = char.lower(), [*modifiers, "shift"]
    found = char_chord(char, [m for m in modifiers if m in KEYCODES])
    if found is None:
        raise Untypable(char)
    return found


class HalfBlocks(Widget):
    """A frame of half-block strips, drawn as they are."""

    DEFAULT_CSS = "HalfBlocks { width: 1fr; height: 1fr; }"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.strips: tuple[Strip, ...] = ()

    def show(self, frame: Frame) -> None:
        self.strips = frame.strips
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y < len(self.strips):
            return self.strips[y].crop_extend(0, width, self.rich_style)
        return Strip.blank(width, self.rich_style)


def _picture_widget(mode: str) -> Widget:
    from textual_image.widget import SixelImage, TGPImage

    widget = TGPImage() if mode == "kitty" else SixelImage()
    widget.styles.width = "auto"
    widget.styles.height = "auto"
    return widget


class GuestView(GuestKeys, Widget, can_focus=True):
    DEFAULT_CSS = """
    GuestView { width: 1fr; height: 1fr; align: center middle; }
    GuestView > #message { width: 1fr; height: auto; content-align: center middle;
        text-align: center; color: $text-muted; padding: 1 2; }
    GuestView:focus > #message { color: $text; }
    """

    def __init__(
        self,
        mode: str = "halfblock",
        *,
        on_chord: Callable[[tuple[int, ...]], None] | None = None,
        on_paste: Callable[[str], None] | None = None,
        on_untypable: Callable[[str], None] | None = None,
        reserved_keys: Iterable[str] = (),
        id: str | None = None,
    ):
        super().__init__(id=id)
        self.mode = mode
        self.on_chord = on_chord
        self.on_paste = on_paste
        self.on_untypable = on_untypable
        self.reserve_keys(reserved_keys)
        self.frame: Frame | None = None
        self.message: str | None = "connecting"

    def compose(self) -> ComposeResult:
        yield Static(Text(self.message or ""), id="message")
        if self.mode == "halfblock":
            yield HalfBlocks(id="picture")
        else:
            picture = _picture_widget(self.mode)
            picture.id = "picture"
            yield picture

    def on_mount(self) -> None:
        self._show_picture(False)

    @property
    def cells(self) -> tuple[int, int]:
        """Room for the picture, in cells."""
        size = self.content_size
        return size.width, size.height

    def show_frame(self, frame: Frame) -> None:
        self.frame, self.message = frame, None
        picture = self.query_one("#picture")
        if isinstance(picture, HalfBlocks):
            picture.show(frame)
        elif frame.picture is not None:
            picture.image = frame.picture  # type: ignore[attr-defined]
        self._show_picture(True)

    def show_message(self, text: str) -> None:
        """One line instead of the picture (shown literally)."""
        if text == self.message and self.frame is None:
            return  # said already: no layout for the same words every second
        self.message, self.frame = text, None
        self.query_one("#message", Static).update(Text(text))
        self._show_picture(False)

    def _show_picture(self, shown: bool) -> None:
        self.query_one("#message").display = not shown
        self.query_one("#picture").display = shown

    # -- keys -------------------------------------------------------------------------------
    async def _on_key(self, event: events.Key) -> None:
        if self.leaves_to_screen(event.key):
            return  # bubbles up to the screen's bindings
        event.stop()
        event.prevent_default()
        try:
            found = key_chord(event.key, event.character)
        except Untypable as exc:
            if self.on_untypable is not None:
                self.on_untypable(str(exc))
            return
        except VtuiError:
            return  # a key with no keycode (e.g. a media key): nothing to send
        if found and self.on_chord is not None:
            self.on_chord(found)

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        if event.text and self.on_paste is not None:
            self.on_paste(event.text)
