"""The user's key bindings ([keys] in settings.toml) applied to vtui's binding ids.

Every Binding in vtui carries an `id` ("guest.start", "console.leave", ...); Textual's
keymap replaces the keys of a binding by its id, on every screen, dialog and widget.
Here the file's entries are checked against the ids that exist and the key names
Textual knows, so a typo is reported (file and line) instead of silently ignored.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Collection

from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import Keys, _character_to_key

from vtui.core.settings.preferences import KeyEntry, Preferences
from vtui.keymap_ids import BINDING_IDS

MODIFIERS = {"ctrl", "shift", "alt", "meta", "super", "hyper"}
_KEY_NAMES = {k.value for k in Keys} | {_character_to_key(chr(c)) for c in range(32, 127)}


def declared_binding_ids() -> set[str]:
    """Every binding id the screens, dialogs and widgets declare (imports them all:
    for the test that keeps keymap_ids.py in step, never at start-up)."""
    import vtui.app  # noqa: F401 - the app's own bindings
    import vtui.screens
    import vtui.widgets

    for package in (vtui.screens, vtui.widgets):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)
    return {
        item.id
        for cls in _subclasses(DOMNode)
        if cls.__module__.startswith("vtui.")
        for item in cls.__dict__.get("BINDINGS", ())
        if isinstance(item, Binding) and item.id
    }


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def key_problem(keys: str) -> str | None:
    """Why `keys` ("ctrl+s", "D,delete") is not something Textual can bind, or None."""
    for key in keys.split(","):
        key = key.strip()
        if not key:
            return f"empty key in {keys!r}"
        *modifiers, name = key.split("+")
        if not name or "" in modifiers:
            return f"a key is missing around '+' in {key!r}"
        unknown = [m for m in modifiers if m not in MODIFIERS]
        if unknown:
            return f"unknown modifier {unknown[0]!r} in {key!r} (one of {', '.join(sorted(MODIFIERS))})"
        if len(name) != 1 and name not in _KEY_NAMES:
            return f"unknown key {name!r} in {key!r} (e.g. a, F5 as f5, escape, slash, pageup)"
    return None


def resolve(
    entries: list[KeyEntry], known: Collection[str]
) -> tuple[dict[str, str], list[tuple[int, str]]]:
    """The keymap for Textual, and what is wrong as (line, message) pairs. A binding
    may be named by its full id or by its last part when that part is unique."""
    keymap: dict[str, str] = {}
    problems: list[tuple[int, str]] = []
    for entry in entries:
        binding = _binding_id(entry.binding, known)
        if isinstance(binding, list):
            problems.append((entry.line, f"{entry.binding!r} is ambiguous: {', '.join(binding)}"))
            continue
        if binding is None:
            message = f"no binding called {entry.binding!r} (the README lists them)"
            problems.append((entry.line, message))
            continue
        problem = key_problem(entry.keys)
        if problem:
            problems.append((entry.line, f"{entry.binding}: {problem}"))
            continue
        keymap[binding] = entry.keys
    return keymap, problems


def _binding_id(name: str, known: Collection[str]) -> str | list[str] | None:
    if name in known:
        return name
    matches = sorted(i for i in known if i.rsplit(".", 1)[-1] == name)
    if len(matches) == 1:
        return matches[0]
    return matches or None


def load_keymap(prefs: Preferences) -> dict[str, str]:
    """The keymap from the user's settings; what is wrong joins prefs.problems."""
    if not prefs.keys:
        return {}
    # (the ids' list, not declared_binding_ids(): that imports every screen, 0.4 s)
    keymap, problems = resolve(prefs.keys, BINDING_IDS)
    for line, message in problems:
        prefs.problem(line, f"[keys] {message}")
    return keymap
