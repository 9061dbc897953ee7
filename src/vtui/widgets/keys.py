"""Which keys a binding id answers to now: its default, or what the user's keymap
(settings.toml [keys], held by the app as `user_keymap`) put there instead. Widgets
that take every key for themselves (the console's terminal) must leave these alone."""

from __future__ import annotations

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
