"""A guest's details: every section of its configuration on one screen, a side list
to move between them (or the digits 1-0), and the keys that change what the section
shows. Every change is reviewed first (diff, virsh command, live/persistent)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer, OptionList, Static
from textual.widgets.option_list import Option

from vtui.core.errors import VtuiError
from vtui.core.guests.config import (
    Addresses,
    AgentInfo,
    GuestConfig,
    read_addresses,
    read_agent_info,
    read_config,
)
from vtui.core.host import Change, Host
from vtui.core.model import Guest
from vtui.failures import ReportsWorkerFailures
from vtui.screens.guest import actions, adding, sections
from vtui.screens.guest.performance import PerformanceView
from vtui.screens.guest.xml_view import XmlView
from vtui.widgets.row_table import RowTable, TableColumn

DISK_COLUMNS = [
    TableColumn("target", "Disk", 4),
    TableColumn("device", "Kind", 5),
    TableColumn("bus", "Bus", 6),
    TableColumn("size", "Size", 6, right=True),
    TableColumn("source", "Source", 20),
]
NIC_COLUMNS = [
    TableColumn("mac", "MAC", 17),
    TableColumn("type", "Type", 7),
    TableColumn("source", "Source", 10),
    TableColumn("model", "Model", 7),
    TableColumn("link", "Link", 4),
    TableColumn("host", "Host", 6),
]
DEVICE_COLUMNS = [TableColumn("kind", "Kind", 10), TableColumn("summary", "What", 30)]
HOSTDEV_COLUMNS = [
    TableColumn("kind", "Kind", 5),
    TableColumn("address", "Address", 14),
    TableColumn("managed", "Managed", 7),
]
TABLES = {
    "disks": DISK_COLUMNS,
    "nics": NIC_COLUMNS,
    "devices": DEVICE_COLUMNS,
    "hostdevs": HOSTDEV_COLUMNS,
}
# Which section each key works in (the footer shows only those of the section shown).
APPLIES = {
    "edit_title": {"overview"},
    "edit": {"cpu", "memory", "boot", "disks", "nics"},
    "add": {"disks", "nics", "devices", "hostdevs"},
    "remove": {"disks", "nics", "devices", "hostdevs"},
    "media": {"disks"},
    "eject": {"disks"},
    "resize": {"disks"},
    "link": {"nics"},
    "apply_xml": {"xml"},
    "reload_xml": {"xml"},
}


def _section_binding(index: int, key: str, label: str) -> Binding:
    digit = str((index + 1) % 10)
    return Binding(digit, f"section('{key}')", label, show=False, id=f"guest.section.{key}")


class GuestScreen(ReportsWorkerFailures, Screen):
    DEFAULT_CSS = """
    GuestScreen #guest-header { height: 1; padding: 0 1; background: $boost; text-wrap: nowrap; text-overflow: ellipsis; }
    GuestScreen #sections { width: 17; height: 1fr; border: none; border-right: vkey $panel; padding: 0; }
    GuestScreen #body { height: 1fr; }
    GuestScreen ContentSwitcher { width: 1fr; height: 1fr; padding: 0 0 0 1; }
    GuestScreen .text { height: 1fr; }
    GuestScreen RowTable { height: 1fr; }
    GuestScreen .detail { height: auto; max-height: 7; color: $text-muted; border-top: hkey $panel; }
    """
    BINDINGS = [
        Binding("escape,q", "back", "Back", id="guest.back"),
        Binding("t", "edit_title", "Title", id="guest.title"),
        Binding("e", "edit", "Edit", id="guest.edit"),
        Binding("a", "add", "Add", id="guest.add"),
        Binding("x,delete", "remove", "Remove", id="guest.remove"),
        Binding("m", "media", "Media", id="guest.media"),
        Binding("j", "eject", "Eject", id="guest.eject"),
        Binding("z", "resize", "Grow", id="guest.resize"),
        Binding("l", "link", "Link", id="guest.link"),
        Binding("ctrl+s", "apply_xml", "Apply XML", id="guest.apply_xml", priority=True),
        Binding("ctrl+r", "reload_xml", "Reload XML", id="guest.reload_xml", priority=True),
        Binding("r", "reload", "Reload", id="guest.reload", show=False),
        *(_section_binding(i, key, label) for i, (key, label) in enumerate(sections.SECTIONS)),
    ]

    def __init__(self, host: Host, guest: Guest):
        super().__init__()
        self.host = host  # (the main screen keeps sampling the host a screen shows)
        self.uuid = guest.uuid
        self.guest_name = guest.name
        self.config: GuestConfig | None = None
        self.addresses: Addresses | None = None
        self.agent: tuple[AgentInfo | None, str] | None = None
        self.section = "overview"

    # -- layout --------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(
            Content(f"{self.guest_name} on {self.host.name}: reading..."), id="guest-header"
        )
        with Horizontal(id="body"):
            yield OptionList(
                *(
                    Option(f"{(i + 1) % 10} {label}", id=key)
                    for i, (key, label) in enumerate(sections.SECTIONS)
                ),
                id="sections",
                markup=False,
            )
            with ContentSwitcher(initial="overview"):
                for key in ("overview", "cpu", "memory", "boot"):
                    with VerticalScroll(id=key, classes="text"):
                        yield Static(id=f"{key}-text")
                yield PerformanceView(self.host, self.uuid, id="performance")
                for key, columns in TABLES.items():
                    with Vertical(id=key):
                        yield RowTable(columns, id=f"{key}-table")
                        yield Static(id=f"{key}-detail", classes="detail")
                yield XmlView(id="xml")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#sections", OptionList).highlighted = 0
        self.query_one("#sections", OptionList).focus()
        self.host.subscribe(self._on_change)
        self.action_reload()

    def on_unmount(self) -> None:
        self.host.unsubscribe(self._on_change)

    # -- reading -------------------------------------------------------------------------
    def action_reload(self) -> None:
        self.run_worker(
            self._load(),
            group="load",
            exclusive=True,
            description=f"read {self.guest_name}",
            exit_on_error=False,
        )

    async def _load(self) -> None:
        try:
            config = await read_config(self.host, self.uuid)
        except VtuiError as exc:
            self.query_one("#guest-header", Static).update(Content(str(exc)))
            self.notify(str(exc), severity="error")
            return
        self.show(config)
        if config.active:
            self.addresses = await read_addresses(self.host, self.uuid)
            self.agent = await read_agent_info(self.host, self.uuid)
        else:
            self.addresses = self.agent = None
        if self.config is config:
            self._show_overview()

    def show(self, config: GuestConfig) -> None:
        """Draw every section from a freshly read (or just changed) configuration."""
        self.config = config
        self.guest_name = config.name
        header = [f"{config.name} on {self.host.name}", config.state]
        if config.pending:
            header.append(f"⟳ {len(config.pending)} change(s) wait for a restart")
        if self.host.readonly:
            header.append("read-only")
        self.query_one("#guest-header", Static).update(Content(" · ".join(header)))
        self._show_overview()
        self.query_one("#cpu-text", Static).update(sections.cpu(config))
        self.query_one("#memory-text", Static).update(sections.memory(config))
        self.query_one("#boot-text", Static).update(sections.boot(config))
        rows = {
            "disks": sections.disk_rows(config),
            "nics": sections.nic_rows(config),
            "devices": sections.device_rows(config),
            "hostdevs": sections.hostdev_rows(config),
        }
        for key, found in rows.items():
            self.query_one(f"#{key}-table", RowTable).set_rows(found)
            self._show_detail(key)
        self.query_one(XmlView).show(config, readonly=self.host.readonly)
        pending = {p.section for p in config.pending}
        options = self.query_one("#sections", OptionList)
        for i, (key, label) in enumerate(sections.SECTIONS):
            mark = " ⟳" if key in pending else ""
            options.replace_option_prompt_at_index(i, f"{(i + 1) % 10} {label}{mark}")

    def _show_overview(self) -> None:
        if self.config is not None:
            self.query_one("#overview-text", Static).update(
                sections.overview(self.config, self.addresses, self.agent)
            )

    def _show_detail(self, key: str) -> None:
        if self.config is None:
            return
        table = self.query_one(f"#{key}-table", RowTable)
        chosen, view = table.cursor_key, self.config.shown
        lines: list[Content] = sections.pending_lines(self.config, key)
        raw = ""
        if key == "disks" and chosen and (disk := view.disk(chosen)):
            lines.append(sections.disk_summary(self.config, disk))
            raw = disk.raw
        elif key == "nics" and chosen and (nic := view.nic(chosen)):
            raw = nic.raw
        elif key == "devices" and chosen and (dev := view.device(chosen)):
            raw = dev.raw
        elif key == "hostdevs" and chosen:
            raw = next((h.raw for h in view.hostdevs if h.key == chosen), "")
        lines += [Content(line) for line in raw.splitlines()]
        if not chosen:
            lines.append(Content("nothing here · a: add"))
        self.query_one(f"#{key}-detail", Static).update(Content("\n").join(lines))

    def on_row_table_highlighted(self, event: RowTable.Highlighted) -> None:
        key = (event.table.id or "").removesuffix("-table")
        if key in TABLES:
            self._show_detail(key)

    def _on_change(self, change: Change) -> None:
        if not self.is_mounted:
            return
        if self.uuid in change.guests and change.event:
            self.action_reload()  # the guest started, stopped, was redefined...
        elif self.uuid in change.removed:
            self.query_one("#guest-header", Static).update(
                Content(f"{self.guest_name} on {self.host.name}: gone")
            )
        if self.section == "performance" and change.host_changed:
            self.query_one(PerformanceView).refresh_graphs()

    # -- moving between sections ---------------------------------------------------------
    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id:
            self._switch(event.option.id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self._switch(event.option.id)
            self._focus_section()

    def action_section(self, key: str) -> None:
        index = next(i for i, (k, _label) in enumerate(sections.SECTIONS) if k == key)
        self.query_one("#sections", OptionList).highlighted = index
        self._switch(key)

    def _switch(self, key: str) -> None:
        self.section = key
        self.query_one(ContentSwitcher).current = key
        if key == "performance":
            self.query_one(PerformanceView).refresh_graphs()
        self.refresh_bindings()

    def _focus_section(self) -> None:
        target = {"xml": "#xml-text"}.get(self.section) or (
            f"#{self.section}-table" if self.section in TABLES else f"#{self.section}"
        )
        found = self.query(target)
        if found:
            found.first().focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        where = APPLIES.get(action)
        return True if where is None else self.section in where

    def action_back(self) -> None:
        self.app.pop_screen()

    def selected(self, key: str) -> str | None:
        return self.query_one(f"#{key}-table", RowTable).cursor_key

    # -- changes (each in actions.py) -------------------------------------------------
    def _run(self, what: str, work) -> None:
        self.run_worker(
            work,
            group="change",
            exclusive=True,
            description=f"{what} ({self.guest_name})",
            exit_on_error=False,
        )

    def action_edit_title(self) -> None:
        self._run("change the title", actions.edit_title(self))

    def action_edit(self) -> None:
        self._run(f"edit {self.section}", actions.edit(self, self.section))

    def action_add(self) -> None:
        self._run(f"add to {self.section}", adding.add(self, self.section))

    def action_remove(self) -> None:
        self._run(f"remove from {self.section}", actions.remove(self, self.section))

    def action_media(self) -> None:
        self._run("change media", actions.media(self, eject=False))

    def action_eject(self) -> None:
        self._run("eject", actions.media(self, eject=True))

    def action_resize(self) -> None:
        self._run("grow a disk", actions.resize(self))

    def action_link(self) -> None:
        self._run("link up/down", actions.link(self))

    def action_apply_xml(self) -> None:
        self._run("apply the XML", actions.apply_xml(self))

    def action_reload_xml(self) -> None:
        if self.config is not None:
            self.query_one(XmlView).show(self.config, readonly=self.host.readonly, force=True)
