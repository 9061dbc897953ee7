"""The full domain XML in an editor: the persistent definition as `virsh edit` shows
it (with XML highlighting when Textual's tree-sitter support is installed). Applying
goes through the same review as every other change: diff, virsh command, then
libvirt validates it against its schema; an invalid document changes nothing."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static, TextArea

from vtui.core.guests.config import GuestConfig


class XmlView(Vertical):
    DEFAULT_CSS = """
    XmlView { height: 1fr; }
    XmlView #xml-note { height: 1; color: $text-muted; }
    XmlView TextArea { height: 1fr; border: none; padding: 0; }
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.loaded = ""  # the text last loaded from libvirt (to tell an edit from it)
        self.editable = False

    def compose(self) -> ComposeResult:
        yield Static(id="xml-note")
        yield TextArea(
            id="xml-text", soft_wrap=False, tab_behavior="indent", show_line_numbers=False
        )

    @property
    def area(self) -> TextArea:
        return self.query_one(TextArea)

    def on_mount(self) -> None:
        if "xml" in self.area.available_languages:
            self.area.language = "xml"

    @property
    def edited(self) -> bool:
        return self.area.text != self.loaded

    def show(self, config: GuestConfig, *, readonly: bool, force: bool = False) -> None:
        """Load the guest's XML, unless the user is editing it (force: reload anyway)."""
        text = config.persistent_xml or config.live_xml
        if self.edited and not force:
            return
        self.editable = bool(config.persistent_xml) and not readonly
        if readonly:
            note = "read-only connection: view only"
        elif not config.persistent_xml:
            note = "transient guest: its live XML (no saved definition to edit)"
        else:
            note = "persistent definition · ctrl+s apply (after a review) · ctrl+r reload"
        self.query_one("#xml-note", Static).update(Content(note))
        self.loaded = text
        self.area.read_only = not self.editable
        self.area.load_text(text)
