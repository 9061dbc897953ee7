"""Which keys a binding id answers to now: its default, or what the user's keymap
(settings.toml [keys], held by the app as `user_keymap`) put there instead. Widgets
that take every key for themselves (the console's terminal) must leave these alone."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import App
from textual.keys import REPLACED_KEYS, _character_to_key, key_to_character


def normalized(keys: str) -> list[str]:
    """'D,?' -> ['D', 'question_mark']: the names Textual's key events carry."""
    out = []
    for key in keys.split(","):
        key = key.strip()
        *modifiers, name = key.split("+")
        if len(name) == 1 and not name.isalnum():
            name = _character_to_key(name)
        out.append("+".join([*modifiers, name]))
    return out


def bound_keys(app: App, binding_id: str, default: str) -> list[str]:
    keymap: dict[str, str] = getattr(app, "user_keymap", {}) or {}
    return normalized(keymap.get(binding_id, default))


def key_label(key: str) -> str:
    """'ctrl+right_square_bracket' -> 'Ctrl+]', 'f5' -> 'F5': as a user would write it."""
    *modifiers, name = key.split("+")
    character = name if len(name) == 1 else key_to_character(REPLACED_KEYS.get(name, name))
    if not (character and len(character) == 1 and character.isprintable()):
        character = name.capitalize()
    return "+".join([*(m.capitalize() for m in modifiers), character])


class GuestKeys:
    """Mixin for a widget that hands every key to a guest (the serial console's
    terminal, the display peek) except `reserved_keys`, which go to its screen's
    bindings (leave, menu, scroll). Claiming a key hides the app's and screen's
    bindings for it, even priority ones like Ctrl+Q and Ctrl+P.

    The default keys of the screen's bindings are never claimed either: Textual drops
    a binding whose key a focused widget claims *before* the user's keymap moves it
    elsewhere; once moved away, such a key reaches the guest like any other."""

    reserved_keys: set[str]
    binding_defaults: set[str]

    def reserve_keys(self, keys: Iterable[str]) -> None:
        self.reserved_keys = set(keys)
        self.binding_defaults = set(self.reserved_keys)

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return key not in self.reserved_keys and key not in self.binding_defaults

    def leaves_to_screen(self, key: str) -> bool:
        """True for a key the screen's bindings take (do not send it to the guest)."""
        return key in self.reserved_keys
