"""? or F1: every key of the screen you are on, with what it does, the keys your
settings.toml moved included; the ones that do not apply right now are dimmed."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Static

from vtui.screens.dialogs.frame import Dialog
from vtui.widgets.cells import fit
from vtui.widgets.keys import bound_keys, key_label

KEY_CELLS = 16


def _bindings_of(node: DOMNode) -> list[Binding]:
    """The node's bindings as declared (its class and bases), one per id or action."""
    seen: set[str] = set()
    out = []
    for cls in type(node).__mro__:
        for item in cls.__dict__.get("BINDINGS", ()):
            if not isinstance(item, Binding):
                continue
            ident = item.id or item.action
            if ident in seen or item.action.startswith("anyway("):
                continue
            seen.add(ident)
            out.append(item)
    return out


class HelpScreen(Dialog[None]):
    DEFAULT_CSS = """
    HelpScreen > .dialog { width: 76; height: 90%; }
    HelpScreen #keys { height: 1fr; }
    HelpScreen .group { text-style: bold; margin: 1 0 0 0; }
    HelpScreen .off { color: $text-muted; }
    """
    BINDINGS = [Binding("escape,question_mark,f1,q", "dismiss(None)", "Close", id="help.close")]

    def __init__(self, screen: Screen):
        super().__init__()
        self.shown_for = screen

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Keys", classes="dialog-title")
            with VerticalScroll(id="keys"):
                for title, node in self._groups():
                    lines = list(self._lines(node))
                    if lines:
                        yield Static(Content(title), classes="group")
                        yield from lines
            yield Static(
                Content(
                    "Remap any key in settings.toml ([keys], by the id shown); Ctrl+P "
                    "lists every command. Esc closes."
                ),
                classes="dialog-hint",
            )

    def _groups(self) -> list[tuple[str, DOMNode]]:
        screen = self.shown_for
        groups: list[tuple[str, DOMNode]] = [("On this screen", screen)]
        focused = screen.focused
        if focused is not None and _bindings_of(focused):
            groups.append((f"In the {type(focused).__name__} (focused)", focused))
        groups.append(("Everywhere", self.app))
        return groups

    def _lines(self, node: DOMNode):
        for binding in _bindings_of(node):
            keys = binding.key
            if binding.id:
                keys = ",".join(bound_keys(self.app, binding.id, binding.key))
            label = " ".join(key_label(k) for k in keys.split(","))
            applies = self._applies(node, binding)
            text = f"{fit(label, KEY_CELLS)} {binding.description or binding.action}"
            if binding.id:
                text += f"  ({binding.id})"
            yield Static(Content(text), classes="" if applies else "off")

    def _applies(self, node: DOMNode, binding: Binding) -> bool:
        from textual.actions import parse

        _namespace, name, parameters = parse(binding.action)
        check = getattr(node, "check_action", None)
        return check is None or check(name, parameters) is not False
